"""Totals and deep offset pages, black-box: `count=exact|estimate|none` and PostgREST's
`Prefer: count=...`, meta.total / total_kind / pages, X-Total-Count and the `last` link;
exact totals taken in the same snapshot as the rows while another connection writes;
cached totals that never outlive a change; estimates (max - min + 1 of an integer key,
bounded counts under filters); offset pages through the hybrid boundary index equal to
SQLite's LIMIT/OFFSET, before and after writes; [pagination] max_offset answered with a
cursor to the same position.

The reference answer is stdlib sqlite3 on the same database file the server reads."""

import itertools
import math
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from folio_api import (api, assert_page, assert_problem, assert_rows, expected_rows,
                       link_header, param, parse_sort)
from folio_server import as_backend, connect_db, db_fixture, make_db, make_demo
from folio_writer import LIVE_INSERT, WriterThread, live_row, make_live_db

ROWS = 2600            # the mixed table: 26 strides of the boundary index
STRIDE = 100           # FOLIO_HYBRID_STRIDE
INT64_MAX = 2**63 - 1
WORDS = ("", "apple", "Banana", "cherry", "\u00df", "zz", "apple pie")
MIXED = (None, 1, 1.0, 2, 2.5, -1, "1", "a", "", b"\x01", b"a", 0.1)  # storage classes

# (query parameter, the same condition in SQL) for the mixed table
FILTERS = [
    None,
    (("a", "gte.2"), "a >= 2"),
    (("b", "is.not.null"), "b IS NOT NULL"),
    (("d", "in.(1,3)"), "d IN (1, 3)"),
    (("c", "lt.6"), "c < 6"),
    (("a", "is.null"), "a IS NULL"),
]

HYPOTHESIS = settings(derandomize=True, max_examples=40, deadline=None,
                      suppress_health_check=[HealthCheck.too_slow,
                                             HealthCheck.data_too_large])


def mixed_row(rng, rid):
    """One row of the mixed table: NULLs (a 25%, b 12%, c 10%), heavy duplicates, and a
    column without a declared type holding every storage class."""
    a = None if rng.random() < 0.25 else rng.randrange(5)
    b = None if rng.random() < 0.12 else rng.choice(WORDS)
    c = None if rng.random() < 0.10 else rng.randrange(40) / 4
    return (rid, a, b, c, rng.randrange(5), rng.choice(MIXED))


def make_mixed(path, rows=ROWS, seed=5):
    """t(id, a, b, c, d NOT NULL, m) with gaps in the ids and indexes the planner may use."""
    make_db(path, "CREATE TABLE t(id INTEGER PRIMARY KEY, a INTEGER, b TEXT, c REAL, "
                  "d INTEGER NOT NULL, m);"
                  "CREATE INDEX t_a ON t(a, id); CREATE INDEX t_b_c ON t(b, c, id);"
                  "CREATE INDEX t_d_a ON t(d, a, id);")
    rng = random.Random(seed)
    ids = sorted(rng.sample(range(1, rows * 2), rows))
    con = connect_db(path)
    con.executemany("INSERT INTO t VALUES (?, ?, ?, ?, ?, ?)", [mixed_row(rng, i) for i in ids])
    con.commit()
    con.close()
    return path


def count_rows(con, table, where=None):
    sql = f'SELECT count(*) FROM "{table}"' + (f" WHERE {where}" if where else "")
    return con.execute(sql).fetchone()[0]


def unfiltered_estimate(con, table):
    """What count=estimate says for a whole table: SQLite's max - min + 1 of the integer key,
    PostgreSQL's pg_class.reltuples (the tables here were ANALYZEd after their load)."""
    if getattr(con, "backend", "sqlite") == "pg":
        return int(con.execute("SELECT reltuples FROM pg_class WHERE oid = to_regclass(?)",
                               (f'"{table}"',)).fetchone()[0])
    lo, hi = con.execute(f'SELECT min(id), max(id) FROM "{table}"').fetchone()
    return hi - lo + 1


def bounded_estimate(con, table, where, limit):
    """(total_kind, total) of count=estimate under a filter matching more than `limit` rows:
    the bound as a lower bound; on PostgreSQL the planner's row estimate instead when that
    is above the bound (EXPLAIN's Plan Rows, as PostgREST's count=planned)."""
    if getattr(con, "backend", "sqlite") == "pg":
        plan = con.execute(f'EXPLAIN (FORMAT JSON) SELECT * FROM "{table}" WHERE {where}').fetchone()[0]
        rows = int(plan[0]["Plan"]["Plan Rows"])
        if rows > limit:
            return "estimate", rows
    return "lower_bound", limit


def url_for(table, sort=None, per_page=None, page=None, offset=None, count=None, filt=None,
            **extra):
    params = {}
    if filt:
        params[filt[0][0]] = filt[0][1]
    params.update(per_page=per_page, sort=sort, page=page, offset=offset, count=count)
    params.update(extra)
    return api(table, **params)


def pages_for(total, per_page):
    return max(1, math.ceil(total / per_page))


def assert_no_total(resp, body, what=""):
    meta = body["meta"]
    for key in ("total", "total_kind", "pages"):
        assert key not in meta, f"{what}: meta has {key!r} without a count: {meta}"
    assert resp.headers.get("X-Total-Count") is None, f"{what}: X-Total-Count without a count"
    assert body["links"].get("last") is None, f"{what}: a last link without a count"


