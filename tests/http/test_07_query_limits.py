"""What bounds the work of one request (issue 10 item 3): a time limit on a page's queries
([server] query_timeout: the page, its has_prev/has_more probes, its exact total and the
boundary index it builds), answered 503 problem+json with Retry-After; a finite default
max_offset (100000); and auto endpoints sorting only by columns an index leads unless
[api] sortable = "all".

No test times anything: the slow queries are made slow by size (300,000 rows) against a
limit of 1 ms, and the same requests are answered 200 by a server without that limit."""

import subprocess

import pytest

from folio_api import assert_page, assert_problem, param
from folio_server import as_backend, connect_db, folio_bin, make_db, make_secret, sanitizer_env

BIG = 300_000


@pytest.fixture(scope="module")
def big_db(backend, tmp_path_factory):
    """big(id INTEGER PRIMARY KEY, v TEXT, w TEXT): v is 'a' only on the last 10 rows,
    w is 'common' everywhere; no index but the rowid (the primary key in PostgreSQL)."""
    path = make_db(tmp_path_factory.mktemp("big") / "big.db",
                   "CREATE TABLE big(id INTEGER PRIMARY KEY, v TEXT, w TEXT);")
    con = connect_db(path)
    con.executemany("INSERT INTO big VALUES (?, ?, 'common')",
                    ((i, "a" if i > BIG - 10 else f"r{i % 977}") for i in range(1, BIG + 1)))
    con.commit()
    con.close()
    return as_backend(backend, path)


@pytest.fixture(scope="module")
def key(tmp_path_factory):
    return make_secret(tmp_path_factory.mktemp("key") / "shared.key")


def config_args(directory, text):
    path = directory / "folio.toml"
    path.write_text(text)
    return ["--config", str(path)]


def limited_server(module_spawn, db, key, directory, query_timeout):
    """Any sort, no max_offset, no prefetch; queries stopped after query_timeout s (0: never)."""
    args = config_args(directory,
                       f'[server]\nquery_timeout = {query_timeout}\n[pagination]\nmax_offset = 0\n'
                       '[api]\nsortable = "all"\n[prefetch]\nenabled = false\n')
    return module_spawn(db, secret_file=key, extra_args=args)


@pytest.fixture(scope="module")
def slow(module_spawn, big_db, key, tmp_path_factory):
    """Every query longer than 1 ms is stopped."""
    return limited_server(module_spawn, big_db, key, tmp_path_factory.mktemp("slow"), 0.001)


@pytest.fixture(scope="module")
def patient(module_spawn, big_db, key, tmp_path_factory):
    """The same settings without a time limit, and the same key: its cursors work on slow."""
    return limited_server(module_spawn, big_db, key, tmp_path_factory.mktemp("patient"), 0)


def assert_timeout(r, what):
    body = assert_problem(r, 503, what=what)
    assert body["type"].endswith("/query-timeout"), f"{what}: {body}"
    retry = r.headers.get("Retry-After")
    assert retry is not None and retry.isdigit() and int(retry) >= 1, f"{what}: {retry!r}"
    return body


# --- query_timeout ---------------------------------------------------------------------

def test_a_page_query_over_the_time_limit_is_a_503_problem(slow, patient):
    url = "/api/big?sort=v&offset=1000&per_page=5"  # sorts 300,000 rows
    assert_page(patient.get(url), url)
    assert_timeout(slow.get(url), url)
    # the limit stops slow queries, not the server: a cheap page is still served
    assert_page(slow.get("/api/big?per_page=3"), "a cheap page")


def test_the_time_limit_covers_the_exact_total(slow, patient):
    # the page is the first rows (fast); count(*) over the filter reads all 300,000
    url = "/api/big?w=eq.common&per_page=2&count=exact"
    body = assert_page(patient.get(url), url)
    assert body["meta"]["total"] == BIG
    assert assert_page(slow.get("/api/big?w=eq.common&per_page=2"))["data"]
    assert_timeout(slow.get(url), url)


def test_the_time_limit_covers_the_boundary_index_build(slow, patient):
    # offset 250,000 by the key: the boundary index scans 250,000 keys to get there
    url = "/api/big?offset=250000&per_page=1"
    assert assert_page(patient.get(url), url)["data"][0]["id"] == 250001
    assert_timeout(slow.get(url), url)


