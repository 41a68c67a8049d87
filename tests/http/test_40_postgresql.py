"""What only PostgreSQL has, black-box, against a real PostgreSQL 15 (tests/support/folio_pg.py):
`folio demo postgresql://...`; cursors that round-trip every sortable PostgreSQL type
(fixed cases and a hypothesis test over random values with NULLs and ties), in PostgreSQL's
own ORDER BY order (the cluster's default collation is ICU en-US, not "C"); the demo's
indexed sorts served by an index scan without a Sort node at page 1 and deep (folio's own
statements, as PostgreSQL's auto_explain logs them); a server stopped and restarted under
folio (503 problem+json with Retry-After, then recovery); writes through another connection
never served stale (page, total, hybrid jump); count=estimate from pg_class.reltuples; views
and tables without a primary key refused without a configured key.

The rest of the suite (tests/http/test_*.py) runs over PostgreSQL too (conftest.py's
`backend` parametrization); the reference answers here come from psycopg2 on the same
database the server reads."""

import base64
import datetime as dt
import decimal
import json
import math
import os
import re
import sqlite3
import struct
import sys
import subprocess
import time
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import PG_BACKEND_MERGED
from folio_api import api, assert_page, assert_problem
from folio_server import (check_sanitizer_output, folio_bin, free_port, make_demo, make_secret,
                          sanitizer_env)
import folio_pg

needs_backend = pytest.mark.skipif(not PG_BACKEND_MERGED,
                                   reason="the PostgreSQL backend (src/db/db_pg.c) is not merged yet")

DEMO_TABLES = ("users", "messages", "items", "events")
MAX_PAGES = 400  # a bound for every walk here; never reached


@pytest.fixture(scope="module")
def pg(pg_cluster):
    return pg_cluster


def new_db(pg, prefix, script=None):
    """A new database of the test cluster, `script` run in it; returns (url, PgCon)."""
    name = pg.new_database(prefix)
    con = folio_pg.PgCon(pg.url(name))
    con.execute("SET extra_float_digits = 3")  # the cluster's default is 0 (folio_pg)
    if script:
        con.executescript(script)
    return pg.url(name), con


def json_decimal(resp):
    """The body with JSON numbers kept exact (Decimal for fractions, int for integers)."""
    return json.loads(resp.body, parse_float=decimal.Decimal)


# --- folio demo postgresql://... --------------------------------------------------------------

def test_pg_demo_holds_the_same_rows_and_indexes_as_the_sqlite_demo(folio, pg, tmp_path):
    lite = make_demo(tmp_path / "demo.db", 700)
    url = make_demo(None, 700, "pg")
    con = folio_pg.PgCon(url)
    con.execute("SET extra_float_digits = 3")
    src = sqlite3.connect(lite)
    try:
        for t in DEMO_TABLES:
            want = src.execute(f"SELECT * FROM {t} ORDER BY id").fetchall()
            got = [tuple(r) for r in con.execute(f"SELECT * FROM {t} ORDER BY id")]
            assert got == want, f"{t}: the PostgreSQL demo differs from the SQLite one"
        lite_idx = {r[0]: [c[2] for c in src.execute(f"PRAGMA index_info('{r[0]}')")]
                    for r in src.execute("SELECT name FROM sqlite_master WHERE type = 'index' "
                                         "AND sql IS NOT NULL")}
        pg_idx = {r[0]: re.search(r"\((.*)\)", r[1]).group(1).split(", ") for r in con.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' "
            "AND indexname NOT LIKE '%_pkey'")}
        assert pg_idx == lite_idx
        pks = {t: con.primary_key(t) for t in DEMO_TABLES}
        assert pks == {t: ["id"] for t in DEMO_TABLES}
    finally:
        src.close()
        con.close()
    # a second run into the same database refuses, and changes nothing
    proc = subprocess.run([folio_bin(), "demo", url, "--rows", "5"], env=sanitizer_env(),
                          capture_output=True, timeout=120)
    err = proc.stderr.decode()
    assert proc.returncode == 1 and "refusing to overwrite" in err, err
    check_sanitizer_output(err, "folio demo")


def test_pg_demo_reports_an_unreachable_server_without_crashing(folio, pg):
    port = pg.port + 1 if pg.port < 65535 else pg.port - 1
    proc = subprocess.run([folio_bin(), "demo", f"postgresql://postgres@127.0.0.1:{port}/x",
                           "--rows", "5"], env=sanitizer_env(), capture_output=True, timeout=120)
    err = proc.stderr.decode()
    assert proc.returncode == 1 and "cannot connect to PostgreSQL" in err, err
    check_sanitizer_output(err, "folio demo")


# --- types: cursors round-trip every sortable type ------------------------------------------

