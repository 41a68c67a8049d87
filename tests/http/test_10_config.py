"""folio serve --config and folio check-config, black-box: allowlisted columns never leak,
filterable and sortable lists are enforced, full walks equal SQLite, cursor key rotation
and encrypted cursors, and the checker's exit statuses and FILE:LINE:COL messages.

The reference answer is stdlib sqlite3 on the same database file the server reads."""

import base64
import os
import subprocess
import tomllib
import urllib.parse

import pytest

from folio_api import assert_page, assert_problem, assert_rows, json_value, param
from folio_server import (FolioServer, as_backend, check_sanitizer_output, connect_db, folio_bin, is_pg_target, make_db,
                          make_secret, sanitizer_env)

NEEDLE = "zz-NEEDLE-value-7d1f3c"  # a distinctive text sort key for the encryption test
CATEGORIES = ("books", "toys", "garden", "music", "tools")


def _items_sql():
    rows = []
    for i in range(1, 401):
        name = f"item {i % 37:02d}"  # duplicates: the id tiebreaker matters
        price = "NULL" if i % 23 == 0 else f"{(i * 7919) % 250 + (0.5 if i % 3 == 0 else 0)}"
        category = "NULL" if i % 19 == 0 else f"'{CATEGORIES[i % len(CATEGORIES)]}'"
        rows.append(f"({i}, '{name}', {price}, {category})")
    rows.append(f"(401, '{NEEDLE}', 150, 'books')")
    users = ", ".join(f"({i}, 'user {i}')" for i in range(1, 46))
    return ("CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT, price REAL, category TEXT);"
            "CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT NOT NULL);"
            "CREATE TABLE tags(name TEXT, note TEXT);"
            f"INSERT INTO items VALUES {', '.join(rows)};"
            f"INSERT INTO users VALUES {users};"
            "INSERT INTO tags VALUES ('a', 'x'), ('b', 'y');")


@pytest.fixture(scope="module")
def cfg_dir(tmp_path_factory):
    """A directory with app.db and two key files; config files are written into it."""
    d = tmp_path_factory.mktemp("config")
    make_db(d / "app.db", _items_sql())
    make_secret(d / "a.key")
    make_secret(d / "b.key")
    return d


@pytest.fixture(scope="module")
def app_db(backend, cfg_dir):
    """app.db itself, or the URL of its PostgreSQL copy (`tags` has no primary key there)."""
    return as_backend(backend, cfg_dir / "app.db")


@pytest.fixture(scope="module")
def con(app_db):
    c = connect_db(app_db)
    yield c
    c.close()


SQLITE_DATABASE = '[database]\npath = "app.db"\n'


def for_backend(text, app_db, directory):
    """A config naming app.db, made to name the PostgreSQL copy instead ([database] url),
    with a cursor key from the directory's a.key when it has none (a PostgreSQL database
    has no file to keep a generated key beside)."""
    if not is_pg_target(app_db):
        return text
    assert SQLITE_DATABASE in text, f"a config the pg backend cannot rewrite:\n{text}"
    text = text.replace(SQLITE_DATABASE, f'[database]\nurl = "{app_db}"\n')
    if "[[cursor.keys]]" not in text:
        text += f'\n[[cursor.keys]]\nid = 1\nsecret_file = "{directory / "a.key"}"\n'
    return text


class ConfigServer(FolioServer):
    """`folio serve --config FILE --listen ...`: the database comes from the file."""

    def __init__(self, config, workdir, db=None):
        super().__init__(db or "-", secret_file=False, workdir=workdir)
        self.config = str(config)
        self.explicit_db = db

    def command(self):
        cmd = [folio_bin(), "serve", "--config", self.config,
               "--listen", f"127.0.0.1:{self.port}"]
        return cmd + ([str(self.explicit_db)] if self.explicit_db else [])