# SQLite's probe is a bare LIMIT 1 that reads every earlier row; PostgreSQL's is an
# ordered index seek (FOLIO_DB_CAP_ORDERED_PROBES) that this data cannot make slow.
@pytest.mark.sqlite_only
def test_the_time_limit_covers_the_has_prev_probe(slow, patient):
    # The cursor sits among the last rows, where v = 'a': the page after it is a short
    # rowid range, but the probe for an earlier 'a' row reads every row before it.
    first = assert_page(patient.get("/api/big?v=eq.a&per_page=2"))
    nxt = first["links"]["next"]
    assert param(nxt, "after"), first["links"]
    assert assert_page(patient.get(nxt), nxt)["meta"]["has_prev"] is True
    assert_timeout(slow.get(nxt), nxt)


def test_query_timeout_is_validated(tmp_path):
    path = tmp_path / "folio.toml"
    for text, why in (("query_timeout = -1", "must be from 0 to 3600"),
                      ("query_timeout = 3601", "must be from 0 to 3600"),
                      ('query_timeout = "5"', "expected a number")):
        path.write_text(f"[server]\n{text}\n")
        proc = subprocess.run([folio_bin(), "check-config", str(path)], capture_output=True,
                              env=sanitizer_env(), timeout=60)
        err = proc.stderr.decode()
        assert proc.returncode == 2 and f"[server] query_timeout: {why}" in err, (text, err)


# --- max_offset ------------------------------------------------------------------------

def test_offsets_beyond_the_default_max_offset_are_refused(spawn, demo_db):
    srv = spawn(demo_db)  # no setting: the default applies
    assert_page(srv.get("/api/users?offset=100000"), "offset = max_offset")
    for query, name in (("offset=100001", "offset"), ("offset=990000", "offset"),
                        ("page=5002&per_page=20", "page")):
        body = assert_problem(srv.get(f"/api/users?{query}"), 400, param=name, what=query)
        assert body["type"].endswith("/offset-too-deep"), body
        assert "100000" in body["detail"], body


def test_max_offset_0_means_no_limit(spawn, demo_db):
    srv = spawn(demo_db, extra_args=["--max-offset", "0"])
    body = assert_page(srv.get("/api/users?offset=990000"))
    assert body["data"] == [] and body["meta"]["has_more"] is False


# --- which sorts auto endpoints allow ----------------------------------------------------

def test_auto_endpoints_refuse_sorts_no_index_serves(spawn, demo_db):
    srv = spawn(demo_db)
    # the request: an unindexed sort at a deep offset
    body = assert_problem(srv.get("/api/events?sort=payload&offset=990000"), 400, param="sort")
    assert body["type"].endswith("/not-sortable") and "'payload'" in body["detail"], body
    for sort in ("email", "-email", "name,email"):
        body = assert_problem(srv.get(f"/api/users?sort={sort}"), 400, param="sort",
                              what=sort)
        assert "'email'" in body["detail"] and "sortable" in body["detail"], body
    # columns that lead an index, and the key, are sortable
    for table, sort in (("users", "name"), ("users", "-created_at"), ("users", "-id"),
                        ("events", "kind,-created_at"), ("items", "-price"),
                        ("items", "category,price")):
        assert_page(srv.get(f"/api/{table}?sort={sort}&per_page=3"), f"{table} sort={sort}")
    # an unknown column is still unknown, not "not sortable"
    body = assert_problem(srv.get("/api/users?sort=nope"), 400, param="sort")
    assert body["type"].endswith("/unknown-column"), body


def test_the_index_lists_which_columns_sort(spawn, demo_db):
    srv = spawn(demo_db)
    listing = srv.get("/").json()
    users = next(t for t in listing["tables"] if t["name"] == "users")
    sortable = {c["name"]: c["sortable"] for c in users["columns"]}
    assert sortable["id"] and sortable["name"] and sortable["created_at"], sortable
    assert sortable["email"] is False, sortable


def test_sortable_all_allows_every_column(spawn, demo_db, tmp_path):
    srv = spawn(demo_db, extra_args=config_args(tmp_path, '[api]\nsortable = "all"\n'))
    for table, sort in (("users", "email"), ("events", "payload"), ("users", "-email,name")):
        assert_page(srv.get(f"/api/{table}?sort={sort}&per_page=3"), f"{table} sort={sort}")


def test_configured_endpoints_keep_their_own_sortable_list(spawn, demo_db, tmp_path):
    # the policy is for auto endpoints; an [[endpoint]] lists what it sorts by
    args = config_args(tmp_path, '[[endpoint]]\npath = "/people"\ntable = "users"\n'
                                 'sortable = ["email", "id"]\n')
    srv = spawn(demo_db, extra_args=args)
    assert_page(srv.get("/people?sort=-email&per_page=3"))
    body = assert_problem(srv.get("/people?sort=name"), 400, param="sort")
    assert "'name'" in body["detail"] and "not sortable" in body["detail"], body
