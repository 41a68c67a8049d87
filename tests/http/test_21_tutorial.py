"""The tutorial's three endpoints (issue 4), black-box, served from a config like
examples/tutorial/folio.toml over a `folio demo` database:

  GET /users?page=&per_page=       offset pages, Flask shape, values clamped
  GET /messages?per_page=&after=   raw keyset on the last id seen, Flask shape
  GET /items?per_page=&cursor=     signed cursors, FastAPI shape (422 validation errors)

Every body is compared exactly (status, key sets, error texts); full walks are compared
with stdlib sqlite3 on the same database file; /items is walked 10,000+ pages deep with
per_page=1 on one keep-alive connection, and a sample of the cursors it issued is tampered
with. Integer parsing on /users and /messages follows Python's int() (the originals call
it), so Python's own int() is the reference."""

import http.client
import random
from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from folio_server import Response, connect_db, is_pg_target, make_demo, make_secret, media_type, strict_json

BIG_ROWS = 10_001  # > 10,000 pages at per_page=1
JSON = "application/json"

CONFIG = """
[server]
threads = 2

[database]
{dbkey} = "{db}"

[api]
auto = true

[files]
root = "{files}"

[[cursor.keys]]
id = 1
secret_file = "{key}"

[[endpoint]]
path = "/users"
table = "users"
columns = ["id", "name"]
style = "tutorial-offset"
default_per_page = 20
max_per_page = 100

[[endpoint]]
path = "/messages"
table = "messages"
columns = ["id", "body"]
style = "tutorial-keyset"
default_per_page = 20
max_per_page = 100

[[endpoint]]
path = "/items"
table = "items"
columns = ["id", "name"]
style = "tutorial-signed"
default_per_page = 20
max_per_page = 100
"""

USERS_ERROR = {"error": "page and per_page must be integers"}
PER_PAGE_ERROR = {"error": "per_page must be integer"}
CURSOR_ERROR = {"error": "invalid cursor"}
ITEMS_CURSOR_ERROR = {"detail": "Invalid cursor"}


def write_config(directory, db, key_name):
    """A tutorial config in `directory` serving `db`, signing with its own key file."""
    files = directory / "files"
    files.mkdir(exist_ok=True)
    for name in ("a.txt", "b.txt"):
        (files / name).write_text(name)
    key = make_secret(directory / key_name)
    path = directory / f"folio-{key_name}.toml"
    dbkey = "url" if is_pg_target(db) else "path"  # [database] url: PostgreSQL
    path.write_text(CONFIG.format(db=db, dbkey=dbkey, files=files, key=key))
    return path


def serve_config(spawner, directory, db, key_name="cursor.key"):
    """`folio serve DB --listen ... --config FILE`: the conftest spawner with --config.
    secret_file=False so the config's own [[cursor.keys]] entry signs."""
    cfg = write_config(directory, db, key_name)
    return spawner(db, secret_file=False, extra_args=["--config", str(cfg)])


class Client:
    """One keep-alive HTTP/1.1 connection; get() returns (status, headers, body bytes)."""

    def __init__(self, server):
        self.server = server
        self.conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)

    def get(self, path):
        for attempt in (0, 1):
            try:
                self.conn.request("GET", path)
                resp = self.conn.getresponse()
                body = resp.read()
                # every link these pages emit is requested again when the server stops
                self.server.record_links(path, Response(resp.status, resp.msg, body))
                return resp.status, resp.msg, body
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                if attempt or not self.server.alive():
                    raise
                self.conn.close()  # the server closed an idle keep-alive: reconnect once

    def json(self, path, status=200):
        code, headers, body = self.get(path)
        assert code == status, f"GET {path}: want {status}, got {code} {body[:300]!r}"
        assert media_type(headers) == JSON, f"GET {path}: {headers.get('Content-Type')}"
        return strict_json(body)

    def close(self):
        self.conn.close()


@pytest.fixture(scope="module")
def tutorial(module_spawn, demo_db, tmp_path_factory):
    return serve_config(module_spawn, tmp_path_factory.mktemp("tutorial"), demo_db)