def assert_exact(resp, body, total, what=""):
    """meta.total exact, X-Total-Count, and for offset pages meta.pages and the last link."""
    meta = body["meta"]
    assert meta.get("total") == total and meta.get("total_kind") == "exact", \
        f"{what}: want exact total {total}, meta {meta}"
    assert resp.headers.get("X-Total-Count") == str(total), \
        f"{what}: X-Total-Count {resp.headers.get('X-Total-Count')!r}, want {total}"
    if "page" in meta:  # an offset page
        pages = pages_for(total, meta["per_page"])
        assert meta.get("pages") == pages, f"{what}: pages {meta.get('pages')}, want {pages}"
        last = body["links"].get("last")
        assert last is not None, f"{what}: no last link with an exact total: {body['links']}"
        assert link_header(resp).get("last") == last, f"{what}: Link header lacks last"
        if param(last, "page") is not None:
            assert param(last, "page") == str(pages), f"{what}: last link {last}"
        else:
            assert param(last, "offset") == str((pages - 1) * meta["per_page"]), \
                f"{what}: last link {last}"


# --- fixtures ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def mixed_db(backend, tmp_path_factory):
    """Read-only: the mixed table, plus small tables for totals and estimates (in SQLite,
    or their PostgreSQL copy: m there is text)."""
    d = tmp_path_factory.mktemp("totals")
    path = make_mixed(d / "mixed.db")
    con = connect_db(path)
    con.executescript(
        "CREATE TABLE gappy(id INTEGER PRIMARY KEY, v TEXT);"
        "CREATE TABLE shifted(id INTEGER PRIMARY KEY, v TEXT);"
        "CREATE TABLE empty(id INTEGER PRIMARY KEY, v TEXT);"
        "CREATE TABLE words(code TEXT PRIMARY KEY, n INTEGER);"
        "CREATE TABLE single(id INTEGER PRIMARY KEY, v TEXT);")
    con.executemany("INSERT INTO gappy VALUES (?, ?)",
                    [(i, f"v{i}") for i in range(1, 1001) if not 200 <= i < 500 and i % 7])
    con.executemany("INSERT INTO shifted VALUES (?, ?)",
                    [(i, "x") for i in range(5000, 5321)])
    con.executemany("INSERT INTO words VALUES (?, ?)",
                    [(f"w{i:04d}", i % 9) for i in range(120)])
    con.execute("INSERT INTO single VALUES (42, 'only')")
    con.commit()
    con.close()
    return as_backend(backend, path)


@pytest.fixture(scope="module")
def mixed_con(mixed_db):
    yield from db_fixture(mixed_db)


@pytest.fixture(scope="module")
def mixed_server(module_spawn, mixed_db, secret_file):
    """One worker thread, so the boundary index one request builds serves the next.

    Every server of this module lets auto endpoints sort by any column (any_sort, or
    [api] sortable = "all" in its config): the totals and the boundary index are checked
    over unindexed sorts on purpose; the default sort policy is test_07's subject."""
    return module_spawn(mixed_db, secret_file=secret_file, extra_args=["--threads", "1"],
                        any_sort=True)


@pytest.fixture(scope="module")
def big_demo(backend, tmp_path_factory):
    return make_demo(tmp_path_factory.mktemp("big") / "demo30k.db", 30000, backend)


@pytest.fixture(scope="module")
def big_server(module_spawn, big_demo, secret_file):
    return module_spawn(big_demo, secret_file=secret_file, any_sort=True)


@pytest.fixture(scope="module")
def big_con(big_demo):
    yield from db_fixture(big_demo)


def any_sort_text(text):
    """The config `text` with [api] sortable = "all" (see mixed_server)."""
    if "[api]\n" in text:
        return text.replace("[api]\n", '[api]\nsortable = "all"\n', 1)
    return '[api]\nsortable = "all"\n' + text


def config_server(spawn, db, secret_file, tmp_path, text, threads=1, name="folio.toml"):
    path = tmp_path / name
    path.write_text(any_sort_text(text))
    return spawn(db, secret_file=secret_file,
                 extra_args=["--config", str(path), "--threads", str(threads)])


# --- count=none|exact, Prefer: count=... ---------------------------------------------------

def test_without_a_count_there_is_no_total(mixed_server):
    for url in (url_for("t", per_page=10, page=3), url_for("t", per_page=10),
                url_for("t", per_page=10, page=4, count="none"),
                url_for("t", per_page=10, offset=333, sort="-a,b")):
        r = mixed_server.get(url)
        assert_no_total(r, assert_page(r, url), url)