TYPED_DDL = """
CREATE TYPE mood AS ENUM ('zeta', 'alpha', 'mid');
CREATE TABLE {name}(
    id integer PRIMARY KEY,
    c_smallint smallint, c_int integer, c_bigint bigint, c_numeric numeric,
    c_real real, c_double double precision,
    c_text text, c_varchar varchar(12), c_char char(4), c_bytea bytea, c_bool boolean,
    c_date date, c_ts timestamp, c_tstz timestamptz, c_uuid uuid,
    c_jsonb jsonb, c_json json, c_intarr integer[], c_textarr text[], c_enum mood);
"""
TYPED_COLUMNS = ["c_smallint", "c_int", "c_bigint", "c_numeric", "c_real", "c_double", "c_text",
                 "c_varchar", "c_char", "c_bytea", "c_bool", "c_date", "c_ts", "c_tstz",
                 "c_uuid", "c_jsonb", "c_json", "c_intarr", "c_textarr", "c_enum"]
SORTABLE = [c for c in TYPED_COLUMNS if c != "c_json"]  # json has no ordering
UTC = dt.timezone.utc


def _ts(s):
    return dt.datetime.fromisoformat(s)


EDGE_ROWS = [
    # id, smallint, int, bigint, numeric, real, double, text, varchar, char, bytea, bool,
    # date, ts, tstz, uuid, jsonb, json, int[], text[], enum
    (1, -32768, -2**31, -2**63, decimal.Decimal("-12345678901234567890.123456789012345678901"),
     -3.4028234663852886e38, float("-inf"), "a", "a", "a", b"", False,
     dt.date(1, 1, 1), _ts("0001-01-01T00:00:00"), _ts("1900-01-01T00:00:00.000001+00:00"),
     uuid.UUID(int=0), {"a": 1}, {"b": [1, 2]}, [], [], "zeta"),
    (2, 32767, 2**31 - 1, 2**63 - 1, decimal.Decimal("1.10"), 0.1, float("inf"), "B", "B", "B",
     b"\x00\xff", True, dt.date(9999, 12, 31), _ts("9999-12-31T23:59:59.999999"),
     _ts("2024-03-10T07:00:00.5+00:00"), uuid.UUID(int=2**128 - 1), [1, "x", None], None,
     [1, None, 3], ["a,b", None, "{}", "\"q\""], "alpha"),
    (3, 0, 0, 0, decimal.Decimal("0.000"), -0.0, float("nan"), "b", "b", "b ", b"\x00", None,
     dt.date(2024, 2, 29), _ts("2024-02-29T12:34:56.123456"),
     _ts("2024-11-03T05:30:00.000001+00:00"), uuid.UUID("12345678-1234-5678-1234-567812345678"),
     "s", 3, [0], [""], "mid"),
    (4, 1, 1, 1, decimal.Decimal("1.1"), 1.401298464324817e-45, 5e-324, "A", "A", "A", b"a", True,
     None, None, None, None, None, None, None, None, None),
    (5, None, None, None, None, None, None, None, None, None, None, None, None, None, None, None,
     None, None, None, None, None),
    (6, 1, 1, 1, decimal.Decimal("1E+30"), 1.5, 1.7976931348623157e308, "_x", "_x", "_x",
     b"a", False, dt.date(2024, 2, 29), _ts("2024-02-29T12:34:56.123457"),
     _ts("2024-03-10T07:00:00.5+00:00"), uuid.UUID(int=1), {"a": 1, "b": None}, [], [1, 2],
     ["b"], "zeta"),
    (7, -1, -1, -1, decimal.Decimal("-0.0000000000000000000000000001"), float("nan"), -0.0, "é",
     "é", "é", b"\xff", True, dt.date(1970, 1, 1), _ts("1970-01-01T00:00:00"),
     _ts("1970-01-01T00:00:00+00:00"), uuid.UUID(int=2), True, False, [1, None], [None], "mid"),
    (8, 1, 1, 1, decimal.Decimal("1.1"), 0.1, 0.1, "e", "e", "e  ", b"a", True,
     dt.date(2024, 2, 29), _ts("2024-02-29T12:34:56.123456"),
     _ts("2024-11-03T05:30:00.000001+00:00"), uuid.UUID(int=2), {"a": 1}, [], [1, None, 3],
     ["a,b", None, "{}", "\"q\""], "alpha"),
]


def insert_typed(con, table, rows):
    from psycopg2.extras import Json, register_uuid
    register_uuid()
    cols = ["id"] + TYPED_COLUMNS
    conv = []
    for r in rows:
        r = list(r)
        for i in (16, 17):  # jsonb, json: SQL NULL is None, a JSON null is Json(None)
            if r[i] is not None:
                r[i] = Json(r[i])
        r[10] = None if r[10] is None else bytes(r[10])
        conv.append(tuple(r))
    con.executemany(f"INSERT INTO {table} ({', '.join(cols)}) VALUES "
                    f"({', '.join(['?'] * len(cols))})", conv)


def pg_rows(con, table, order):
    cur = con.execute(f"SELECT * FROM {table} ORDER BY {order}")
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur]