@pytest.fixture(scope="module")
def client(tutorial):
    c = Client(tutorial)
    yield c
    c.close()


@pytest.fixture(scope="module")
def con(demo_con):
    return demo_con


def sql(con, query, args=()):
    return [list(r) for r in con.execute(query, args)]


def rows_of(objects, keys):
    return [[o[k] for k in keys] for o in objects]


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def python_int(text):
    """What the Flask originals do with a query value: int(), or None when it raises."""
    try:
        return int(text)
    except ValueError:
        return None


def clamp(v, lo, hi):
    return max(lo, min(hi, v))


# --- /users: offset pages -------------------------------------------------------------------

def assert_users_page(body, con, page, per_page):
    assert set(body) == {"page", "per_page", "count", "users", "total_estimate"}, body
    assert all(set(u) == {"id", "name"} for u in body["users"]), body["users"][:3]
    assert all(is_int(body[k]) for k in ("page", "per_page", "count", "total_estimate")), body
    want = sql(con, "SELECT id, name FROM users ORDER BY id LIMIT ? OFFSET ?",
               (per_page, (page - 1) * per_page))
    assert (body["page"], body["per_page"]) == (page, per_page)
    assert rows_of(body["users"], ("id", "name")) == want
    assert body["count"] == len(want)
    assert body["total_estimate"] == sql(con, "SELECT count(*) FROM users")[0][0]


def test_users_defaults_to_page_1_of_20(client, con):
    assert_users_page(client.json("/users"), con, 1, 20)


@pytest.mark.parametrize("page, per_page", [(1, 1), (2, 3), (7, 13), (30, 100), (150, 20)])
def test_users_page_holds_the_rows_from_page_minus_1_times_per_page(client, con, page,
                                                                    per_page):
    assert_users_page(client.json(f"/users?page={page}&per_page={per_page}"), con, page,
                      per_page)


@pytest.mark.parametrize("query, page, per_page", [
    ("page=0", 1, 20),
    ("page=-3", 1, 20),
    ("page=-99999999999", 1, 20),
    ("per_page=0", 1, 1),
    ("per_page=-1", 1, 1),
    ("per_page=1000", 1, 100),
    ("per_page=101", 1, 100),
    ("per_page=100000000000000000000000", 1, 100),
    ("page=0&per_page=0", 1, 1),
    ("page=-3&per_page=1000", 1, 100),
    ("page=4&per_page=-1", 4, 1),
])
def test_users_clamps_page_and_per_page_instead_of_refusing(client, con, query, page, per_page):
    assert_users_page(client.json(f"/users?{query}"), con, page, per_page)


def test_users_page_past_the_end_is_empty_with_count_0(client, con):
    body = client.json("/users?page=31&per_page=100")
    assert_users_page(body, con, 31, 100)
    assert body["users"] == [] and body["count"] == 0
    assert client.json("/users?page=1000000000&per_page=100")["users"] == []


@pytest.mark.parametrize("text, value", [
    ("%205", 5), ("5%20", 5), ("%2B5", 5), ("1_0", 10), ("%091_2%09", 12), ("-0", 0),
    ("007", 7), ("1_0_0", 100),
])
def test_users_accepts_what_python_int_accepts(client, con, text, value):
    assert python_int(text.replace("%20", " ").replace("%2B", "+").replace("%09", "\t")) == value
    assert_users_page(client.json(f"/users?page=2&per_page={text}"), con, 2,
                      clamp(value, 1, 100))
    assert_users_page(client.json(f"/users?page={text}&per_page=3"), con, max(value, 1), 3)


@pytest.mark.parametrize("text", ["%0A5", "5%0A", "%0D%0A5%0D%0A", "%0B5", "%0C5"],
                         ids=["lf-before", "lf-after", "crlf", "vt", "ff"])
def test_users_accepts_any_ascii_whitespace_around_the_number_like_python_int(client, con,
                                                                             text):
    # int("5\n") == int("\x0b5") == 5: str.strip() whitespace, not only blanks and tabs
    assert_users_page(client.json(f"/users?page=2&per_page={text}"), con, 2, 5)