@pytest.mark.parametrize("per_page", [1, 7, 20, 100])
@pytest.mark.parametrize("filt", FILTERS[:4], ids=["none", "a", "b", "d"])
def test_count_exact_gives_total_pages_last_link_and_header(mixed_server, mixed_con, per_page,
                                                            filt):
    where = filt[1] if filt else None
    total = count_rows(mixed_con, "t", where)
    pages = pages_for(total, per_page)
    for page in (1, 2, pages // 2 + 1, pages, pages + 2):
        url = url_for("t", per_page=per_page, page=page, count="exact", filt=filt)
        r = mixed_server.get(url)
        body = assert_page(r, url)
        assert_exact(r, body, total, url)
        assert_rows(body["data"], expected_rows(mixed_con, "t", limit=per_page,
                                                offset=(page - 1) * per_page, where=where), url)
    # the last link leads to the last, non-empty page, which says there is no more
    last = body["links"]["last"]
    r = mixed_server.get(last + "&count=exact")
    body = assert_page(r, last)
    assert body["data"] and body["meta"]["has_more"] is False, f"{last}: {body['meta']}"
    assert_rows(body["data"], expected_rows(mixed_con, "t", limit=per_page,
                                            offset=(pages - 1) * per_page, where=where), last)


def test_count_exact_on_offset_pages_links_the_last_offset(mixed_server, mixed_con):
    total = count_rows(mixed_con, "t")
    for per_page, offset in ((7, 0), (7, 1234), (30, 2599), (100, 55), (9, total + 10)):
        url = url_for("t", per_page=per_page, offset=offset, count="exact")
        r = mixed_server.get(url)
        body = assert_page(r, url)
        assert_exact(r, body, total, url)
        assert param(body["links"]["last"], "offset") == \
            str((pages_for(total, per_page) - 1) * per_page)


@pytest.mark.parametrize("prefer,kind", [
    ("count=exact", "exact"),
    ("return=minimal, count=exact", "exact"),
    ("count=estimated", "estimate"),
    ("count=planned", "estimate"),
])
def test_prefer_count_header_asks_for_totals(mixed_server, mixed_con, prefer, kind):
    # per_page values of their own: no other test asked for these URLs
    per_page = {"count=exact": 41, "return=minimal, count=exact": 42,
                "count=estimated": 43, "count=planned": 44}[prefer]
    url = url_for("gappy", per_page=per_page, page=2)
    r = mixed_server.get(url, headers={"Prefer": prefer})
    body = assert_page(r, url)
    if kind == "exact":
        assert_exact(r, body, count_rows(mixed_con, "gappy"), f"Prefer: {prefer}")
    else:
        assert body["meta"].get("total_kind") == "estimate", f"Prefer: {prefer}: {body['meta']}"
        assert body["meta"].get("total") == unfiltered_estimate(mixed_con, "gappy")
        assert r.headers.get("X-Total-Count") is None


def test_count_parameter_wins_over_the_prefer_header(mixed_server, mixed_con):
    url = url_for("t", per_page=13, page=5, count="none")
    r = mixed_server.get(url, headers={"Prefer": "count=exact"})
    assert_no_total(r, assert_page(r, url), url)
    url = url_for("t", per_page=14, page=5, count="exact")
    r = mixed_server.get(url, headers={"Prefer": "count=none"})
    assert_exact(r, assert_page(r, url), count_rows(mixed_con, "t"), url)
    url = url_for("t", per_page=15, page=5)
    r = mixed_server.get(url, headers={"Prefer": "count=bogus"})
    assert_no_total(r, assert_page(r, url), "Prefer: count=bogus is the server's default")


def test_prefer_count_is_honoured_after_the_same_url_was_served_without_it(mixed_server,
                                                                           mixed_con):
    url = url_for("t", per_page=16, page=9)
    r = mixed_server.get(url)
    assert_no_total(r, assert_page(r, url), url)
    r = mixed_server.get(url, headers={"Prefer": "count=exact"})
    assert_exact(r, assert_page(r, url), count_rows(mixed_con, "t"),
                 f"{url} with Prefer: count=exact after the same URL without it")


def test_no_total_after_the_same_url_was_served_with_prefer_count(mixed_server, mixed_con):
    url = url_for("t", per_page=17, page=9)
    r = mixed_server.get(url, headers={"Prefer": "count=exact"})
    assert_exact(r, assert_page(r, url), count_rows(mixed_con, "t"), url)
    r = mixed_server.get(url)
    assert_no_total(r, assert_page(r, url),
                    f"{url} without Prefer after the same URL with Prefer: count=exact")


@pytest.mark.parametrize("value", ["bogus", "", "EXACT", "exact ", "1", "exact,estimate"])
def test_unknown_count_value_is_400_naming_count(mixed_server, value):
    r = mixed_server.get(url_for("t", per_page=5, page=2, count=value))
    assert_problem(r, 400, param="count", what=f"count={value!r}")


def test_empty_table_has_total_zero_and_one_page(mixed_server):
    for url in (url_for("empty", page=1, count="exact"), url_for("empty", page=3, count="exact"),
                url_for("empty", offset=250, count="exact")):
        r = mixed_server.get(url)
        body = assert_page(r, url)
        assert body["data"] == []
        assert_exact(r, body, 0, url)
        assert body["meta"]["pages"] == 1


def test_first_and_keyset_pages_carry_exact_totals(mixed_server, mixed_con):
    total = count_rows(mixed_con, "t", "a >= 2")
    filt = FILTERS[1]
    url = url_for("t", per_page=25, sort="-c,b", count="exact", filt=filt)
    for _ in range(4):
        r = mixed_server.get(url)
        body = assert_page(r, url)
        meta = body["meta"]
        assert meta.get("total") == total and meta.get("total_kind") == "exact", meta
        assert r.headers.get("X-Total-Count") == str(total)
        url = body["links"]["next"]
        assert param(url, "after"), url
        url += "&count=exact"


# --- count=estimate -----------------------------------------------------------------------

@pytest.mark.sqlite_only  # PostgreSQL estimates from pg_class.reltuples (test_40_postgresql)
def test_sqlite_estimate_of_an_integer_key_is_max_minus_min_plus_one(mixed_server, mixed_con):
    for table in ("gappy", "shifted", "single", "t"):
        lo, hi, n = mixed_con.execute(f"SELECT min(id), max(id), count(*) FROM {table}").fetchone()
        url = url_for(table, per_page=10, page=2, count="estimate")
        r = mixed_server.get(url)
        body = assert_page(r, url)
        meta = body["meta"]
        assert meta.get("total_kind") == "estimate" and meta.get("total") == hi - lo + 1, \
            f"{table} ({n} rows, ids {lo}..{hi}): {meta}"
        assert "pages" not in meta and r.headers.get("X-Total-Count") is None, meta
        assert body["links"].get("last") is None
    # the gaps make the estimate high: 1000 for far fewer rows
    assert count_rows(mixed_con, "gappy") < 1000


def test_estimate_of_an_empty_table_is_zero(mixed_server):
    r = mixed_server.get(url_for("empty", count="estimate"))
    meta = assert_page(r)["meta"]
    assert meta.get("total") == 0 and meta.get("total_kind") == "estimate", meta


@pytest.mark.sqlite_only  # PostgreSQL estimates from pg_class.reltuples (test_40_postgresql)
def test_sqlite_estimate_on_a_text_key_is_a_bounded_count(mixed_server, mixed_con):
    url = url_for("words", per_page=50, page=2, count="estimate")
    r = mixed_server.get(url)
    body = assert_page(r, url)
    assert_exact(r, body, count_rows(mixed_con, "words"), url)


@pytest.mark.parametrize("table,filt,where", [
    ("items", ("category", "eq.books"), "category = 'books'"),
    ("events", ("kind", "in.(login,none-such)"), "kind IN ('login', 'none-such')"),
    ("users", ("id", "gt.20000"), "id > 20000"),        # exactly the limit: still exact
    ("users", ("id", "lte.10000"), "id <= 10000"),
    ("users", ("id", "gt.29990"), "id > 29990"),
    ("items", ("category", "eq.none-such"), "category = 'none-such'"),
])
def test_filtered_estimate_below_the_limit_is_exact(big_server, big_con, table, filt, where):
    total = count_rows(big_con, table, where)
    assert total <= 10000
    url = url_for(table, per_page=25, page=3, count="estimate", filt=(filt, where))
    r = big_server.get(url)
    body = assert_page(r, url)
    assert_exact(r, body, total, url)


@pytest.mark.parametrize("table,filt,where", [
    ("users", ("id", "gt.19999"), "id > 19999"),         # one row over the limit
    ("users", ("id", "gt.0"), "id > 0"),
    ("items", ("category", "is.not.null"), "category IS NOT NULL"),
    ("events", ("kind", "neq.view"), "kind != 'view'"),
])
def test_filtered_estimate_at_the_limit_is_a_lower_bound_or_the_planners_estimate(
        big_server, big_con, table, filt, where):
    assert count_rows(big_con, table, where) > 10000
    url = url_for(table, per_page=25, page=3, count="estimate", filt=(filt, where))
    r = big_server.get(url)
    body = assert_page(r, url)
    meta = body["meta"]
    kind, total = bounded_estimate(big_con, table, where, 10000)
    assert meta.get("total_kind") == kind and meta.get("total") == total, f"{url}: {meta}"
    assert "pages" not in meta and r.headers.get("X-Total-Count") is None, meta
    assert body["links"].get("last") is None


def test_unfiltered_estimate_on_the_big_demo(big_server, big_con):
    r = big_server.get(url_for("users", count="estimate", per_page=5, page=4000))
    meta = assert_page(r)["meta"]
    assert meta.get("total_kind") == "estimate" and meta.get("total") == 30000, meta


def test_count_limit_from_the_config_bounds_estimates(spawn, mixed_db, mixed_con, secret_file,
                                                      tmp_path):
    srv = config_server(spawn, mixed_db, secret_file, tmp_path,
                        "[pagination]\ncount_limit = 50\n")
    r = srv.get(url_for("t", per_page=5, count="estimate", filt=FILTERS[1]))
    meta = assert_page(r)["meta"]
    kind, total = bounded_estimate(mixed_con, "t", FILTERS[1][1], 50)
    assert meta.get("total_kind") == kind and meta.get("total") == total, meta
    r = srv.get(url_for("gappy", per_page=5, count="estimate", id="lt.40"))
    body = assert_page(r)
    assert_exact(r, body, count_rows(mixed_con, "gappy", "id < 40"), "below count_limit")
    fiftieth = mixed_con.execute("SELECT id FROM gappy ORDER BY id LIMIT 1 OFFSET 49").fetchone()[0]
    r = srv.get(url_for("gappy", per_page=5, count="estimate", id=f"lte.{fiftieth}"))
    assert_exact(r, assert_page(r), 50, "exactly count_limit rows")


# --- the server's default count -------------------------------------------------------------

def test_config_count_exact_is_the_default_and_requests_may_opt_out(spawn, mixed_db, mixed_con,
                                                                    secret_file, tmp_path):
    srv = config_server(spawn, mixed_db, secret_file, tmp_path, '[pagination]\ncount = "exact"\n')
    total = count_rows(mixed_con, "t")
    url = url_for("t", per_page=20, page=7)
    r = srv.get(url)
    assert_exact(r, assert_page(r, url), total, "default count = exact")
    url = url_for("t", per_page=21, page=7, count="none")
    r = srv.get(url)
    assert_no_total(r, assert_page(r, url), "count=none over the default")
    url = url_for("t", per_page=22, page=7)
    r = srv.get(url, headers={"Prefer": "count=none"})
    assert_no_total(r, assert_page(r, url), "Prefer: count=none over the default")


def test_endpoint_count_overrides_the_pagination_default(spawn, mixed_db, mixed_con,
                                                         secret_file, tmp_path):
    srv = config_server(spawn, mixed_db, secret_file, tmp_path,
                        '[pagination]\ncount = "exact"\n[api]\nauto = true\n'
                        '[[endpoint]]\npath = "/est"\ntable = "gappy"\ncount = "estimate"\n')
    r = srv.get("/est?per_page=10&page=2")
    meta = assert_page(r)["meta"]
    assert meta.get("total_kind") == "estimate", meta
    assert meta.get("total") == unfiltered_estimate(mixed_con, "gappy"), meta
    r = srv.get("/api/gappy?per_page=10&page=2")
    assert_exact(r, assert_page(r), count_rows(mixed_con, "gappy"), "/api/gappy")


@pytest.mark.parametrize("mode", ["exact", "estimate", "none"])
def test_count_flag_sets_the_default(spawn, mixed_db, mixed_con, secret_file, mode):
    srv = spawn(mixed_db, secret_file=secret_file, extra_args=["--count", mode], any_sort=True)
    url = url_for("gappy", per_page=10, page=3)
    r = srv.get(url)
    body = assert_page(r, url)
    if mode == "exact":
        assert_exact(r, body, count_rows(mixed_con, "gappy"), "--count exact")
    elif mode == "estimate":
        assert body["meta"].get("total_kind") == "estimate", body["meta"]
        assert body["meta"].get("total") == unfiltered_estimate(mixed_con, "gappy")
    else:
        assert_no_total(r, body, "--count none")
    url = url_for("gappy", per_page=10, page=4, count="exact" if mode != "exact" else "none")
    r = srv.get(url)
    body = assert_page(r, url)
    if mode == "exact":
        assert_no_total(r, body, "count=none over --count exact")
    else:
        assert_exact(r, body, count_rows(mixed_con, "gappy"), f"count=exact over --count {mode}")


def test_count_flag_leaves_endpoints_with_their_own_count(spawn, mixed_db, mixed_con,
                                                         secret_file, tmp_path):
    path = tmp_path / "folio.toml"
    path.write_text(any_sort_text('[pagination]\ncount = "estimate"\n[api]\nauto = true\n'
                                  '[[endpoint]]\npath = "/own"\ntable = "gappy"\n'
                                  'count = "none"\n'))
    srv = spawn(mixed_db, secret_file=secret_file,
                extra_args=["--config", str(path), "--count", "exact"])
    r = srv.get("/own?per_page=10&page=2")
    assert_no_total(r, assert_page(r), "/own keeps count = none")
    r = srv.get("/api/gappy?per_page=10&page=2")
    assert_exact(r, assert_page(r), count_rows(mixed_con, "gappy"), "--count exact")


# --- exact totals in the page's snapshot, while another connection writes -------------------

class Churn(WriterThread):
    """Inserts and deletes rows of `live` on its own WAL connection until stopped, keeping
    the table near `target` rows; counts committed transactions."""

    def __init__(self, path, target):
        super().__init__(path, seed=17, pause=0.001)
        self.target = target

    def step(self, con, rng):
        n = con.execute("SELECT count(*) FROM live").fetchone()[0]
        adds = rng.randint(0, 6) + (3 if n < self.target else 0)
        dels = rng.randint(0, 6) + (3 if n > self.target else 0)
        with con:
            for _ in range(adds):
                con.execute(LIVE_INSERT, live_row(rng))
            con.execute("DELETE FROM live WHERE id IN (SELECT id FROM live "
                        "ORDER BY random() LIMIT ?)", (dels,))


@pytest.fixture
def live_db(backend, tmp_path):
    return make_live_db(tmp_path / "live.db",
                        "CREATE TABLE live(id INTEGER PRIMARY KEY, grp INTEGER NOT NULL, "
                        "label TEXT);CREATE INDEX live_grp ON live(grp, id);", rows=1500, seed=8,
                        backend=backend)


def sort_key(row, sort, backend="sqlite"):
    """Python key for the backend's order of `sort` (+ id): NULLs first ascending in
    SQLite, last in PostgreSQL (the labels compared are single lowercase letters, which
    every collation orders alike)."""
    keys = parse_sort(sort) if sort else []
    if "id" not in [c for c, _ in keys]:
        keys.append(("id", keys[-1][1] if keys else "ASC"))  # follows the last key
    out = []
    for col, direction in keys:
        v = row[col]
        k = (0 if backend == "sqlite" else 2, 0) if v is None else (1, v)
        out.append(k if direction == "ASC" else Desc(k))
    return out


class Desc:
    def __init__(self, v):
        self.v = v

    def __lt__(self, other):
        return other.v < self.v

    def __eq__(self, other):
        return self.v == other.v


def check_snapshot_consistency(resp, body, page, per_page, sort, pred, what, backend):
    meta, data = body["meta"], body["data"]
    total = meta.get("total")
    assert meta.get("total_kind") == "exact" and isinstance(total, int), f"{what}: {meta}"
    assert resp.headers.get("X-Total-Count") == str(total), what
    pages = pages_for(total, per_page)
    assert meta.get("pages") == pages, f"{what}: pages {meta.get('pages')} for total {total}"
    assert param(body["links"]["last"], "page") == str(pages), f"{what}: {body['links']}"
    before = (page - 1) * per_page
    if meta["has_more"]:
        assert len(data) == per_page and page * per_page < total, \
            f"{what}: has_more with {len(data)} rows, page {page}, total {total}"
    elif data:
        assert before + len(data) == total, \
            f"{what}: last page with {len(data)} rows after {before}, but total {total}"
    else:
        assert before >= total, f"{what}: empty page after {before} rows, but total {total}"
    assert meta["has_prev"] == (page > 1 and total > 0), f"{what}: has_prev {meta}, total {total}"
    assert all(pred(row) for row in data), f"{what}: a row outside the filter: {data}"
    keys = [sort_key(row, sort, backend) for row in data]
    assert all(not (keys[i + 1] < keys[i]) for i in range(len(keys) - 1)), \
        f"{what}: rows out of order {[r['id'] for r in data]}"


def test_exact_totals_match_the_page_rows_while_a_writer_runs(spawn, live_db, secret_file,
                                                              backend):
    server = spawn(live_db, secret_file=secret_file, any_sort=True)
    variants = [  # sort, filter params, predicate, per_page
        (None, {}, lambda r: True, 20),
        ("-grp", {}, lambda r: True, 7),
        ("grp,label", {"grp": "lt.5"}, lambda r: r["grp"] < 5, 50),
        (None, {"label": "neq.a"}, lambda r: r["label"] != "a", 100),
        ("-label,-grp", {}, lambda r: True, 33),
    ]
    totals = {}
    churn = Churn(str(live_db), 1500)
    churn.start()
    checked_last = checked_more = 0
    try:
        churn.wait_for_ops(3)
        ops_before = churn.ops
        rng = random.Random(4)
        for i in range(320):
            v = i % len(variants)
            sort, filt, pred, per_page = variants[v]
            if v not in totals:
                body = assert_page(server.get(api("live", per_page=per_page, sort=sort,
                                                  count="exact", **filt)))
                totals[v] = body["meta"]["total"]
            pages = pages_for(totals[v], per_page)
            page = max(1, pages + rng.choice((0, 0, 0, -1, -1, 1, -2)))
            url = api("live", per_page=per_page, sort=sort, page=page, count="exact", **filt)
            r = server.get(url)
            body = assert_page(r, url)
            check_snapshot_consistency(r, body, page, per_page, sort, pred, url, backend)
            totals[v] = body["meta"]["total"]
            if i % 4 == 3:  # interleave for certain: let the writer commit again
                churn.wait_for_next_commit(poll=0.0005)
            if body["data"] and not body["meta"]["has_more"]:
                checked_last += 1
            elif body["meta"]["has_more"]:
                checked_more += 1
        ops_during = churn.ops - ops_before
    finally:
        churn.stop()
    assert churn.error is None, f"writer failed: {churn.error!r}"
    assert ops_during >= 70, f"only {ops_during} writes during the requests: proves little"
    assert checked_last >= 100 and checked_more >= 20, (checked_last, checked_more)


@pytest.mark.parametrize("flags", [[], ["--no-prefetch"]], ids=["page-cache", "no-page-cache"])
def test_exact_total_follows_every_insert_and_delete(spawn, live_db, secret_file, flags):
    server = spawn(live_db, secret_file=secret_file, extra_args=flags, any_sort=True)
    con = connect_db(live_db)
    rng = random.Random(12)
    urls = [  # the same URLs every round: cached pages and cached counts both tempt
        (api("live", per_page=20, count="exact"), None),
        (api("live", per_page=20, page=2, count="exact"), None),
        (api("live", per_page=100, page=12, count="exact"), None),            # deep: the index
        (api("live", per_page=100, page=40, count="exact"), None),            # past the end
        (api("live", per_page=10, page=3, count="exact", grp="gte.5"), "grp >= 5"),
        (api("live", per_page=50, page=9, sort="-label", count="exact", grp="in.(1,2,3)"),
         "grp IN (1, 2, 3)"),
    ]
    try:
        for url, where in urls:  # warm every cache
            for _ in range(3):
                body = assert_page(server.get(url), url)
                assert body["meta"]["total"] == count_rows(con, "live", where), url
        for i in range(20):
            with con:
                if i % 4 == 3:
                    con.execute("DELETE FROM live WHERE id IN (SELECT id FROM live "
                                "WHERE grp IN (2, 7) ORDER BY id LIMIT ?)", (rng.randint(1, 3),))
                else:
                    con.execute("INSERT INTO live(grp, label) VALUES (?, ?)",
                                (rng.choice((2, 7)), rng.choice("abc")))
            for url, where in urls:
                want = count_rows(con, "live", where)
                for _ in range(2):
                    r = server.get(url)
                    body = assert_page(r, url)
                    assert body["meta"]["total"] == want, \
                        f"round {i}: {url}: total {body['meta']['total']}, want {want}"
                    assert r.headers.get("X-Total-Count") == str(want)
    finally:
        con.close()


def test_repeated_exact_counts_on_an_unchanged_table_agree(mixed_server, mixed_con):
    for filt in FILTERS:
        want = count_rows(mixed_con, "t", filt[1] if filt else None)
        for page in (1, 5, 1, 30, 5):
            url = url_for("t", per_page=90, page=page, count="exact", filt=filt)
            r = mixed_server.get(url)
            assert_exact(r, assert_page(r, url), want, url)


# --- offset pages through the boundary index equal LIMIT/OFFSET -----------------------------

SORT_COLUMNS = ("a", "b", "c", "d", "m", "id")


@st.composite
def sorts(draw):
    if draw(st.integers(0, 9)) == 0:
        return None
    cols = draw(st.lists(st.sampled_from(SORT_COLUMNS), min_size=1, max_size=3, unique=True))
    return ",".join(("-" if draw(st.booleans()) else "") + c for c in cols)


@st.composite
def positions(draw, rows=ROWS):
    """(per_page, page, offset): exactly one of page/offset, often deep or past the end."""
    per_page = draw(st.integers(1, 100))
    last = pages_for(rows, per_page)
    if draw(st.booleans()):
        page = draw(st.one_of(st.integers(1, last + 3), st.sampled_from(
            [last, last + 1, max(1, last - 1), 1 + (rows // 2) // per_page])))
        return per_page, page, None
    offset = draw(st.one_of(st.integers(0, rows + 300),
                            st.integers(rows - 150, rows + 5).map(lambda o: max(0, o)),
                            st.sampled_from([STRIDE - 1, STRIDE, STRIDE + 1, 5 * STRIDE - 1,
                                             rows - 1, rows])))
    return per_page, None, offset


FRESH = itertools.count(1)


def check_offset_page(server, con, sort, filt, per_page, page, offset, what="", fresh=None):
    """One offset page against LIMIT/OFFSET. `fresh` adds the no-op filter id >= -fresh: a
    query of its own, so its boundary index starts empty."""
    conds = [filt[1]] if filt else []
    extra = {}
    if fresh is not None:
        extra["id"] = f"gte.-{fresh}"
        conds.append(f"id >= -{fresh}")
    where = " AND ".join(conds) or None
    url = url_for("t", sort=sort, per_page=per_page, page=page, offset=offset, filt=filt,
                  **extra)
    r = server.get(url)
    body = assert_page(r, url)
    start = (page - 1) * per_page if page is not None else offset
    want = expected_rows(con, "t", sort=sort, limit=per_page, offset=start, where=where)
    assert_rows(body["data"], want, f"{what} {url}")
    total = count_rows(con, "t", where)
    assert body["meta"]["has_more"] == (start + per_page < total), f"{what} {url}: {body['meta']}"
    assert body["meta"]["has_prev"] == (start > 0 and total > 0), f"{what} {url}: {body['meta']}"


@HYPOTHESIS
@given(sort=sorts(), pos=positions(), filt=st.sampled_from(FILTERS), fresh=st.booleans(),
       steps=st.lists(st.integers(STRIDE, ROWS + 200), max_size=4))
def test_offset_pages_equal_limit_offset(mixed_server, mixed_con, sort, pos, filt, fresh, steps):
    per_page, page, offset = pos
    k = next(FRESH) if fresh else None
    # deeper and deeper first: each page extends the index from its last boundary
    for step in sorted(steps):
        check_offset_page(mixed_server, mixed_con, sort, filt, per_page, None, step, "step",
                          fresh=k)
    check_offset_page(mixed_server, mixed_con, sort, filt, per_page, page, offset, fresh=k)
    # a second position of the same query: answered from the same boundary index
    if page is not None:
        check_offset_page(mixed_server, mixed_con, sort, filt, per_page, page + 7, None,
                          fresh=k)
    else:
        check_offset_page(mixed_server, mixed_con, sort, filt, per_page, None, offset // 3,
                          fresh=k)


@pytest.mark.parametrize("sort", ["a", "-a", "b,-c", "c,a", "-b,a", "a,b,c", "-d,a", "m",
                                  "-m,c", None])
def test_deep_pages_reached_step_by_step_equal_limit_offset(mixed_server, mixed_con, sort):
    # A query of its own (fresh index), walked down in jumps of one to several strides:
    # extensions resume from boundaries inside NULL runs and runs of equal keys.
    k = next(FRESH)
    for filt in (None, FILTERS[2]):
        offset = STRIDE + 1
        while offset < ROWS + 2 * STRIDE:
            check_offset_page(mixed_server, mixed_con, sort, filt, 37, None, offset, fresh=k)
            offset += STRIDE * (1 + offset % 3) + 13
        for page in (70, 20, 1, 71, 69, 3):  # and back up, from the index built
            check_offset_page(mixed_server, mixed_con, sort, filt, 37, page, None, fresh=k)


@pytest.fixture(scope="module")
def churn_db(tmp_path_factory):
    return make_mixed(tmp_path_factory.mktemp("churn") / "churn.db", rows=1500, seed=9)


@pytest.fixture(scope="module")
def churn_server(module_spawn, churn_db, secret_file):
    return module_spawn(churn_db, secret_file=secret_file, extra_args=["--threads", "1"],
                        any_sort=True)


def mutate(path, seed, inserts, deletes):
    """Insert rows (new ids among and beyond the old ones) and delete random rows."""
    rng = random.Random(seed)
    con = connect_db(path)
    try:
        with con:
            ids = [r[0] for r in con.execute("SELECT id FROM t")]
            top = max(ids, default=0)
            present = set(ids)
            new = [i for i in rng.sample(range(1, top + 200), min(inserts * 3, top + 199))
                   if i not in present][:inserts]
            con.executemany("INSERT INTO t VALUES (?, ?, ?, ?, ?, ?)",
                            [mixed_row(rng, i) for i in new])
            gone = rng.sample(ids, min(deletes, max(0, len(ids) - 200)))
            con.executemany("DELETE FROM t WHERE id = ?", [(i,) for i in gone])
    finally:
        con.close()


@HYPOTHESIS
@given(sort=sorts(), pos=positions(rows=1500), filt=st.sampled_from(FILTERS),
       seed=st.integers(0, 2**32 - 1), inserts=st.integers(0, 120), deletes=st.integers(0, 120))
def test_offset_pages_equal_limit_offset_after_writes(churn_server, churn_db, sort, pos, filt,
                                                      seed, inserts, deletes):
    per_page, page, offset = pos
    con = connect_db(churn_db)
    try:
        # build the index for this query deep enough, then change the data under it
        check_offset_page(churn_server, con, sort, filt, per_page, None, 1400, "before")
        check_offset_page(churn_server, con, sort, filt, per_page, page, offset, "before")
        mutate(churn_db, seed, inserts, deletes)
        check_offset_page(churn_server, con, sort, filt, per_page, page, offset, "after")
        check_offset_page(churn_server, con, sort, filt, per_page, None, 1199, "after")
        check_offset_page(churn_server, con, sort, filt, per_page, None, 1400, "after")
    finally:
        con.close()


@pytest.mark.parametrize("how", ["config", "flag"])
def test_hybrid_off_serves_the_same_pages(spawn, mixed_db, mixed_con, secret_file, tmp_path, how):
    if how == "flag":
        srv = spawn(mixed_db, secret_file=secret_file, extra_args=["--no-hybrid"], any_sort=True)
    else:
        srv = config_server(spawn, mixed_db, secret_file, tmp_path,
                            "[pagination]\nhybrid = false\n")
    rng = random.Random(2)
    for _ in range(30):
        sort = rng.choice([None, "a", "-b,c", "-d,-a", "c"])
        filt = rng.choice(FILTERS)
        check_offset_page(srv, mixed_con, sort, filt, rng.randint(1, 100), None,
                          rng.randint(0, ROWS + 50), "hybrid = false")


@pytest.mark.parametrize("query", [
    f"offset={INT64_MAX}&per_page=5",
    f"offset={INT64_MAX // 100 * 100}&per_page=100&count=exact&sort=-b,c&a=gte.1",
    f"page={INT64_MAX - 6}&per_page=1",
])
def test_the_deepest_offsets_answer_an_empty_page(spawn, mixed_db, secret_file, query):
    # A fresh server (no index yet), with no max_offset (the default refuses these offsets
    # with 400): the boundary index must survive offsets near INT64_MAX.
    server = spawn(mixed_db, secret_file=secret_file, extra_args=["--max-offset", "0"],
                   any_sort=True)
    url = f"/api/t?{query}"
    r = server.get(url)
    body = assert_page(r, url)
    assert body["data"] == [] and body["meta"]["has_more"] is False, body["meta"]
    assert server.alive()


# --- [pagination] max_offset -------------------------------------------------------------------

MAX_OFFSET = 300


@pytest.fixture(scope="module", params=["config", "flag"])
def capped_server(request, module_spawn, mixed_db, secret_file, tmp_path_factory):
    """max_offset from [pagination] max_offset, or from --max-offset."""
    if request.param == "flag":
        return module_spawn(mixed_db, secret_file=secret_file, any_sort=True,
                            extra_args=["--max-offset", str(MAX_OFFSET), "--threads", "1"])
    path = tmp_path_factory.mktemp("capped") / "folio.toml"
    path.write_text(any_sort_text(f"[pagination]\nmax_offset = {MAX_OFFSET}\n"))
    return module_spawn(mixed_db, secret_file=secret_file,
                        extra_args=["--config", str(path), "--threads", "1"])


@pytest.mark.parametrize("sort", [None, "-a,b", "c,-d", "b"])
@pytest.mark.parametrize("filt", FILTERS[:3], ids=["none", "a", "b"])
def test_offset_beyond_max_offset_is_400_with_a_cursor_to_the_same_rows(capped_server,
                                                                        mixed_con, sort, filt):
    where = filt[1] if filt else None
    total = count_rows(mixed_con, "t", where)
    for per_page, offset, page in ((10, MAX_OFFSET + 1, None), (25, 777, None), (7, None, 80),
                                   (100, None, 6), (3, total - 1, None), (1, None, total),
                                   (10, total, None)):  # just past the last row: empty
        url = url_for("t", sort=sort, per_page=per_page, offset=offset, page=page, filt=filt)
        r = capped_server.get(url)
        body = assert_problem(r, 400, param="page" if page else "offset", what=url)
        cursor = body.get("cursor")
        assert isinstance(cursor, str) and cursor.startswith("/api/t?"), f"{url}: {body}"
        assert param(cursor, "after"), cursor
        assert link_header(r).get("next") == cursor, f"{url}: Link {r.headers.get_all('Link')}"
        start = offset if offset is not None else (page - 1) * per_page
        followed = capped_server.get(cursor)
        got = assert_page(followed, cursor)
        want = expected_rows(mixed_con, "t", sort=sort, limit=per_page, offset=start,
                             where=where)
        assert_rows(got["data"], want, f"{url} -> {cursor}")
        assert got["meta"]["per_page"] == per_page
        assert got["meta"]["has_more"] == (start + per_page < total), got["meta"]


def test_offsets_up_to_max_offset_are_served(capped_server, mixed_con):
    for per_page, offset in ((10, MAX_OFFSET), (100, MAX_OFFSET - 99), (1, 0)):
        check_offset_page(capped_server, mixed_con, None, None, per_page, None, offset)
    check_offset_page(capped_server, mixed_con, "-c", None, 30, 11, None)  # offset 300


def test_offset_beyond_max_offset_and_past_the_end_has_no_cursor(capped_server, mixed_con):
    total = count_rows(mixed_con, "t")
    for url in (url_for("t", per_page=10, offset=total + 1),
                url_for("t", per_page=10, offset=total + 1000),
                url_for("t", per_page=50, page=total)):
        r = capped_server.get(url)
        body = assert_problem(r, 400, param=("offset", "page"), what=url)
        assert "cursor" not in body, f"{url}: {body}"


def test_links_never_lead_beyond_max_offset(capped_server, mixed_con):
    # Every link folio emits is one folio serves (issue 10 item 6). Before, an exact
    # total's last link and the next links walked across the limit led to pages the server
    # refused by offset (400 with a cursor). Now the last page is not linked when it lies
    # beyond max_offset, and the next link across the limit is a cursor after the page's
    # last row: the same rows, without a refusal.
    total = count_rows(mixed_con, "t")
    per_page = 40
    pages = pages_for(total, per_page)
    assert (pages - 1) * per_page > MAX_OFFSET, "the fixture must reach beyond max_offset"
    body = assert_page(capped_server.get(url_for("t", per_page=per_page, page=2, count="exact")))
    assert body["links"].get("last") is None, body["links"]
    assert body["meta"]["pages"] == pages and body["meta"]["total"] == total
    near = assert_page(capped_server.get(url_for("t", per_page=per_page, offset=MAX_OFFSET - 80,
                                                 count="exact")))
    assert param(near["links"]["next"], "offset") == str(MAX_OFFSET - 40), near["links"]

    url, seen = url_for("t", per_page=per_page, page=6, sort="-c,a"), []
    while len(seen) < 10 * per_page:
        page = assert_page(capped_server.get(url), url)
        seen.extend(page["data"])
        url = page["links"]["next"]
        if param(url, "offset") is None and param(url, "page") is None:
            assert param(url, "after"), url  # across the limit: a cursor
    assert_rows(seen, expected_rows(mixed_con, "t", sort="-c,a", limit=10 * per_page,
                                    offset=5 * per_page), "a walk across max_offset")