def same_float(got, want, width):
    if isinstance(got, str):
        spelled = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
        if got not in spelled:
            return False
        g = spelled[got]
        return (math.isnan(g) and math.isnan(want)) or g == want
    if isinstance(got, bool) or not isinstance(got, (int, decimal.Decimal)):
        return False
    if math.isnan(want) or math.isinf(want):
        return False  # a finite JSON number for NaN or Infinity
    g = float(got)
    fmt = "<f" if width == 32 else "<d"
    return struct.pack(fmt, g) == struct.pack(fmt, want) or (g == 0 and want == 0)


def same_numeric(got, want):
    """Exact digits: the same value and the same scale as PostgreSQL's text."""
    if isinstance(got, str):
        return got == str(want)
    if isinstance(got, bool) or not isinstance(got, (int, decimal.Decimal)):
        return False
    g = decimal.Decimal(got)
    return g == want and g.as_tuple().exponent == want.as_tuple().exponent


def same_timestamp(got, want, tz):
    if not isinstance(got, str):
        return False
    if tz:
        if not (got.endswith("Z") or got.endswith("+00:00")):
            return False  # timestamptz is sent in UTC
        got = got[:-1] + "+00:00" if got.endswith("Z") else got
    try:
        g = dt.datetime.fromisoformat(got)
    except ValueError:
        return False
    if "T" not in got:
        return False  # RFC 3339 separates date and time with T
    return g == want and (g.tzinfo is not None) == tz


def same_scalar(col, got, want):
    if want is None:
        return got is None
    if col in ("c_smallint", "c_int", "c_bigint"):
        return type(got) is int and got == want
    if col == "c_numeric":
        return same_numeric(got, want)
    if col in ("c_real", "c_double"):
        return same_float(got, want, 32 if col == "c_real" else 64)
    if col in ("c_text", "c_varchar", "c_char", "c_enum", "c_textarr"):
        return isinstance(got, str) and got == want
    if col == "c_bytea":
        return got == base64.b64encode(bytes(want)).decode("ascii")
    if col == "c_bool":
        return got is want
    if col == "c_date":
        return got == want.isoformat()
    if col in ("c_ts", "c_tstz"):
        return same_timestamp(got, want, col == "c_tstz")
    if col == "c_uuid":
        return got == str(want)
    if col in ("c_jsonb", "c_json"):
        return json.dumps(plain(got), sort_keys=True) == json.dumps(want, sort_keys=True)
    if col == "c_intarr":
        return type(got) is int and got == want
    raise AssertionError(col)


def plain(v):
    """A JSON value parsed with Decimal fractions, as plain Python values."""
    if isinstance(v, decimal.Decimal):
        return int(v) if v == v.to_integral_value() else float(v)
    if isinstance(v, list):
        return [plain(x) for x in v]
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    return v


def same_value(col, got, want):
    if col in ("c_intarr", "c_textarr") and want is not None:
        return (isinstance(got, list) and len(got) == len(want)
                and all(same_scalar(col, g, w) if w is not None else g is None
                        for g, w in zip(got, want)))
    return same_scalar(col, got, want)


def check_rows(got, want, what):
    assert [r.get("id") for r in got] == [r["id"] for r in want], \
        f"{what}: ids {[r.get('id') for r in got]} != {[r['id'] for r in want]}"
    for g, w in zip(got, want):
        assert list(g) == list(w), f"{what}: columns {list(g)} != {list(w)}"
        for col in TYPED_COLUMNS:
            assert same_value(col, g[col], w[col]), \
                f"{what}: id {w['id']} {col}: got {g[col]!r}, want {w[col]!r}"


def walk(server, url, rel):
    """Follow `rel` links from `url`; returns the pages (bodies parsed with exact numbers)."""
    pages = []
    while url is not None:
        assert len(pages) < MAX_PAGES, f"walk from {url} does not end"
        r = server.get(url)
        assert_page(r, url)
        body = json_decimal(r)
        pages.append(body)
        url = body["links"][rel]
    return pages


def sort_sql(sort):
    out = []
    for item in sort.split(","):
        out.append(f"{item[1:]} DESC" if item.startswith("-") else f"{item} ASC")
    if "id" not in [o.split()[0] for o in out]:
        out.append("id " + out[-1].split()[-1])  # the tiebreaker follows the last key
    return ", ".join(out)


def check_walks(server, con, table, sort, per_page):
    """Forward from the first page and backward from the last: every row once, in
    PostgreSQL's ORDER BY order, every value in its documented JSON form."""
    want = pg_rows(con, table, sort_sql(sort))
    what = f"{table} sort={sort} per_page={per_page}"
    fwd = walk(server, api(table, sort=sort, per_page=per_page), "next")
    rows = [r for p in fwd for r in p["data"]]
    check_rows(rows, want, f"{what} forward")
    last = fwd[-1]
    back = [last] + (walk(server, last["links"]["prev"], "prev") if last["links"]["prev"] else [])
    rows = [r for p in reversed(back) for r in p["data"]]
    check_rows(rows, want, f"{what} backward")


