"""Offset and first pages of GET /api/{table}: rows, meta, links, JSON value types, GET /.

The reference answer is always stdlib sqlite3 on the same file the server reads."""

import math
import struct
import urllib.parse

import pytest

from folio_api import (CURSOR_RE, api, assert_link_sort, assert_page, assert_problem,
                       assert_rows, expected_rows, link_header, param, table_columns)
from folio_server import as_backend, connect_db, make_db, media_type

DEMO_TABLES = ("users", "messages", "items", "events")


def per_page_of(url):
    return param(url, "per_page") or param(url, "limit")


# --- first page and per_page ------------------------------------------------------------

def test_first_page_defaults_to_20_rows_in_primary_key_order(demo_server, demo_con):
    for table in DEMO_TABLES:
        r = demo_server.get(f"/api/{table}")
        body = assert_page(r, table)
        assert_rows(body["data"], expected_rows(demo_con, table, limit=20), table)
        meta, links = body["meta"], body["links"]
        assert meta["per_page"] == 20
        assert meta["has_more"] is True and meta["has_prev"] is False
        assert links["prev"] is None
        cursor = param(links["next"], "after")
        assert cursor and CURSOR_RE.match(cursor), f"next link without an after cursor: {links}"
        assert param(links["next"], "page") is None and param(links["next"], "offset") is None


def test_rows_carry_every_column_in_table_order(demo_server, demo_con):
    for table in DEMO_TABLES:
        body = assert_page(demo_server.get(api(table, per_page=3)), table)
        names = [c for c, _ in table_columns(demo_con, table)]
        assert len(body["data"]) == 3, f"{table}: {len(body['data'])} rows, want 3"
        for row in body["data"]:
            assert list(row) == names, f"{table}: row keys {list(row)} != columns {names}"


@pytest.mark.parametrize("asked", ["101", "1000", "2147483648", "100"])
def test_per_page_above_100_is_clamped_to_100(demo_server, demo_con, asked):
    body = assert_page(demo_server.get(f"/api/users?per_page={asked}"))
    assert body["meta"]["per_page"] == 100
    assert_rows(body["data"], expected_rows(demo_con, "users", limit=100))


@pytest.mark.parametrize("n", [1, 2, 7, 99])
def test_per_page_returns_that_many_rows(demo_server, demo_con, n):
    body = assert_page(demo_server.get(f"/api/users?per_page={n}"))
    assert body["meta"]["per_page"] == n
    assert_rows(body["data"], expected_rows(demo_con, "users", limit=n))


def test_limit_is_an_alias_of_per_page(demo_server, demo_con):
    a = assert_page(demo_server.get("/api/messages?limit=7"))
    b = assert_page(demo_server.get("/api/messages?per_page=7"))
    assert a["meta"]["per_page"] == 7
    assert a["data"] == b["data"]
    assert_rows(a["data"], expected_rows(demo_con, "messages", limit=7))
    assert per_page_of(a["links"]["next"]) == "7", a["links"]
    clamped = assert_page(demo_server.get("/api/messages?limit=500"))
    assert clamped["meta"]["per_page"] == 100 and len(clamped["data"]) == 100


# --- offset pages vs sqlite -------------------------------------------------------------

OFFSET_CASES = [
    ("users", None, 20),
    ("users", "-created_at", 13),
    ("users", "name,-id", 50),
    ("users", "email", 30),
    ("messages", "-id", 100),
    ("messages", "created_at,-id", 9),
    ("items", "category,price", 25),
    ("items", "-category,-price", 17),
    ("items", "name,category", 40),
    ("items", "-price,name", 11),
    ("events", "created_at", 20),
    ("events", "-created_at,kind", 33),
    ("events", "kind,-created_at,payload", 8),
]