@pytest.mark.parametrize("text", [
    "5x", "", "1.5", "1__0", "_1", "1_", "0x10", "1e3", "%2B", "-", "--5", "%2B-5", "5-",
    "%20", "1%205", "%C2%B2", "nan", "true", "[1]",
])
@pytest.mark.parametrize("name", ["page", "per_page"])
def test_users_refuses_non_integers_with_the_exact_error(client, name, text):
    other = "per_page=5" if name == "page" else "page=2"
    assert client.json(f"/users?{other}&{name}={text}", status=400) == USERS_ERROR
    assert client.json(f"/users?{name}={text}", status=400) == USERS_ERROR


@settings(max_examples=150, deadline=None)
@given(text=st.text(alphabet=" \t+-_0123456789.x", max_size=10))
def test_users_per_page_parsing_matches_python_int(client, text):
    value = python_int(text)
    status, headers, raw = client.get(f"/users?page=1&per_page={quote(text, safe='')}")
    body = strict_json(raw)
    if value is None:
        assert (status, body) == (400, USERS_ERROR), (text, status, body)
    else:
        assert status == 200, (text, body)
        assert body["per_page"] == clamp(value, 1, 100), (text, body)
        assert body["count"] == clamp(value, 1, 100)


@pytest.mark.parametrize("per_page", [100, 7])
def test_users_page_walk_visits_every_row_once_in_id_order(client, con, per_page):
    seen, page = [], 1
    while True:
        body = client.json(f"/users?page={page}&per_page={per_page}")
        assert body["page"] == page and body["count"] == len(body["users"])
        if not body["users"]:
            break
        seen.extend(rows_of(body["users"], ("id", "name")))
        page += 1
    assert seen == sql(con, "SELECT id, name FROM users ORDER BY id")
    assert page - 1 == -(-len(seen) // per_page)


# --- /messages: raw keyset on the last id --------------------------------------------------

def assert_messages_page(body, con, after, per_page):
    assert set(body) == {"per_page", "messages", "next_cursor"}, body
    assert all(set(m) == {"id", "body"} for m in body["messages"]), body["messages"][:3]
    want = sql(con, "SELECT id, body FROM messages WHERE id > ? ORDER BY id LIMIT ?",
               (after, per_page))
    assert body["per_page"] == per_page and is_int(body["per_page"])
    assert rows_of(body["messages"], ("id", "body")) == want
    if want:
        assert body["next_cursor"] == want[-1][0] and is_int(body["next_cursor"])
    else:
        assert body["next_cursor"] is None


def test_messages_defaults_to_20_from_the_start(client, con):
    assert_messages_page(client.json("/messages"), con, -1, 20)


@pytest.mark.parametrize("query, after, per_page", [
    ("per_page=0", -1, 1), ("per_page=-1", -1, 1), ("per_page=1000", -1, 100),
    ("per_page=%2B3&after=41", 41, 3), ("per_page=1_0&after=2995", 2995, 10),
    ("after=-5&per_page=3", -5, 3), ("after=0", 0, 20), ("after=2999", 2999, 20),
])
def test_messages_clamps_per_page_and_starts_after_the_given_id(client, con, query, after,
                                                                per_page):
    assert_messages_page(client.json(f"/messages?{query}"), con, after, per_page)


def test_messages_after_the_last_id_is_an_empty_page_with_null_cursor(client, con):
    body = client.json("/messages?after=3000")
    assert body == {"per_page": 20, "messages": [], "next_cursor": None}
    assert client.json("/messages?after=9000000&per_page=5")["next_cursor"] is None


@pytest.mark.parametrize("text", ["x", "5x", "1.5", "", "0x10", "1__0", "%20"])
def test_messages_refuses_a_non_integer_per_page_exactly(client, text):
    assert client.json(f"/messages?per_page={text}", status=400) == PER_PAGE_ERROR
    assert client.json(f"/messages?per_page={text}&after=5", status=400) == PER_PAGE_ERROR


@pytest.mark.parametrize("text", ["x", "5x", "1.5", "abc%3D%3D", "1__0", "null", "%20"])
def test_messages_refuses_a_non_integer_after_exactly(client, text):
    assert client.json(f"/messages?after={text}", status=400) == CURSOR_ERROR
    assert client.json(f"/messages?per_page=5&after={text}", status=400) == CURSOR_ERROR


@pytest.mark.parametrize("text, after", [("%2B41", 41), ("%2041", 41), ("41%20", 41),
                                         ("4_1", 41)])
def test_messages_after_is_parsed_like_python_int(client, con, text, after):
    # the original does int(after): "+41", " 41" and "4_1" are the id 41
    assert_messages_page(client.json(f"/messages?per_page=3&after={text}"), con, after, 3)


@pytest.mark.parametrize("per_page", [100, 7])
def test_messages_cursor_walk_visits_every_row_once_in_id_order(client, con, per_page):
    seen, url, pages = [], f"/messages?per_page={per_page}", 0
    while True:
        body = client.json(url)
        pages += 1
        if not body["messages"]:
            assert body["next_cursor"] is None
            break
        seen.extend(rows_of(body["messages"], ("id", "body")))
        url = f"/messages?per_page={per_page}&after={body['next_cursor']}"
    assert seen == sql(con, "SELECT id, body FROM messages ORDER BY id")
    assert pages == -(-len(seen) // per_page) + 1


# --- /items: signed cursors, FastAPI shape --------------------------------------------------

def assert_items_page(body, want_rows):
    assert set(body) == {"items", "next_cursor"}, body
    assert all(set(i) == {"id", "name"} for i in body["items"]), body["items"][:3]
    assert rows_of(body["items"], ("id", "name")) == want_rows
    if want_rows:
        assert isinstance(body["next_cursor"], str) and body["next_cursor"]
    else:
        assert body["next_cursor"] is None


def fastapi_error(kind, text, msg, ctx=None):
    err = {"type": kind, "loc": ["query", "per_page"], "msg": msg, "input": text}
    if ctx is not None:
        err["ctx"] = ctx
    return {"detail": [err]}


def test_items_defaults_to_20_from_the_start(client, con):
    assert_items_page(client.json("/items"), sql(con, "SELECT id, name FROM items "
                                                      "ORDER BY id LIMIT 20"))


@pytest.mark.parametrize("query", ["cursor=", "cursor", "per_page=5&cursor=", "cursor=&x=1"])
def test_items_empty_cursor_is_the_first_page_as_in_fastapi(client, con, query):
    # the original does `if cursor:`; an empty string is falsy there (issue 10 item 11)
    per_page = 5 if "per_page" in query else 20
    body = client.json(f"/items?{query}")
    assert_items_page(body, sql(con, f"SELECT id, name FROM items ORDER BY id LIMIT {per_page}"))
    assert body == client.json(f"/items?per_page={per_page}")


@pytest.mark.parametrize("query", ["after=", "after", "per_page=3&after="])
def test_messages_empty_after_is_the_first_page_like_the_cursor_test(client, con, query):
    # the same truth test as /items' cursor: an empty after= starts at the beginning
    per_page = 3 if "per_page" in query else 20
    assert_messages_page(client.json(f"/messages?{query}"), con, -1, per_page)


@pytest.mark.parametrize("text, body", [
    ("0", fastapi_error("greater_than_equal", "0", "Input should be greater than or equal to 1",
                        {"ge": 1})),
    ("-1", fastapi_error("greater_than_equal", "-1",
                         "Input should be greater than or equal to 1", {"ge": 1})),
    ("101", fastapi_error("less_than_equal", "101", "Input should be less than or equal to 100",
                          {"le": 100})),
    ("1000", fastapi_error("less_than_equal", "1000",
                           "Input should be less than or equal to 100", {"le": 100})),
    ("x", fastapi_error("int_parsing", "x", "Input should be a valid integer, unable to parse "
                                            "string as an integer")),
    ("1.5", fastapi_error("int_parsing", "1.5", "Input should be a valid integer, unable to "
                                                "parse string as an integer")),
    ("", fastapi_error("int_parsing", "", "Input should be a valid integer, unable to parse "
                                          "string as an integer")),
])
def test_items_refuses_per_page_outside_1_to_100_with_fastapi_422(client, text, body):
    assert client.json(f"/items?per_page={text}", status=422) == body


def test_items_422_wins_over_a_bad_cursor_and_has_the_fastapi_keys(client):
    body = client.json("/items?per_page=0&cursor=garbage", status=422)
    assert set(body) == {"detail"} and len(body["detail"]) == 1
    assert {"type", "loc", "msg", "input"} <= set(body["detail"][0])
    assert body["detail"][0]["loc"] == ["query", "per_page"]


@pytest.mark.parametrize("per_page", [100, 13])
def test_items_cursor_walk_visits_every_row_once_including_null_names(client, con, per_page):
    want = sql(con, "SELECT id, name FROM items ORDER BY id")
    assert any(name is None for _, name in want), "the demo should have NULL names"
    seen, url, pages = [], f"/items?per_page={per_page}", 0
    while True:
        body = client.json(url)
        pages += 1
        expect = want[len(seen):len(seen) + per_page]
        assert_items_page(body, expect)
        if not body["items"]:
            break
        seen.extend(rows_of(body["items"], ("id", "name")))
        url = f"/items?per_page={per_page}&cursor={body['next_cursor']}"
    assert seen == want
    assert pages == -(-len(want) // per_page) + 1


def test_items_cursor_keeps_working_with_another_page_size(client, con):
    first = client.json("/items?per_page=5")
    body = client.json(f"/items?per_page=50&cursor={first['next_cursor']}")
    assert_items_page(body, sql(con, "SELECT id, name FROM items WHERE id > 5 ORDER BY id "
                                     "LIMIT 50"))


# --- /items: 10,000 pages deep, every issued cursor verifies, tampered ones never do ---------

@pytest.fixture(scope="module")
def big_db(folio, backend, tmp_path_factory):
    return make_demo(tmp_path_factory.mktemp("bigdemo") / "big.db", BIG_ROWS, backend)


def flip(token, i):
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    return token[:i] + alphabet[(alphabet.index(token[i]) + 17) % 64] + token[i + 1:]


def test_items_walk_of_10001_pages_accepts_every_cursor_and_refuses_tampered_ones(
        module_spawn, big_db, tmp_path_factory):
    d = tmp_path_factory.mktemp("big")
    server = serve_config(module_spawn, d, big_db, "big.key")
    stranger = serve_config(module_spawn, d, big_db, "stranger.key")
    con = connect_db(big_db)
    try:
        want = sql(con, "SELECT id, name FROM items ORDER BY id")
    finally:
        con.close()
    assert len(want) == BIG_ROWS

    c = Client(server)
    tokens, seen, url = [], [], "/items?per_page=1"
    try:
        while True:
            status, headers, raw = c.get(url)
            assert status == 200, (f"page {len(tokens) + 1}: cursor {url} was issued by the "
                                   f"server but refused: {status} {raw[:200]!r}")
            body = strict_json(raw)
            if not body["items"]:
                assert body == {"items": [], "next_cursor": None}
                break
            assert len(body["items"]) == 1 and set(body) == {"items", "next_cursor"}
            seen.append([body["items"][0]["id"], body["items"][0]["name"]])
            tokens.append(body["next_cursor"])
            url = f"/items?per_page=1&cursor={body['next_cursor']}"
        assert seen == want, "the walk must visit every row once, in id order"
        assert len(tokens) == BIG_ROWS and len(set(tokens)) == BIG_ROWS

        rng = random.Random(4)
        sample = rng.sample(range(len(tokens)), 40)
        bad = []
        for k in sample:
            tok = tokens[k]
            for i in sorted(rng.sample(range(len(tok)), 6)) + [0, len(tok) - 1]:
                bad.append(flip(tok, i))
            bad += [tok[:-1], tok[:-4], tok[:len(tok) // 2], tok + "A", tok[1:]]
        for tok in bad:
            status, _, raw = c.get(f"/items?per_page=1&cursor={tok}")
            assert (status, strict_json(raw)) == (400, ITEMS_CURSOR_ERROR), (tok, raw[:200])

        sc = Client(stranger)
        try:
            foreign = sc.json("/items?per_page=1")["next_cursor"]
            assert sc.json(f"/items?per_page=1&cursor={foreign}")["items"][0]["id"] == 2
            for _ in range(3):
                foreign = sc.json(f"/items?per_page=7&cursor={foreign}")["next_cursor"]
                assert c.json(f"/items?per_page=1&cursor={foreign}", status=400) == \
                    ITEMS_CURSOR_ERROR
        finally:
            sc.close()
        assert c.json(f"/items?cursor={tokens[0]}")["items"][0]["id"] == 2  # still fine
    finally:
        c.close()


def test_items_refuses_tokens_that_are_not_cursors(client):
    # not "": the original tests `if cursor:`, and an empty cursor is the first page
    for tok in ["x", "AAAA", "AQEA", "a" * 400, "!!!!", "AQEA%2B%2F%2F", "null", "%20"]:
        assert client.json(f"/items?cursor={tok}", status=400) == ITEMS_CURSOR_ERROR, tok


@pytest.mark.parametrize("url, status, body", [
    ("/users?page=%00", 400, USERS_ERROR),
    ("/users?per_page=5%00", 400, USERS_ERROR),
    ("/messages?per_page=%00", 400, PER_PAGE_ERROR),
    ("/messages?after=5%00", 400, CURSOR_ERROR),
    ("/items?cursor=%00", 400, ITEMS_CURSOR_ERROR),
])
def test_a_nul_byte_in_a_value_gets_the_tutorial_error_body(client, url, status, body):
    # int("5\x00") raises ValueError in the originals: the usual error, in the usual shape
    assert client.json(url, status=status) == body


def test_items_and_files_refuse_each_others_cursors(client):
    files = client.json("/files?per_page=1")
    assert files["files"] == ["a.txt"] and files["next"] is not None
    files_token = files["next"].split("after=", 1)[1]
    assert client.json(files["next"])["files"] == ["b.txt"]
    assert client.json(f"/items?cursor={files_token}", status=400) == ITEMS_CURSOR_ERROR

    items_token = client.json("/items?per_page=1")["next_cursor"]
    assert client.json(f"/items?per_page=1&cursor={items_token}")["items"][0]["id"] == 2
    code, headers, _ = client.get(f"/files?after={items_token}")
    assert code == 400 and media_type(headers) == "application/problem+json"


# --- shapes -------------------------------------------------------------------------------

@pytest.mark.parametrize("url, status, keys", [
    ("/users?page=2&per_page=3", 200, {"page", "per_page", "count", "users", "total_estimate"}),
    ("/users?page=x", 400, {"error"}),
    ("/messages?per_page=3", 200, {"per_page", "messages", "next_cursor"}),
    ("/messages?after=x", 400, {"error"}),
    ("/messages?per_page=x", 400, {"error"}),
    ("/items?per_page=3", 200, {"items", "next_cursor"}),
    ("/items?per_page=0", 422, {"detail"}),
    ("/items?cursor=x", 400, {"detail"}),
])
def test_tutorial_responses_are_plain_json_without_links(client, url, status, keys):
    code, headers, raw = client.get(url)
    assert code == status, raw[:300]
    assert media_type(headers) == JSON
    assert headers.get_all("Link") is None, f"{url}: tutorial shapes carry no Link header"
    body = strict_json(raw)
    assert set(body) == keys, body
    for v in body.values():
        if isinstance(v, list) and v and isinstance(v[0], dict) and "id" in v[0]:
            assert all(len(row) == 2 and is_int(row["id"]) for row in v), v[:3]