@pytest.fixture(scope="module")
def typed_db(pg):
    url, con = new_db(pg, "typed", TYPED_DDL.format(name="edge") +
                      TYPED_DDL.split(";", 1)[1].format(name="typed"))
    insert_typed(con, "edge", EDGE_ROWS)
    con.execute("ANALYZE")
    yield url, con
    con.close()


@pytest.fixture(scope="module")
def typed_server(module_spawn, typed_db):
    return module_spawn(typed_db[0], any_sort=True)


@needs_backend
@pytest.mark.parametrize("col", SORTABLE)
def test_every_type_round_trips_through_cursors_in_both_directions(typed_server, typed_db, col):
    con = typed_db[1]
    for sort in (col, "-" + col):
        for per_page in (1, 3):
            check_walks(typed_server, con, "edge", sort, per_page)


@needs_backend
def test_values_keep_their_documented_json_form(typed_server, typed_db):
    r = typed_server.get(api("edge", per_page=100))
    body = assert_page(r)
    got = {row["id"]: row for row in json_decimal(r)["data"]}
    assert len(got) == len(body["data"])
    row = got[1]
    assert row["c_bigint"] == -2**63 and row["c_smallint"] == -32768
    assert same_numeric(row["c_numeric"], decimal.Decimal("-12345678901234567890.123456789012345678901"))
    assert row["c_bytea"] == "" and got[2]["c_bytea"] == "AP8="
    assert row["c_jsonb"] == {"a": 1} and got[2]["c_jsonb"] == [1, "x", None]  # not strings
    assert got[2]["c_intarr"] == [1, None, 3] and got[2]["c_textarr"] == ["a,b", None, "{}", '"q"']
    assert got[1]["c_intarr"] == [] and got[3]["c_json"] == 3
    assert got[2]["c_bool"] is True and got[1]["c_bool"] is False and got[3]["c_bool"] is None
    assert got[3]["c_ts"].startswith("2024-02-29T12:34:56.123456")
    assert same_timestamp(got[3]["c_tstz"], _ts("2024-11-03T05:30:00.000001+00:00"), True)
    assert got[3]["c_uuid"] == "12345678-1234-5678-1234-567812345678"
    assert got[3]["c_enum"] == "mid" and got[3]["c_char"] == "b   "
    assert got[2]["c_real"] == decimal.Decimal("0.1"), "real: shortest round-trip digits"


def pooled(base):
    """Per example: a pool of 1..4 values; each row takes NULL or one of them (ties)."""
    @st.composite
    def column(draw, n):
        pool = draw(st.lists(base, min_size=1, max_size=4))
        return [draw(st.one_of(st.none(), st.sampled_from(pool))) for _ in range(n)]
    return column


JSONISH = st.recursive(st.none() | st.booleans() | st.integers(-1000, 1000) | st.text("ab\"", max_size=3),
                       lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text("ab", max_size=2), c, max_size=2),
                       max_leaves=4)
TEXTISH = st.text(alphabet=list("aAbB _-éE1.,{}\""), max_size=4)
BASES = {
    "c_smallint": st.integers(-2**15, 2**15 - 1),
    "c_int": st.integers(-2**31, 2**31 - 1),
    "c_bigint": st.integers(-2**63, 2**63 - 1),
    "c_numeric": st.builds(lambda i, s: decimal.Decimal(i).scaleb(-s),
                           st.integers(-10**30, 10**30), st.integers(0, 25)),
    "c_real": st.floats(width=32),
    "c_double": st.floats(),
    "c_text": TEXTISH, "c_varchar": TEXTISH, "c_char": st.text(alphabet=list("aAbB _-é"), max_size=4),
    "c_bytea": st.binary(max_size=4),
    "c_bool": st.booleans(),
    "c_date": st.dates(),
    "c_ts": st.datetimes(),
    "c_tstz": st.datetimes(timezones=st.just(UTC)),
    "c_uuid": st.uuids(),
    "c_jsonb": JSONISH, "c_json": JSONISH,
    "c_intarr": st.lists(st.one_of(st.none(), st.integers(-3, 3)), max_size=3),
    "c_textarr": st.lists(st.one_of(st.none(), TEXTISH), max_size=3),
    "c_enum": st.sampled_from(["zeta", "alpha", "mid"]),
}


@st.composite
def typed_tables(draw):
    n = draw(st.integers(1, 25))
    ids = draw(st.lists(st.integers(-1000, 1000), min_size=n, max_size=n, unique=True))
    cols = [draw(pooled(BASES[c])(n)) for c in TYPED_COLUMNS]
    return [tuple([ids[i]] + [col[i] for col in cols]) for i in range(n)]


@st.composite
def typed_sorts(draw):
    names = draw(st.lists(st.sampled_from(SORTABLE), min_size=1, max_size=2, unique=True))
    return ",".join(("-" if draw(st.booleans()) else "") + n for n in names)