@pytest.mark.parametrize("table,sort,per_page", OFFSET_CASES)
def test_offset_pages_match_sqlite_order_by_limit_offset(demo_server, demo_con, table, sort, per_page):
    total = demo_con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    last = max(1, math.ceil(total / per_page))
    for page in sorted({1, 2, 3, last // 2, last - 1, last} - {0}):
        url = api(table, sort=sort, per_page=per_page, page=page)
        body = assert_page(demo_server.get(url), url)
        want = expected_rows(demo_con, table, sort, limit=per_page, offset=(page - 1) * per_page)
        assert_rows(body["data"], want, url)
        meta = body["meta"]
        assert meta["page"] == page and meta["offset"] == (page - 1) * per_page, (url, meta)
        assert meta["has_prev"] is (page > 1), (url, meta)
        assert meta["has_more"] is (page * per_page < total), (url, meta)


@pytest.mark.parametrize("offset", [0, 1, 7, 19, 20, 1234, 2990, 2999])
def test_offset_starts_at_that_row(demo_server, demo_con, offset):
    url = api("items", sort="category,price", per_page=20, offset=offset)
    body = assert_page(demo_server.get(url), url)
    assert_rows(body["data"], expected_rows(demo_con, "items", "category,price", 20, offset), url)
    meta = body["meta"]
    assert meta["offset"] == offset and meta["page"] == offset // 20 + 1, meta
    assert meta["has_prev"] is (offset > 0), meta
    assert meta["has_more"] is (offset + 20 < 3000), meta


@pytest.mark.parametrize("page,per_page", [(1, 20), (2, 20), (17, 13), (150, 20), (30, 100)])
def test_page_and_offset_select_the_same_rows(demo_server, page, per_page):
    by_page = assert_page(demo_server.get(api("events", sort="-created_at", per_page=per_page, page=page)))
    by_offset = assert_page(demo_server.get(
        api("events", sort="-created_at", per_page=per_page, offset=(page - 1) * per_page)))
    assert by_page["data"] == by_offset["data"]
    for key in ("page", "offset", "has_more", "has_prev", "per_page"):
        assert by_page["meta"][key] == by_offset["meta"][key], (by_page["meta"], by_offset["meta"])


# offset=100000 is the default max_offset (deeper offsets are refused: test_07)
@pytest.mark.parametrize("query", ["page=151", "page=1000", "offset=3000", "offset=100000"])
def test_page_past_the_end_is_an_empty_200(demo_server, query):
    body = assert_page(demo_server.get(f"/api/users?per_page=20&{query}"), query)
    assert body["data"] == []
    assert body["meta"]["has_more"] is False and body["links"]["next"] is None
    # rows exist before such a page, so it has a previous page
    assert body["meta"]["has_prev"] is True and body["links"]["prev"] is not None


@pytest.mark.parametrize("query", ["page=9223372036854775807", "offset=9223372036854775807",
                                   "page=4611686018427387904&per_page=100"])
def test_huge_page_numbers_never_overflow(demo_server, query):
    r = demo_server.get(f"/api/users?{query}")
    if r.status == 200:
        body = assert_page(r, query)
        assert body["data"] == [] and body["meta"]["has_more"] is False
    else:
        assert_problem(r, 400, param=("page", "offset", "per_page"), what=query)


def test_last_row_alone_on_a_page(demo_server, demo_con):
    body = assert_page(demo_server.get("/api/users?offset=2999"))
    assert_rows(body["data"], expected_rows(demo_con, "users", limit=20, offset=2999))
    assert len(body["data"]) == 1 and body["meta"]["has_more"] is False


# --- meta and links ---------------------------------------------------------------------

def follow(server, url):
    return assert_page(server.get(url), url)


def test_offset_links_on_first_middle_and_last_pages(demo_server, demo_con):
    sort = "-created_at,name"
    want = expected_rows(demo_con, "users", sort)
    pages = [want[i:i + 20] for i in range(0, len(want), 20)]
    assert len(pages) == 150

    first = follow(demo_server, api("users", sort=sort, per_page=20, page=1))
    assert_rows(first["data"], pages[0])
    assert first["meta"]["has_prev"] is False and first["links"]["prev"] is None
    assert first["meta"]["has_more"] is True
    assert_rows(follow(demo_server, first["links"]["next"])["data"], pages[1], "page 1 next")

    mid = follow(demo_server, api("users", sort=sort, per_page=20, page=75))
    assert_rows(mid["data"], pages[74])
    assert mid["meta"]["has_prev"] is True and mid["meta"]["has_more"] is True
    nxt = follow(demo_server, mid["links"]["next"])
    assert_rows(nxt["data"], pages[75], "page 75 next")
    assert nxt["meta"].get("page") == 76, nxt["meta"]
    prv = follow(demo_server, mid["links"]["prev"])
    assert_rows(prv["data"], pages[73], "page 75 prev")
    assert prv["meta"].get("page") == 74, prv["meta"]
    assert follow(demo_server, mid["links"]["self"])["data"] == mid["data"]
    assert_rows(follow(demo_server, mid["links"]["first"])["data"], pages[0], "first link")

    last = follow(demo_server, api("users", sort=sort, per_page=20, page=150))
    assert_rows(last["data"], pages[149])
    assert last["meta"]["has_more"] is False and last["links"]["next"] is None
    assert_rows(follow(demo_server, last["links"]["prev"])["data"], pages[148], "last prev")

    for body in (first, mid, last):
        for rel, url in body["links"].items():
            if url is None:
                continue
            assert_link_sort(url, sort, what=rel)
            assert per_page_of(url) == "20", f"{rel} link lost per_page: {url}"


def test_offset_mode_links_walk_through_an_unaligned_offset(demo_server, demo_con):
    want = expected_rows(demo_con, "messages", "-created_at")
    body = follow(demo_server, api("messages", sort="-created_at", per_page=10, offset=25))
    assert_rows(body["data"], want[25:35])
    assert body["meta"]["page"] == 3 and body["meta"]["offset"] == 25
    assert_rows(follow(demo_server, body["links"]["next"])["data"], want[35:45], "next of offset=25")
    assert_rows(follow(demo_server, body["links"]["prev"])["data"], want[15:25], "prev of offset=25")


def test_keyset_first_page_links_lead_forward_and_back(demo_server, demo_con):
    want = expected_rows(demo_con, "events", "created_at")
    first = follow(demo_server, api("events", sort="created_at", per_page=15))
    assert_rows(first["data"], want[:15])
    second = follow(demo_server, first["links"]["next"])
    assert_rows(second["data"], want[15:30], "next")
    assert second["meta"]["has_prev"] is True and second["meta"]["has_more"] is True
    assert param(second["links"]["prev"], "before"), second["links"]
    assert param(second["links"]["next"], "after"), second["links"]
    for rel in ("self", "first", "next", "prev"):
        assert_link_sort(second["links"][rel], "created_at", what=rel)
        assert per_page_of(second["links"][rel]) == "15", second["links"]
    back = follow(demo_server, second["links"]["prev"])
    assert_rows(back["data"], want[:15], "prev of page 2")
    assert back["meta"]["has_prev"] is False and back["links"]["prev"] is None
    assert back["meta"]["has_more"] is True
    assert follow(demo_server, second["links"]["self"])["data"] == second["data"]
    assert_rows(follow(demo_server, second["links"]["first"])["data"], want[:15], "first")


def test_keyset_pages_of_exactly_per_page_rows_end_without_an_empty_page(demo_server, demo_con):
    want = expected_rows(demo_con, "users")
    got, url, pages = [], "/api/users?per_page=100", 0
    while url:
        body = follow(demo_server, url)
        pages += 1
        got += body["data"]
        url = body["links"]["next"]
        assert pages <= 31, "walk does not end"
    assert pages == 30, "3000 rows at 100 per page are 30 pages, the last with has_more false"
    assert_rows(got, want)


def test_link_header_lists_the_same_links(demo_server):
    for url in ("/api/users?per_page=5", "/api/users?per_page=5&page=3", "/api/users?page=150"):
        r = demo_server.get(url)
        body = assert_page(r, url)  # compares the Link header with body links
        rels = link_header(r)
        assert {"self", "first"} <= set(rels), rels
        assert ("next" in rels) == body["meta"]["has_more"]
        assert ("prev" in rels) == body["meta"]["has_prev"]


def test_head_returns_headers_without_a_body(demo_server):
    r = demo_server.head("/api/users?per_page=3")
    assert r.status == 200
    assert media_type(r.headers) == "application/json"
    assert r.body == b""


# --- value types ------------------------------------------------------------------------

TYPED_SCRIPT = """
CREATE TABLE typed(id INTEGER PRIMARY KEY, i INTEGER, r REAL, s TEXT, b BLOB);
CREATE TABLE "my table"("select" INTEGER PRIMARY KEY, "group" TEXT, "a""b" TEXT);
INSERT INTO "my table" VALUES (1, 'x', 'q"uote'), (2, 'y', NULL);
CREATE TABLE empty(id INTEGER PRIMARY KEY, v TEXT);
"""

TYPED_ROWS = [
    (1, 9223372036854775807, 0.1, "héllo wörld ✓ 😀 中文", b"\x00\xff\x10\xfb\xff\xbf"),
    (2, -9223372036854775808, 1e300, "".join(map(chr, (1, 8, 9, 10, 12, 13, 27, 31, 127))) + '"\\/', b""),
    (3, -1, -0.0, "", b"\xfb\xff"),
    (4, None, None, None, None),
    (5, 0, 5e-324, "\u2028\u2029 line seps", b"\x00"),
    (6, 9007199254740993, 1.7976931348623157e308, "tab\tand\\back", bytes(range(256))),
    (7, 42, 0.30000000000000004, "<script>&amp;</script>", b"abc"),
    (8, -9223372036854775807, 2.2250738585072014e-308, "\U0010ffff", b"ab"),
    (9, 1, 1.2345678901234568e20, "x" * 5000, b"a"),
    (10, 2, 1.0 / 3, "quote \" inside", None),
    (11, -42, -1.5e-7, "zero", None),
    (12, 3, 3.0, "three", None),
    (13, 4, 123456789.123456789, "big", None),
    (14, 5, -2.5, "neg", None),
]


@pytest.fixture(scope="module")
def typed_db(backend, tmp_path_factory):
    """The typed tables in SQLite, or a PostgreSQL copy of them (bigint, double precision,
    text, bytea; text that PostgreSQL cannot hold, NUL and invalid UTF-8, becomes U+FFFD)."""
    path = make_db(tmp_path_factory.mktemp("typed") / "typed.db", TYPED_SCRIPT)
    con = connect_db(path)
    con.executemany("INSERT INTO typed VALUES (?, ?, ?, ?, ?)", TYPED_ROWS)
    # TEXT that is not valid UTF-8 can only be stored with a CAST
    con.executescript("""
        INSERT INTO typed VALUES (100, 0, 0.0, CAST(x'ff61' AS TEXT), NULL);
        INSERT INTO typed VALUES (101, 0, 0.0, CAST(x'61c3' AS TEXT), NULL);
        INSERT INTO typed VALUES (102, 0, 0.0, CAST(x'eda080' AS TEXT), NULL);
        INSERT INTO typed VALUES (103, 0, 0.0, CAST(x'f4908080' AS TEXT), NULL);
        INSERT INTO typed VALUES (104, 0, 0.0, CAST(x'c0af' AS TEXT), NULL);
        INSERT INTO typed VALUES (105, 0, 0.0, CAST(x'6162e282' AS TEXT), NULL);
        INSERT INTO typed VALUES (200, 0, 0.0, 'a' || char(0) || 'b', NULL);
    """)
    con.commit()
    con.close()
    return as_backend(backend, path)


@pytest.fixture(scope="module")
def typed_server(module_spawn, typed_db):
    # sorts by unindexed columns: the engine is under test, not the sort policy
    return module_spawn(typed_db, any_sort=True)


def typed_rows(server, lo, hi):
    body = assert_page(server.get("/api/typed?per_page=100&offset=0"))
    return {row["id"]: row for row in body["data"] if lo <= row["id"] <= hi}


def test_integers_are_exact_json_integers(typed_server):
    rows = typed_rows(typed_server, 1, 99)
    for rid, i, *_ in TYPED_ROWS:
        got = rows[rid]["i"]
        if i is None:
            assert got is None
        else:
            assert type(got) is int and got == i, f"id {rid}: i={got!r}, want {i}"


def test_reals_round_trip_exactly(typed_server):
    rows = typed_rows(typed_server, 1, 99)
    for rid, _, r, *_ in TYPED_ROWS:
        got = rows[rid]["r"]
        if r is None:
            assert got is None
            continue
        assert isinstance(got, (int, float)) and not isinstance(got, bool), f"id {rid}: {got!r}"
        assert float(got) == r, f"id {rid}: r={got!r}, want {r!r}"
        if isinstance(got, float) and r != 0:
            assert struct.pack("<d", got) == struct.pack("<d", r), f"id {rid}: {got!r} != {r!r}"


def test_text_is_a_json_string_with_control_characters_escaped(typed_server):
    rows = typed_rows(typed_server, 1, 99)  # strict_json rejects raw control characters
    for rid, _, _, s, _ in TYPED_ROWS:
        assert rows[rid]["s"] == s, f"id {rid}: s={rows[rid]['s']!r}, want {s!r}"


def test_blobs_are_standard_base64(typed_server):
    import base64
    rows = typed_rows(typed_server, 1, 99)
    for rid, *_, b in TYPED_ROWS:
        want = None if b is None else base64.b64encode(b).decode()
        assert rows[rid]["b"] == want, f"id {rid}: b={rows[rid]['b']!r}, want {want!r}"


@pytest.mark.sqlite_only  # PostgreSQL text is always valid UTF-8
def test_invalid_utf8_sqlite_text_becomes_replacement_characters(typed_server):
    rows = typed_rows(typed_server, 100, 199)  # the body itself must be valid UTF-8
    assert rows[100]["s"] == "\ufffda", rows[100]
    assert rows[101]["s"].startswith("a") and "\ufffd" in rows[101]["s"], rows[101]
    assert rows[105]["s"].startswith("ab") and "\ufffd" in rows[105]["s"], rows[105]
    for rid in (102, 103, 104):
        s = rows[rid]["s"]
        assert s and set(s) == {"\ufffd"}, f"id {rid}: {s!r} should be only U+FFFD"
    for row in rows.values():
        row["s"].encode("utf-8")  # no lone surrogates smuggled in via \ud800 escapes
    assert "/" not in rows[104]["s"], "overlong encoding of '/' must not decode to '/'"


@pytest.mark.sqlite_only  # PostgreSQL text cannot hold NUL
def test_sqlite_text_with_an_embedded_nul_is_not_truncated(typed_server):
    rows = typed_rows(typed_server, 200, 200)
    assert rows[200]["s"] == "a\u0000b", rows[200]


def test_empty_table_is_an_empty_first_page(typed_server):
    for url in ("/api/empty", "/api/empty?page=1", "/api/empty?sort=-v"):
        body = assert_page(typed_server.get(url), url)
        assert body["data"] == []
        assert body["meta"]["has_more"] is False and body["meta"]["has_prev"] is False
        assert body["links"]["next"] is None and body["links"]["prev"] is None


def test_table_and_column_names_that_need_quoting(typed_server):
    body = assert_page(typed_server.get("/api/my%20table?sort=-group"))
    assert body["data"] == [{"select": 2, "group": "y", "a\"b": None},
                            {"select": 1, "group": "x", "a\"b": "q\"uote"}]


# --- GET / ------------------------------------------------------------------------------

def check_listing(server, con):
    r = server.get("/")
    assert r.status == 200 and media_type(r.headers) == "application/json", r
    body = r.json()
    tables = body["tables"]
    if getattr(con, "backend", "sqlite") == "pg":
        want = [row[0] for row in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")]
    else:
        want = [row[0] for row in con.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'")]
    assert sorted(t["name"] for t in tables) == sorted(want)
    for t in tables:
        cols = [{"name": n, "type": ty} for n, ty in table_columns(con, t["name"])]
        got = [{"name": c.get("name"), "type": c.get("type")} for c in t["columns"]]
        assert got == cols, f"{t['name']}: {t['columns']} != {cols}"
        first = t["links"]["first"]
        assert urllib.parse.unquote(first) == f"/api/{t['name']}", first
        page = assert_page(server.get(first), first)
        assert page["meta"]["has_prev"] is False
    return tables


def test_root_lists_every_table_with_its_columns(demo_server, demo_con, backend):
    tables = check_listing(demo_server, demo_con)
    names = [t["name"] for t in tables]
    assert set(DEMO_TABLES) <= set(names)
    users = next(t for t in tables if t["name"] == "users")
    assert users["links"]["first"] == "/api/users"
    want_type = "INTEGER" if backend == "sqlite" else "bigint"  # declared / format_type()
    assert users["columns"][0]["name"] == "id" and users["columns"][0]["type"] == want_type


def test_root_lists_tables_with_odd_names(typed_server, typed_db):
    con = connect_db(typed_db)
    try:
        check_listing(typed_server, con)
    finally:
        con.close()


# --- folio demo ---------------------------------------------------------------------------

def test_demo_database_has_the_documented_shape(demo_db, demo_con, backend):
    from conftest import DEMO_ROWS
    if backend == "sqlite":
        assert demo_con.execute("PRAGMA journal_mode").fetchone()[0].lower() == "wal"
    for table in DEMO_TABLES:
        ids = [r[0] for r in demo_con.execute(f"SELECT id FROM {table} ORDER BY id")]
        assert ids == list(range(1, DEMO_ROWS + 1)), f"{table}: ids are not 1..{DEMO_ROWS}"
    cols = {t: [c for c, _ in table_columns(demo_con, t)] for t in DEMO_TABLES}
    assert cols == {"users": ["id", "name", "email", "created_at"],
                    "messages": ["id", "body", "created_at"],
                    "items": ["id", "name", "price", "category"],
                    "events": ["id", "created_at", "kind", "payload"]}
    one = lambda sql: demo_con.execute(sql).fetchone()[0]  # noqa: E731
    assert one("SELECT count(*) FROM items WHERE name IS NULL") > 0
    assert one("SELECT count(*) FROM items WHERE category IS NULL") > 0
    assert one("SELECT count(*) - count(DISTINCT created_at) FROM events") > DEMO_ROWS // 10