@pytest.fixture
def serve(folio, tmp_path, app_db):
    """serve(config_text) -> started server on that config (written beside app.db; over
    PostgreSQL, its [database] path = "app.db" becomes url = "<the copy>")."""
    started = []

    def start(directory, text, name="folio.toml", db=None):
        path = directory / name
        path.write_text(for_backend(text, app_db, directory) if db is None else text)
        workdir = tmp_path / f"server{len(started)}"
        workdir.mkdir()
        srv = ConfigServer(path, str(workdir), db=db)
        started.append(srv)
        return srv.start()

    yield start
    errors = []
    for srv in started:
        try:
            srv.stop()
        except AssertionError as e:
            errors.append(str(e))
    if errors:
        pytest.fail("\n\n".join(errors), pytrace=False)


def run_folio(*args, env=None):
    proc = subprocess.run([folio_bin(), *map(str, args)], env=sanitizer_env(env),
                          capture_output=True, timeout=60)
    out = proc.stdout.decode("utf-8", "replace")
    err = proc.stderr.decode("utf-8", "replace")
    check_sanitizer_output(err, f"folio {args[0]}")
    return proc.returncode, out, err


def walk(server, url, limit=1000):
    """Follow next links from `url`; returns (rows, responses)."""
    rows, bodies = [], []
    while url is not None and len(bodies) < limit:
        r = server.get(url)
        body = assert_page(r, url)
        rows.extend(body["data"])
        bodies.append((r, body))
        url = body["links"]["next"]
    assert url is None, f"walk did not end after {limit} pages"
    return rows, bodies


def sql_rows(con, sql, args=()):
    cur = con.execute(sql, args)
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, (json_value(v) for v in row))) for row in cur]


def token_bytes(token):
    return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))


def cursor_of(url):
    return param(url, "after") or param(url, "before")


PRODUCTS_ONLY = """
[database]
path = "app.db"

[[endpoint]]
path = "/products"
table = "items"
columns = ["id", "name"]
filterable = ["name"]
"""

PRODUCTS = """
[database]
path = "app.db"

[[endpoint]]
path = "/products"
table = "items"
columns = ["id", "name"]
filterable = ["name"]

[[endpoint]]
path = "/catalog"
table = "items"
filterable = ["category", "price"]
default_per_page = 7
"""


# --- allowlists ------------------------------------------------------------------------------

def test_products_never_show_price_or_category(serve, cfg_dir, con):
    server = serve(cfg_dir, PRODUCTS_ONLY)
    rows, pages = walk(server, "/products?per_page=50")
    assert_rows(rows, sql_rows(con, "SELECT id, name FROM items ORDER BY id"))
    probes = ["/products", "/products?per_page=3&page=2", "/products?sort=-name",
              "/products?fields=name", "/products?name=eq.item%2001", "/"]
    for url in probes:
        r = server.get(url)
        assert r.status == 200, r
        pages.append((r, None))
    for r, _ in pages:
        text = r.body.decode() + " ".join(str(v) for v in r.headers.values())
        assert "price" not in text and "category" not in text, text[:500]
        for word in CATEGORIES:
            assert word not in text, f"category value {word!r} leaked: {text[:500]}"
    for r, body in pages:
        for row in (body or {}).get("data", []):
            assert list(row) == ["id", "name"], row


@pytest.mark.parametrize("query, name", [
    ("fields=price", "fields"), ("fields=id,category", "fields"),
    ("sort=price", "sort"), ("sort=-category,id", "sort"),
])
def test_hidden_columns_cannot_be_selected_or_sorted(serve, cfg_dir, query, name):
    server = serve(cfg_dir, PRODUCTS)
    assert_problem(server.get(f"/products?{query}"), 400, param=name)


def test_sort_outside_sortable_is_refused(serve, cfg_dir, con):
    server = serve(cfg_dir, PRODUCTS + 'sortable = ["price", "id"]\n')
    assert_problem(server.get("/catalog?sort=name"), 400, param="sort")
    body = assert_page(server.get("/catalog?sort=-price&per_page=5"))
    assert_rows(body["data"], sql_rows(con, "SELECT * FROM items ORDER BY price DESC, id DESC LIMIT 5"))