@needs_backend
@settings(max_examples=30, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(rows=typed_tables(), sort=typed_sorts(), per_page=st.integers(1, 7))
def test_random_typed_values_with_nulls_and_ties_walk_in_postgresql_order(typed_server, typed_db,
                                                                          rows, sort, per_page):
    """The same table is refilled for every example (one transaction, through another
    connection): the server must never serve the previous example's rows."""
    con = typed_db[1]
    with con:
        con.execute("DELETE FROM typed")
        insert_typed(con, "typed", rows)
    check_walks(typed_server, con, "typed", sort, per_page)


# --- ordering: collation and NULL placement ------------------------------------------------

COLLATION_WORDS = ["a", "A", "b", "B", "_a", "a-b", "ab", "Ab", "é", "e", "E", "z", "Z", "10",
                   "9", "a b", "", " ", "ä", "ß", "ss"]


@needs_backend
def test_text_order_follows_the_database_collation_not_bytes(spawn, pg):
    url, con = new_db(pg, "coll", "CREATE TABLE words(id integer PRIMARY KEY, w text, "
                                  "v varchar(8) NOT NULL); CREATE INDEX words_v ON words(v, id);")
    try:
        con.executemany("INSERT INTO words VALUES (?, ?, ?)",
                        [(i, None if i % 5 == 0 else w, w) for i, w in
                         enumerate(COLLATION_WORDS * 2)])
        by_pg = [r[0] for r in con.execute("SELECT w FROM words WHERE w IS NOT NULL ORDER BY w")]
        assert by_pg != sorted(by_pg), "the test database's collation must not be bytewise"
        server = spawn(url, any_sort=True)
        for sort in ("w", "-w", "v", "-v", "w,-v", "-v,w"):
            for per_page in (1, 4):
                want = [r[0] for r in con.execute(f"SELECT id FROM words ORDER BY {sort_sql(sort)}")]
                fwd = walk(server, api("words", sort=sort, per_page=per_page), "next")
                got = [r["id"] for p in fwd for r in p["data"]]
                assert got == want, f"forward sort={sort} per_page={per_page}: {got} != {want}"
                prev = fwd[-1]["links"]["prev"]
                back = [fwd[-1]] + (walk(server, prev, "prev") if prev else [])
                got = [r["id"] for p in reversed(back) for r in p["data"]]
                assert got == want, f"backward sort={sort} per_page={per_page}: {got} != {want}"
    finally:
        con.close()


# --- EXPLAIN: the demo's indexed sorts seek an index, at page 1 and at row 900,000 -------------

BIG_ROWS = 1_000_000
DEEP_ROW = 900_000

# Demo values generated in PostgreSQL itself (generate_series): a million rows per table in a
# few seconds, where `folio demo` through the sanitizer build would take far longer. Same
# shapes as the demo: many equal timestamps in events, ISO 8601 text timestamps.
BIG_FILL = """
INSERT INTO users SELECT i, (ARRAY['Ada','Grace','Linus','Margaret','Dennis','Barbara','Ken',
    'Frances','Edsger','Radia'])[1 + (i::bigint * 7919) % 10] || ' ' || i,
    CASE WHEN i % 10 = 0 THEN NULL ELSE 'user' || i || '@example.com' END,
    to_char(timestamp '2024-01-01' + i * 37 * interval '1 second', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
    FROM generate_series(1, {n}) i;
INSERT INTO events SELECT i,
    to_char(timestamp '2024-01-01' + (i / 50) * 60 * interval '1 second', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
    (ARRAY['login','logout','purchase','view','error'])[1 + (i * 31) % 5], '{{"n":' || i || '}}'
    FROM generate_series(1, {n}) i;
"""
# (table, sort, every sort column NOT NULL: the deep page must seek, not filter)
# (-created_at alone means created_at DESC, id ASC: no index of the demo has that order, on
# SQLite or PostgreSQL; test_04 checks the same sorts.)
INDEXED_SORTS = [("users", "created_at", True), ("users", "-created_at,-id", True),
                 ("users", "name", True), ("users", "-name,-id", True),
                 ("events", "created_at", True), ("events", "-created_at,-id", True),
                 ("events", "kind,created_at", False)]


@pytest.fixture(scope="module")
def big_pg(folio, pg):
    """The demo schema (`folio demo URL --rows 0`) with 1,000,000 users and events, and
    auto_explain logging the plan (with row counts) of every statement run in it."""
    url = make_demo(None, 0, "pg")
    dbname = url.rsplit("/", 1)[1]
    con = folio_pg.PgCon(url)
    try:
        idx = [r for r in con.execute("SELECT indexname, indexdef FROM pg_indexes WHERE "
                                      "tablename IN ('users', 'events') AND indexname NOT LIKE '%_pkey'")]
        for name, _ in idx:
            con.execute(f"DROP INDEX {name}")
        con.executescript(BIG_FILL.format(n=BIG_ROWS))
        for _, ddl in idx:
            con.execute(ddl)
        con.execute("VACUUM ANALYZE users")
        con.execute("VACUUM ANALYZE events")
        for k, v in (("session_preload_libraries", "auto_explain"),
                     ("auto_explain.log_min_duration", "0"), ("auto_explain.log_analyze", "on"),
                     ("auto_explain.log_timing", "off"), ("auto_explain.log_level", "log")):
            con.execute(f'ALTER DATABASE "{dbname}" SET {k} = \'{v}\'')
    finally:
        con.close()
    return url


class PlanLog:
    """The plans auto_explain wrote to the cluster's log since mark()."""

    def __init__(self, pg):
        self.pg = pg
        self.pos = 0

    def mark(self):
        self.pos = os.path.getsize(self.pg.log)

    def plans(self, table):
        time.sleep(0.2)  # the log is written by the backend process; let it land
        with open(self.pg.log, "rb") as f:
            f.seek(self.pos)
            text = f.read().decode("utf-8", "replace")
        entries = re.split(r"\n(?=\S)", text)
        return [e for e in entries if "plan:" in e and table in e and "Query Text" in e]


def check_plans(plans, what, seek):
    """The page statement reads an index in order (an Index Scan or Index Only Scan, no Sort
    node, no Seq Scan); with `seek`, every statement of the request (the has_prev probe
    too) does bounded work: at most 100 rows read and thrown away by a filter, where a
    row-value condition on the index lets PostgreSQL seek to the cursor."""
    assert plans, f"{what}: auto_explain logged no plan for it"
    pages = [p for p in plans if not re.search(r"Query Text: SELECT 1 ", p)]
    assert pages, f"{what}: no page statement among:\n" + "\n".join(plans)
    for p in pages:
        assert "Index Scan" in p or "Index Only Scan" in p, f"{what}: no index scan:\n{p}"
        assert not re.search(r"(^|->)\s*(Incremental )?Sort\s+\(", p, re.M), \
            f"{what}: a Sort node:\n{p}"
        assert "Seq Scan" not in p, f"{what}: a sequential scan:\n{p}"
    if seek:
        for p in plans:
            removed = sum(int(n) for n in re.findall(r"Rows Removed by Filter: (\d+)", p))
            assert removed <= 100, f"{what}: {removed} rows read and dropped by a filter:\n{p}"


@needs_backend
@pytest.mark.parametrize("table,sort,seek", INDEXED_SORTS)
def test_demo_indexed_sorts_get_an_index_scan_without_sort_at_page_1_and_row_900000(
        spawn, big_pg, pg, tmp_path, table, sort, seek):
    cfg = tmp_path / "folio.toml"
    cfg.write_text("[server]\nquery_timeout = 0\n[pagination]\nmax_offset = 1000\n")
    server = spawn(big_pg, extra_args=["--config", str(cfg), "--no-prefetch", "--threads", "1"])
    log = PlanLog(pg)
    log.mark()
    first = assert_page(server.get(api(table, sort=sort, per_page=20)))
    check_plans(log.plans(table), f"{table} sort={sort} page 1", seek=False)
    # offset 900,000 is past max_offset: the 400 links a keyset cursor to the same rows
    url = api(table, sort=sort, per_page=20, offset=DEEP_ROW)
    cursor = assert_problem(server.get(url), 400, param="offset", what=url).get("cursor")
    assert isinstance(cursor, str) and cursor.startswith(f"/api/{table}?"), cursor
    log.mark()
    deep = assert_page(server.get(cursor), cursor)
    check_plans(log.plans(table), f"{table} sort={sort} after row {DEEP_ROW}", seek)
    con = folio_pg.PgCon(big_pg)
    try:
        want = [r[0] for r in con.execute(f"SELECT id FROM {table} ORDER BY {sort_sql(sort)} "
                                          f"LIMIT 20 OFFSET {DEEP_ROW}")]
    finally:
        con.close()
    assert [r["id"] for r in deep["data"]] == want, f"{cursor}: not the rows at {DEEP_ROW}"
    log.mark()
    assert_page(server.get(deep["links"]["prev"]))
    check_plans(log.plans(table), f"{table} sort={sort} prev page at row {DEEP_ROW}", seek)
    assert first["data"]


# --- PostgreSQL stopped and restarted under folio -----------------------------------------

@pytest.fixture
def own_cluster():
    """A PostgreSQL of this test's own: stopping it must not disturb the other tests."""
    c = folio_pg.PgCluster()
    try:
        yield c.start()
    finally:
        c.stop()


@needs_backend
def test_postgresql_restart_gives_503_with_retry_after_then_service_resumes(spawn, own_cluster):
    c = own_cluster
    name = c.new_database("restart")
    con = folio_pg.PgCon(c.url(name))
    con.executescript("CREATE TABLE t(id integer PRIMARY KEY, v text);"
                      "INSERT INTO t SELECT i, 'v' || i FROM generate_series(1, 300) i;")
    con.close()
    server = spawn(c.url(name), extra_args=["--threads", "2"])
    server.follow_links = False  # links of the outage need not be retried
    first = assert_page(server.get(api("t", per_page=10)))
    c.stop_server()
    for url in (api("t", per_page=10), first["links"]["next"], api("t", per_page=10, page=5),
                api("t", per_page=10, count="exact")):
        for _ in range(3):
            r = server.get(url)
            assert_problem(r, 503, param=..., what=f"{url} while PostgreSQL is down")
            retry = r.headers.get("Retry-After")
            assert retry and retry.isdigit() and int(retry) >= 1, f"{url}: Retry-After {retry!r}"
    assert server.alive()
    c.start()
    deadline = time.monotonic() + 60
    while True:
        r = server.get(api("t", per_page=10))
        if r.status == 200 or time.monotonic() > deadline:
            break
        assert_problem(r, 503, param=..., what="while PostgreSQL comes back")
        time.sleep(0.2)
    body = assert_page(r, "after the restart")
    assert [row["id"] for row in body["data"]] == list(range(1, 11))
    nxt = assert_page(server.get(first["links"]["next"]), "a cursor from before the restart")
    assert [row["id"] for row in nxt["data"]] == list(range(11, 21))
    # every worker has reconnected: a burst of requests all succeed
    for i in range(12):
        assert_page(server.get(api("t", per_page=5, page=i + 1)), f"page {i + 1}")


# --- writes through another connection are never served stale ------------------------------

@needs_backend
@pytest.mark.parametrize("flags", [[], ["--no-prefetch"]], ids=["page-cache", "no-page-cache"])
def test_a_write_through_another_connection_is_never_served_stale(spawn, pg, flags):
    url, con = new_db(pg, "stale", "CREATE TABLE w(id integer PRIMARY KEY, grp integer NOT NULL,"
                                   " label text); CREATE INDEX w_grp ON w(grp, id);"
                                   "INSERT INTO w SELECT i, i % 7, 'l' || i FROM generate_series(1, 400) i;"
                                   "ANALYZE w;")
    server = spawn(url, extra_args=flags + ["--threads", "2"], any_sort=True)
    urls = [api("w", per_page=20), api("w", per_page=20, count="exact"),
            api("w", per_page=20, page=15), api("w", per_page=20, page=15, sort="-grp"),
            api("w", per_page=10, page=3, grp="eq.3", count="exact")]

    def want(u):
        q = dict(p.split("=", 1) for p in u.split("?", 1)[1].split("&"))
        per_page, page = int(q["per_page"]), int(q.get("page", 1))
        where = "WHERE grp = 3" if "grp" in q else ""
        order = sort_sql(q.get("sort", "id"))
        ids = [r[0] for r in con.execute(f"SELECT id FROM w {where} ORDER BY {order} "
                                         f"LIMIT {per_page} OFFSET {(page - 1) * per_page}")]
        total = con.execute(f"SELECT count(*) FROM w {where}").fetchone()[0]
        return ids, total

    try:
        for rnd in range(12):
            for u in urls:
                for _ in range(2):  # the second request may come from a cache
                    body = assert_page(server.get(u), u)
                    ids, total = want(u)
                    assert [r["id"] for r in body["data"]] == ids, f"round {rnd}: {u} stale rows"
                    if "count=exact" in u:
                        assert body["meta"]["total"] == total, f"round {rnd}: {u} stale total"
            with con:  # one committed write per round, before page 1 and the deep pages
                if rnd % 3 == 0:
                    con.execute("INSERT INTO w VALUES (?, 3, 'new')", (-rnd - 1,))
                elif rnd % 3 == 1:
                    con.execute("DELETE FROM w WHERE id = (SELECT min(id) FROM w WHERE id > 0)")
                else:
                    con.execute("UPDATE w SET grp = (grp + 1) % 7 WHERE id IN "
                                "(SELECT id FROM w ORDER BY id LIMIT 5)")
    finally:
        con.close()


# --- count=estimate -----------------------------------------------------------------------

@needs_backend
def test_count_estimate_of_a_table_is_pg_class_reltuples(spawn, pg):
    url, con = new_db(pg, "est", "CREATE TABLE e(id integer PRIMARY KEY, v text);"
                                 "INSERT INTO e SELECT i, 'v' FROM generate_series(1, 1234) i;"
                                 "ANALYZE e;")
    try:
        server = spawn(url)
        reltuples = con.execute("SELECT reltuples FROM pg_class WHERE oid = 'e'::regclass").fetchone()[0]
        assert reltuples == 1234
        r = server.get(api("e", per_page=10, page=2, count="estimate"))
        meta = assert_page(r)["meta"]
        assert meta.get("total_kind") == "estimate" and meta.get("total") == 1234, meta
        assert r.headers.get("X-Total-Count") is None and "pages" not in meta, meta
        con.execute("INSERT INTO e SELECT i, 'w' FROM generate_series(2000, 2499) i")
        con.execute("ANALYZE e")
        meta = assert_page(server.get(api("e", per_page=10, page=2, count="estimate")))["meta"]
        assert meta.get("total_kind") == "estimate" and meta.get("total") == 1734, meta
        meta = assert_page(server.get(api("e", per_page=10, count="exact")))["meta"]
        assert meta.get("total_kind") == "exact" and meta.get("total") == 1734, meta
    finally:
        con.close()


# --- views and tables without a primary key ------------------------------------------------

KEYLESS = ("CREATE TABLE base(id integer PRIMARY KEY, v text);"
           "INSERT INTO base SELECT i, 'v' || (i % 13) FROM generate_series(1, 90) i;"
           "CREATE VIEW some_view AS SELECT id, v FROM base WHERE id % 2 = 0;"
           "CREATE TABLE no_pk(id integer NOT NULL, v text);"
           "INSERT INTO no_pk SELECT i, 'n' FROM generate_series(1, 40) i;")


@needs_backend
def test_views_and_tables_without_a_primary_key_are_not_served_without_a_key(spawn, pg):
    url, con = new_db(pg, "keyless", KEYLESS)
    con.close()
    server = spawn(url)
    for name in ("some_view", "no_pk"):
        assert_problem(server.get(api(name)), 404, param=..., what=name)
        assert name in server.stderr_text() and "key" in server.stderr_text(), \
            f"no message at start about {name}:\n{server.stderr_text()}"
    assert_page(server.get(api("base")))


@needs_backend
@pytest.mark.parametrize("table", ["some_view", "no_pk"])
def test_an_endpoint_on_a_keyless_relation_needs_a_key(spawn, pg, tmp_path, table):
    url, con = new_db(pg, "keyless", KEYLESS)
    try:
        cfg = tmp_path / "nokey.toml"
        cfg.write_text(f'[[endpoint]]\npath = "/k"\ntable = "{table}"\n')
        secret = make_secret(tmp_path / "k.key")
        proc = subprocess.run([folio_bin(), "serve", url, "--listen", f"127.0.0.1:{free_port()}",
                               "--secret-file", secret, "--config", str(cfg)],
                              env=sanitizer_env(), capture_output=True, timeout=60)
        err = proc.stderr.decode()
        check_sanitizer_output(err)
        assert proc.returncode == 2, f"exit {proc.returncode}:\n{err}"
        assert table in err and "key" in err, err
        cfg.write_text(f'[[endpoint]]\npath = "/k"\ntable = "{table}"\nkey = ["id"]\n'
                       'sortable = ["v"]\n')
        server = spawn(url, extra_args=["--config", str(cfg)])
        for sort in (None, "v", "-v"):
            want = [r[0] for r in con.execute(f"SELECT id FROM {table} ORDER BY "
                                              f"{sort_sql(sort or 'id')}")]
            pages = walk(server, "/k?per_page=7" + (f"&sort={sort}" if sort else ""), "next")
            assert [r["id"] for p in pages for r in p["data"]] == want, sort
    finally:
        con.close()


def test_pg_harness_settings_are_not_folio_friendly_defaults(pg):
    """The cluster is set up so that a backend relying on server defaults fails: not UTC,
    not ISO dates, not round-trip floats, not a "C" collation (folio_pg.UNUSUAL_SETTINGS)."""
    con = pg.connect()
    try:
        cur = con.cursor()
        cur.execute("SELECT current_setting('TimeZone'), current_setting('extra_float_digits'), "
                    "(SELECT daticulocale FROM pg_database WHERE datname = current_database())")
        tz, efd, icu = cur.fetchone()
        assert tz == "America/St_Johns" and efd == "0" and icu == "en-US"
        cur.execute("SELECT fsync FROM (SELECT current_setting('fsync') AS fsync) s")
        assert cur.fetchone()[0] == "off"
    finally:
        con.close()


KILLED_RUNNER = r"""
import os, sys
sys.path.insert(0, sys.argv[1])
import folio_pg
c = folio_pg.PgCluster().start()
with open(os.path.join(c.data, "postmaster.pid")) as f:
    print(f.readline().strip(), c.tmp, flush=True)
os.kill(os.getpid(), 9)  # no atexit, no finalizer: only the watchdog is left
"""


def test_harness_stops_postgresql_even_when_the_test_process_is_killed(pg):
    support = os.path.dirname(os.path.abspath(folio_pg.__file__))
    proc = subprocess.run([sys.executable, "-c", KILLED_RUNNER, support], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == -9, proc.stderr
    pid, tmp = proc.stdout.split()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (os.path.exists(f"/proc/{pid}") or os.path.exists(tmp)):
        time.sleep(0.2)
    assert not os.path.exists(f"/proc/{pid}"), f"postgres {pid} outlived the killed test process"
    assert not os.path.exists(tmp), f"{tmp} was left behind"