def test_filterable_columns_filter_and_others_are_400(serve, cfg_dir, con):
    server = serve(cfg_dir, PRODUCTS)
    rows, _ = walk(server, "/products?name=eq.item%2005&per_page=4")
    assert_rows(rows, sql_rows(con, "SELECT id, name FROM items WHERE name = 'item 05' ORDER BY id"))
    assert_problem(server.get("/products?price=gte.10"), 400, param=...)
    assert_problem(server.get("/products?category=eq.books"), 400, param=...)
    assert_problem(server.get("/catalog?name=eq.item%2005"), 400, param=...)
    body = assert_page(server.get("/catalog?category=eq.toys&per_page=100"))
    assert_rows(body["data"], sql_rows(
        con, "SELECT * FROM items WHERE category = 'toys' ORDER BY id LIMIT 100"))


def test_endpoint_per_page_defaults_come_from_the_config(serve, cfg_dir):
    server = serve(cfg_dir, PRODUCTS + "max_per_page = 9\n")
    assert assert_page(server.get("/catalog"))["meta"]["per_page"] == 7
    assert assert_page(server.get("/catalog?per_page=500"))["meta"]["per_page"] == 9
    assert assert_page(server.get("/products?per_page=500"))["meta"]["per_page"] == 100


def test_full_walk_with_filters_and_mixed_sort_equals_sqlite(serve, cfg_dir, con):
    server = serve(cfg_dir, PRODUCTS)
    query = urllib.parse.urlencode([("category", "in.(books,toys)"), ("price", "gte.100"),
                                    ("sort", "-price,name"), ("per_page", "6")])
    rows, pages = walk(server, f"/catalog?{query}")
    want = sql_rows(con, "SELECT * FROM items WHERE category IN ('books', 'toys') "
                         "AND price >= 100 ORDER BY price DESC, name ASC, id ASC")
    assert len(want) > 30, "the fixture should span several pages"
    assert_rows(rows, want)
    assert len(pages) == -(-len(want) // 6)
    # and backwards from the last page, following prev links
    back, url = [], pages[-1][1]["links"]["self"]
    while url is not None:
        body = assert_page(server.get(url))
        back[:0] = body["data"]
        url = body["links"]["prev"]
    assert_rows(back, want)


def test_auto_api_is_off_with_endpoints_and_can_be_turned_on(serve, cfg_dir, con):
    server = serve(cfg_dir, PRODUCTS)
    assert_problem(server.get("/api/items"), 404, param=...)
    server2 = serve(cfg_dir, "[api]\nauto = true\n" + PRODUCTS
                    + '\n[[endpoint]]\npath = "/api/users"\ntable = "users"\n'
                      'columns = ["id"]\n', name="auto.toml")
    body = assert_page(server2.get("/api/items?per_page=3"))
    assert list(body["data"][0]) == ["id", "name", "price", "category"]
    body = assert_page(server2.get("/api/users?per_page=3"))  # the configured one wins
    assert [list(r) for r in body["data"]] == [["id"]] * 3
    assert_page(server2.get("/products"))


def test_tutorial_style_uses_the_configured_name(serve, cfg_dir, con):
    server = serve(cfg_dir, '[database]\npath = "app.db"\n[[endpoint]]\npath = "/people"\n'
                            'table = "users"\nname = "people"\nstyle = "tutorial-keyset"\n'
                            'default_per_page = 10\n')
    r = server.get("/people?after=40")
    assert r.status == 200, r
    body = r.json()
    assert [u["id"] for u in body["people"]] == [41, 42, 43, 44, 45]


@pytest.mark.sqlite_only  # a file path
def test_sqlite_database_path_is_relative_to_the_config_file(serve, cfg_dir, tmp_path, con):
    sub = tmp_path / "elsewhere"
    sub.mkdir()
    rel = os.path.relpath(cfg_dir / "app.db", sub)
    server = serve(sub, f'[database]\npath = "{rel}"\n')
    body = assert_page(server.get("/api/items?per_page=2"))
    assert_rows(body["data"], sql_rows(con, "SELECT * FROM items ORDER BY id LIMIT 2"))


@pytest.mark.sqlite_only  # file paths
def test_command_line_sqlite_database_overrides_the_config(serve, cfg_dir, tmp_path):
    other = make_db(tmp_path / "other.db", "CREATE TABLE only_here(id INTEGER PRIMARY KEY);")
    server = serve(cfg_dir, '[database]\npath = "app.db"\n', name="override.toml", db=other)
    assert_page(server.get("/api/only_here"))
    assert_problem(server.get("/api/items"), 404, param=...)


@pytest.mark.sqlite_only  # [files] root beside a SQLite file
def test_files_root_serves_its_listing_and_is_off_without_it(serve, cfg_dir, tmp_path):
    root = tmp_path / "shared"
    (root / "docs").mkdir(parents=True)
    for name in ("b.txt", "a.txt", "c.txt"):
        (root / "docs" / name).write_text(name)
    server = serve(tmp_path, f'[database]\npath = "{cfg_dir / "app.db"}"\n'
                             '[files]\nroot = "shared"\n', name="files.toml")
    r = server.get("/files/docs?per_page=2")
    assert r.status == 200, r
    body = r.json()
    assert body["total"] == 3
    assert "a.txt" in r.body.decode() and "b.txt" in r.body.decode()
    plain = serve(cfg_dir, PRODUCTS_ONLY, name="nofiles.toml")
    assert plain.get("/files/docs").status == 404


# --- cursor keys ---------------------------------------------------------------------------------

def keys_config(*keys, encrypt=False):
    text = PRODUCTS + f"\n[cursor]\nencrypt = {'true' if encrypt else 'false'}\n"
    for key_id, name in keys:
        text += f'\n[[cursor.keys]]\nid = {key_id}\nsecret_file = "{name}"\n'
    return text


def test_rotation_old_cursors_verify_until_their_key_is_removed(serve, cfg_dir, con):
    first = serve(cfg_dir, keys_config((1, "a.key")), name="rot1.toml")
    page = assert_page(first.get("/products?per_page=5"))
    old_next = page["links"]["next"]
    assert token_bytes(cursor_of(old_next))[1] == 1
    first.stop()

    both = serve(cfg_dir, keys_config((2, "b.key"), (1, "a.key")), name="rot2.toml")
    page = assert_page(both.get(old_next))
    assert_rows(page["data"], sql_rows(con, "SELECT id, name FROM items ORDER BY id LIMIT 5 OFFSET 5"))
    new_next = page["links"]["next"]
    assert token_bytes(cursor_of(new_next))[1] == 2, "new cursors must be signed by the first key"
    both.stop()

    only_b = serve(cfg_dir, keys_config((2, "b.key")), name="rot3.toml")
    assert_problem(only_b.get(old_next), 400, param="after", detail_contains="invalid cursor")
    page = assert_page(only_b.get(new_next))
    assert_rows(page["data"], sql_rows(con, "SELECT id, name FROM items ORDER BY id LIMIT 5 OFFSET 10"))


def test_encrypted_cursors_paginate_and_hide_the_sort_key(serve, cfg_dir, con):
    want = sql_rows(con, "SELECT * FROM items ORDER BY name DESC, id DESC")
    assert want[0]["name"] == NEEDLE
    plain = serve(cfg_dir, keys_config((1, "a.key")), name="plain.toml")
    nxt = assert_page(plain.get("/catalog?sort=-name&per_page=1"))["links"]["next"]
    assert NEEDLE.encode() in token_bytes(cursor_of(nxt)), "signed cursors carry the key in clear"
    plain.stop()

    server = serve(cfg_dir, keys_config((1, "a.key"), encrypt=True), name="enc.toml")
    body = assert_page(server.get("/catalog?sort=-name&per_page=1"))
    assert body["data"][0]["name"] == NEEDLE
    token = token_bytes(cursor_of(body["links"]["next"]))
    assert token[0] == 2, "version byte of an encrypted token"
    assert NEEDLE.encode() not in token and b"NEEDLE" not in token
    rows, pages = walk(server, "/catalog?sort=-name&per_page=9")
    assert_rows(rows, want)
    for _, b in pages:
        if b["links"]["next"]:
            assert b"item" not in token_bytes(cursor_of(b["links"]["next"]))


# --- refusing bad files ----------------------------------------------------------------------------

def test_serve_refuses_an_invalid_config_with_status_2(cfg_dir):
    path = cfg_dir / "bad-serve.toml"
    path.write_text('[server]\nthreads = "2"\n')
    rc, _, err = run_folio("serve", "--config", path)
    assert rc == 2
    assert f"{path}:2:11: [server] threads: expected an integer, got a string" in err


def test_serve_refuses_an_unknown_column_before_listening(cfg_dir):
    path = cfg_dir / "bad-col.toml"
    path.write_text('[database]\npath = "app.db"\n[[endpoint]]\npath = "/p"\ntable = "items"\n'
                    'columns = ["id", "weight"]\n')
    rc, _, err = run_folio("serve", "--config", path, "--listen", "127.0.0.1:1")
    assert rc == 2
    assert f"{path}:6:18: [[endpoint]] columns: unknown column 'weight' in table items" in err


def test_world_readable_key_file_is_refused(cfg_dir):
    key = make_secret(cfg_dir / "open.key")
    os.chmod(key, 0o644)
    path = cfg_dir / "open.toml"
    path.write_text('[[cursor.keys]]\nid = 1\nsecret_file = "open.key"\n')
    rc, _, err = run_folio("check-config", path)
    assert rc == 2
    assert f"{path}:3:15: [[cursor.keys]] secret_file: " in err and "chmod 600" in err


# --- check-config ---------------------------------------------------------------------------------

def test_check_config_prints_every_key_and_exits_0(cfg_dir):
    path = cfg_dir / "check.toml"
    path.write_text(keys_config((2, "b.key"), (1, "a.key")) + "\n[server]\nthreads = 3\n")
    rc, out, err = run_folio("check-config", path)
    assert rc == 0, err
    doc = tomllib.loads(out)
    want = {
        "server": {"listen", "threads", "io_threads", "queue", "client_jobs", "max_connections",
                   "max_connections_per_ip", "request_timeout", "timeout", "max_request_bytes",
                   "max_url_bytes", "max_response_bytes", "debug_plan", "query_timeout",
                   "inline_budget", "require_auth_off_loopback"},
        "database": {"path"},
        "pagination": {"default_per_page", "max_per_page", "count", "count_limit",
                       "max_offset", "hybrid"},
        "cursor": {"ttl", "encrypt", "keys"},
        "api": {"auto", "sortable"},
        "auth": {"mode", "jwt_leeway", "jwt_require_exp"},
    }
    for section, keys in want.items():
        assert set(doc[section]) == keys, (section, doc[section])
    assert doc["server"]["threads"] == 3
    assert doc["server"]["listen"] == "127.0.0.1:8080"
    assert doc["database"]["path"] == str(cfg_dir / "app.db")
    assert [k["id"] for k in doc["cursor"]["keys"]] == [2, 1]
    assert doc["cursor"]["keys"][0]["secret_file"] == str(cfg_dir / "b.key")
    assert doc["api"]["auto"] is False
    assert doc["api"]["sortable"] == "indexed" and doc["server"]["query_timeout"] == 5.0
    products, catalog = doc["endpoint"]
    assert products["columns"] == ["id", "name"] and products["sortable"] == ["id", "name"]
    assert products["filterable"] == ["name"]
    assert catalog["columns"] == ["id", "name", "price", "category"]
    assert catalog["default_per_page"] == 7 and catalog["max_per_page"] == 100
    assert catalog["style"] == "folio" and catalog["count"] == "none"
    assert catalog["modes"] == ["offset", "keyset"]
    for key in ("a.key", "b.key"):
        assert (cfg_dir / key).read_bytes() not in out.encode()
    # the printed settings are themselves a valid config with the same effect
    again = cfg_dir / "again.toml"
    again.write_text(out)
    rc2, out2, err2 = run_folio("check-config", again)
    assert rc2 == 0, err2
    assert out2.split("\n", 1)[1] == out.split("\n", 1)[1]


@pytest.mark.parametrize("text, message", [
    ('[server]\nthreads = "2"\n', '2:11: [server] threads: expected an integer, got a string'),
    ("[server]\nthreads = 0\n", "2:11: [server] threads: must be from 1 to 256, got 0"),
    ("[server]\ntimeout = 30\nworkers = 4\n", "3:1: [server] workers: unknown key"),
    ("[limits]\nx = 1\n", "1:2: [limits]: unknown section"),
    ('[database]\nurl = "app.db"\n', "2:7: [database] url: expected a PostgreSQL URL"),
    ('[database]\npath = "a.db"\nurl = "postgres://db/app"\n',
     "3:7: [database] url: give either path (SQLite) or url (PostgreSQL), not both"),
    ("[pagination]\nmax_per_page = 5000\n",
     "2:16: [pagination] max_per_page: must be from 1 to 1000, got 5000"),
    ('[pagination]\ncount = "maybe"\n', '2:9: [pagination] count: must be "none", "exact" or '
                                         '"estimate", got "maybe"'),
    ('[[cursor.keys]]\nid = 1\nsecret_file = "missing.key"\n',
     "3:15: [[cursor.keys]] secret_file: cannot open "),
    ('[database]\npath = "app.db"\n[[endpoint]]\npath = "/p"\ntable = "nope"\n',
     "5:9: [[endpoint]] table: the database has no table 'nope'"),
    ('[database]\npath = "app.db"\n[[endpoint]]\npath = "/p"\ntable = "items"\n'
     'columns = ["id"]\nsortable = ["price"]\n',
     "7:13: [[endpoint]] sortable: column 'price' is not in columns"),
    ('[database]\npath = "app.db"\n[[endpoint]]\npath = "/p"\ntable = "items"\n'
     'default_sort = "-price,bogus"\n',
     "6:16: [[endpoint]] default_sort: unknown column 'bogus' in table items"),
    ('[database]\npath = "app.db"\n[[endpoint]]\npath = "/t"\ntable = "tags"\n'
     'style = "tutorial-keyset"\n',
     "6:9: [[endpoint]] style: tutorial-keyset needs a table whose primary key is a single "
     "INTEGER column"),
    ('[[endpoint]]\npath = "/p"\ntable = "items"\n[[endpoint]]\npath = "/p"\ntable = "users"\n',
     '5:8: [[endpoint]] path: "/p" is already served by the [[endpoint]] at line 1'),
    ('[[endpoint]]\npath = "/"\ntable = "items"\n', '2:8: [[endpoint]] path: "/" is the index'),
    ('[[endpoint]]\npath = "/healthz"\ntable = "items"\n',
     '2:8: [[endpoint]] path: "/healthz" is reserved'),
    ('[files]\nroot = "app.db"\n', "2:8: [files] root: "),
    ("[server\n", "1:8: "),
])
def test_check_config_refuses_with_file_line_col_and_key(cfg_dir, text, message):
    path = cfg_dir / "invalid.toml"
    path.write_text(text)
    rc, out, err = run_folio("check-config", path)
    assert rc == 2, (out, err)
    assert out == ""
    assert err.startswith(f"{path}:{message}"), err


def test_check_config_of_a_missing_file_exits_2(cfg_dir):
    rc, _, err = run_folio("check-config", cfg_dir / "absent.toml")
    assert rc == 2
    assert "absent.toml: cannot read the file" in err


def test_check_config_without_a_database_checks_the_rest(cfg_dir):
    path = cfg_dir / "nodb.toml"
    path.write_text('[[endpoint]]\npath = "/p"\ntable = "whatever"\n')
    rc, out, err = run_folio("check-config", path)
    assert rc == 0, err
    assert "not checked" in err
    assert tomllib.loads(out)["endpoint"][0]["table"] == "whatever"
    rc, out, err = run_folio("check-config", path, cfg_dir / "app.db")
    assert rc == 2
    assert "no table 'whatever'" in err


# --- files that are not regular files ------------------------------------------------------
# A FIFO blocks open() or read() until someone writes to it, a device never ends: every
# file folio reads must be refused with what it really is, at once.

def run_folio_quickly(*args):
    """run_folio with a short timeout: a hang is a failure, not a 60 s wait."""
    try:
        proc = subprocess.run([folio_bin(), *map(str, args)], env=sanitizer_env(),
                              capture_output=True, timeout=15)
    except subprocess.TimeoutExpired:
        pytest.fail(f"folio {' '.join(map(str, args))} hung")
    err = proc.stderr.decode("utf-8", "replace")
    check_sanitizer_output(err, f"folio {args[0]}")
    return proc.returncode, proc.stdout.decode("utf-8", "replace"), err


@pytest.fixture
def fifo(tmp_path):
    path = tmp_path / "named.pipe"
    os.mkfifo(path, 0o600)
    return path


def test_check_config_refuses_a_fifo_key_file_without_hanging(cfg_dir, fifo):
    path = cfg_dir / "fifo-key.toml"
    path.write_text(f'[[cursor.keys]]\nid = 1\nsecret_file = "{fifo}"\n')
    rc, out, err = run_folio_quickly("check-config", path)
    assert rc == 2 and out == ""
    assert err.startswith(f"{path}:3:15: [[cursor.keys]] secret_file: cannot open {fifo}: it "
                          "is a FIFO (named pipe), not a regular file"), err


@pytest.mark.parametrize("kind", ["fifo", "/dev/zero", "directory"])
def test_check_config_refuses_a_config_that_is_not_a_regular_file(kind, fifo, tmp_path):
    target = {"fifo": fifo, "/dev/zero": "/dev/zero", "directory": tmp_path}[kind]
    what = {"fifo": "a FIFO (named pipe)", "/dev/zero": "a character device",
            "directory": "a directory"}[kind]
    for args in (("check-config", target), ("serve", "--config", target)):
        rc, _, err = run_folio_quickly(*args)
        assert rc == 2, (args, err)
        assert f"{target}: cannot read the file: it is {what}, not a regular file" in err, err


@pytest.mark.parametrize("kind", ["fifo", "/dev/zero"])
def test_a_database_that_is_not_a_regular_file_is_refused(kind, cfg_dir, fifo, tmp_path):
    target = fifo if kind == "fifo" else "/dev/zero"
    what = "a FIFO (named pipe)" if kind == "fifo" else "a character device"
    path = cfg_dir / "nodb.toml"
    path.write_text("[pagination]\ndefault_per_page = 5\n")
    rc, _, err = run_folio_quickly("check-config", path, target)
    assert rc != 0 and f"cannot open database {target}: it is {what}" in err, err
    rc, _, err = run_folio_quickly("serve", target, "--listen", "127.0.0.1:1")
    assert rc == 1 and f"cannot open database {target}: it is {what}" in err, err
    # No key is generated beside something that is not a database.
    assert not os.path.exists(f"{target}.folio-secret")


def test_a_fifo_access_log_without_a_reader_or_a_fifo_secret_file_fails_fast(cfg_dir, fifo):
    db = cfg_dir / "app.db"
    # An access log may be a FIFO that a log collector reads; with nobody reading it, the
    # start fails at once instead of waiting for a reader.
    rc, _, err = run_folio_quickly("serve", db, "--access-log", fifo, "--listen", "127.0.0.1:1")
    assert rc == 1 and f"cannot open access log {fifo}: No such device or address" in err, err
    rc, _, err = run_folio_quickly("serve", db, "--secret-file", fifo, "--listen", "127.0.0.1:1")
    assert rc == 1
    assert f"cannot read secret file {fifo}: it is a FIFO (named pipe), not a regular file" in err


def test_a_secret_longer_than_4096_bytes_is_refused_on_the_command_line_as_in_the_file(
        cfg_dir, tmp_path):
    key = make_secret(tmp_path / "long.key", 5000)
    rc, _, err = run_folio_quickly("serve", cfg_dir / "app.db", "--secret-file", key,
                                   "--listen", "127.0.0.1:1")
    assert rc == 1 and f"secret file {key} is longer than 4096 bytes" in err, err
    path = cfg_dir / "long-key.toml"
    path.write_text(f'[[cursor.keys]]\nid = 1\nsecret_file = "{key}"\n')
    rc, _, err = run_folio_quickly("check-config", path)
    assert rc == 2 and f"{key} is longer than 4096 bytes" in err, err
