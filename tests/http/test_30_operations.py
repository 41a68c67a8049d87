"""Operations, black-box: next-page prefetch (hits on a walk, never a stale page after a
write, single flight), per-client rate limits (RateLimit headers, 429 problem, trusted
X-Forwarded-For, a bounded bucket table), CORS, /healthz and /metrics, the access log,
the serve flags, and SIGHUP reload without a failed request.

Servers run on a WAL-mode SQLite file written by the tests with stdlib sqlite3, and on its
PostgreSQL copy (conftest's backend parametrization). /metrics is read from 127.0.0.2
where a test rate-limits 127.0.0.1, so that reading the counters does not spend the
tokens under test."""

import http.client
import random
import re
import signal
import sqlite3
import subprocess
import threading
import time

import pytest

from folio_api import assert_page, assert_problem
from folio_ops import ClientThreads, parse_metrics, wait_for
from folio_server import (Response, as_backend, check_sanitizer_output, connect_db, folio_bin,
                          make_target, media_type, sanitizer_env, strict_json)

ROWS = 3000
BIG_ROWS = 200_000
ORIGIN = "https://app.example"


def _items_sql(n=ROWS):
    values = ", ".join(f"({i}, 'item {i}', {i % 97}, 'cat{i % 5}')" for i in range(1, n + 1))
    return ("CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT NOT NULL, value INTEGER, "
            "category TEXT);"
            f"INSERT INTO items VALUES {values};")


@pytest.fixture(scope="module")
def ops_db(backend, tmp_path_factory):
    """items(id, name, value, category), 3000 rows; tests must not write to it."""
    return make_target(backend, tmp_path_factory.mktemp("ops") / "ops.db", _items_sql())


@pytest.fixture
def writable_db(backend, tmp_path):
    """A private copy of items that a test may change."""
    return make_target(backend, tmp_path / "rw.db", _items_sql(200))


@pytest.fixture(scope="module")
def big_db(backend, tmp_path_factory):
    """big(id, value, pad) with 200k rows and no index on value: filtered counts are slow."""
    path = tmp_path_factory.mktemp("big") / "big.db"
    con = sqlite3.connect(str(path))
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("CREATE TABLE big(id INTEGER PRIMARY KEY, value INTEGER, pad TEXT)")
    con.executemany("INSERT INTO big VALUES (?, ?, ?)",
                    ((i, i % 1000, "x" * 40) for i in range(1, BIG_ROWS + 1)))
    con.commit()
    con.close()
    return as_backend(backend, path)


# --- helpers ---------------------------------------------------------------------------

def fetch(srv, path, headers=None, source="127.0.0.1", method="GET"):
    """One request on a fresh connection from the local address `source`."""
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30,
                                      source_address=(source, 0))
    try:
        conn.request(method, path, headers=dict(headers or {}))
        resp = conn.getresponse()
        out = Response(resp.status, resp.msg, resp.read())
        if method in ("GET", "HEAD"):
            srv.record_links(path, out)  # requested again when the server stops
        return out
    finally:
        conn.close()


def metrics(srv, source="127.0.0.2"):
    """/metrics as {"name{labels}": value}; checks the Prometheus text media type."""
    r = fetch(srv, "/metrics", source=source)
    assert r.status == 200, r
    assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4"), r.headers
    return parse_metrics(r.body.decode("utf-8"))


def metric(srv, name, source="127.0.0.2"):
    return metrics(srv, source).get(name, 0.0)


def requests_total(route, status="2xx"):
    return f'folio_http_requests_total{{route="{route}",status="{status}"}}'


def walk(srv, url, pages, delay=0.0):
    """Follow `next` for `pages` pages; returns the bodies."""
    bodies = []
    for _ in range(pages):
        body = assert_page(fetch(srv, url), url)
        bodies.append(body)
        url = body["links"]["next"]
        assert url is not None, "walk ran out of pages"
        time.sleep(delay)
    return bodies


def ratelimit(resp):
    h = resp.headers
    return (h.get("RateLimit-Limit"), h.get("RateLimit-Remaining"))


def wait_stderr(srv, text, timeout=10.0):
    return wait_for(lambda: text in srv.stderr_text(), timeout, f"{text!r} on stderr")


# --- prefetch --------------------------------------------------------------------------

def test_sequential_walk_is_served_from_prefetched_pages(spawn, ops_db):
    srv = spawn(ops_db)
    pages = 12
    before = metric(srv, "folio_prefetch_hits_total")
    bodies = walk(srv, "/api/items?per_page=25", pages, delay=0.05)
    hits = metric(srv, "folio_prefetch_hits_total") - before
    assert hits >= pages - 2, f"{hits} prefetch hits on a walk of {pages} pages"
    ids = [row["id"] for body in bodies for row in body["data"]]
    assert ids == list(range(1, pages * 25 + 1)), "prefetched pages are not the walk's pages"


def test_a_walk_started_mid_table_is_prefetched_from_its_third_step(spawn, ops_db):
    srv = spawn(ops_db)
    pages = 10
    before = metric(srv, "folio_prefetch_hits_total")
    bodies = walk(srv, "/api/items?per_page=25&page=7", pages, delay=0.05)
    hits = metric(srv, "folio_prefetch_hits_total") - before
    # page 7 is a random position, page 8 follows its link, page 9 follows a follower:
    # from then on it is a walk
    assert hits >= pages - 3, f"{hits} prefetch hits on a walk of {pages} pages from page 7"
    ids = [row["id"] for body in bodies for row in body["data"]]
    assert ids == list(range(6 * 25 + 1, (6 + pages) * 25 + 1))


def test_pages_at_random_positions_trigger_no_prefetch(spawn, ops_db):
    srv = spawn(ops_db)
    m0 = metrics(srv)
    # pages 3, 6, 9, ...: no request is the next page of another one
    positions = list(range(3, ROWS // 10, 3))
    random.Random(16).shuffle(positions)
    for page in positions[:30]:
        assert_page(fetch(srv, f"/api/items?per_page=10&page={page}"))
    time.sleep(0.2)  # a prefetch queued by the last request would have started
    m = metrics(srv)
    for name in ("folio_prefetch_started_total", "folio_prefetch_declined_total",
                 "folio_prefetch_cache_bytes"):
        assert name in m, f"/metrics has no {name}: a missing counter is not a zero"
    started = m["folio_prefetch_started_total"] - m0["folio_prefetch_started_total"]
    declined = m["folio_prefetch_declined_total"] - m0["folio_prefetch_declined_total"]
    assert started == 0, f"{started} next pages fetched for 30 requests at random positions"
    assert declined == 30
    # a page asked for once is not copied into the cache either
    assert m["folio_prefetch_cache_bytes"] == 0


def test_a_page_asked_for_again_is_served_from_the_cache(spawn, ops_db):
    srv = spawn(ops_db)
    url = "/api/items?per_page=10&page=40"
    before = metric(srv, "folio_prefetch_misses_total")
    bodies = [assert_page(fetch(srv, url)).get("data") for _ in range(4)]
    misses = metric(srv, "folio_prefetch_misses_total") - before
    assert misses == 2, f"{misses} misses for 4 requests of one page (kept from the second)"
    assert all(b == bodies[0] for b in bodies)


def test_no_prefetch_walk_has_no_hits(spawn, ops_db):
    srv = spawn(ops_db, extra_args=["--no-prefetch"])
    walk(srv, "/api/items?per_page=25", 8, delay=0.05)
    m = metrics(srv)
    for name in ("folio_prefetch_hits_total", "folio_prefetch_started_total"):
        assert name in m, f"/metrics has no {name}: a missing counter is not a zero"
        assert m[name] == 0, f"{name} = {m[name]} with --no-prefetch"


def test_a_write_after_prefetch_is_visible_on_the_next_page(spawn, writable_db):
    srv = spawn(writable_db)
    started = metric(srv, "folio_prefetch_started_total")
    page1 = assert_page(fetch(srv, "/api/items?per_page=10"))
    wait_for(lambda: metric(srv, "folio_prefetch_started_total") > started, what="a prefetch")
    time.sleep(0.3)  # let the background fetch of page 2 finish and be cached
    con = connect_db(writable_db)
    con.execute("UPDATE items SET name = 'changed after prefetch' WHERE id = 15")
    con.commit()
    con.close()
    page2 = assert_page(fetch(srv, page1["links"]["next"]))
    row = next(r for r in page2["data"] if r["id"] == 15)
    assert row["name"] == "changed after prefetch", "a stale prefetched page was served"


def test_concurrent_identical_requests_share_one_fetch(spawn, big_db):
    srv = spawn(big_db, extra_args=["--threads", "8"])
    url = "/api/big?value=eq.7&count=exact&per_page=20"
    assert "folio_prefetch_misses_total" in metrics(srv), "no misses counter: nothing to judge"
    before = metric(srv, "folio_prefetch_misses_total")
    n = 16
    conns = [http.client.HTTPConnection("127.0.0.1", srv.port, timeout=60) for _ in range(n)]
    for c in conns:
        c.connect()
    barrier = threading.Barrier(n)
    results = [None] * n

    def one(i):
        barrier.wait()
        conns[i].request("GET", url)
        r = conns[i].getresponse()
        results[i] = (r.status, r.getheader("X-Total-Count"), r.read())

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    for c in conns:
        c.close()
    assert all(r is not None and r[0] == 200 for r in results), [r and r[0] for r in results]
    assert len({r for r in results}) == 1, "identical requests got different answers"
    assert results[0][1] == str(BIG_ROWS // 1000)
    misses = metric(srv, "folio_prefetch_misses_total") - before
    assert 1 <= misses <= 4, f"{misses} of {n} identical concurrent requests queried the database"


def test_prefer_count_is_not_answered_from_a_page_cached_without_it(spawn, ops_db):
    srv = spawn(ops_db)
    r = fetch(srv, "/api/items?per_page=10")
    page1 = assert_page(r)
    assert r.headers.get("X-Total-Count") is None
    time.sleep(0.3)  # page 2 is prefetched without a count
    r = fetch(srv, page1["links"]["next"], {"Prefer": "count=exact"})
    assert_page(r)
    assert r.headers.get("X-Total-Count") == str(ROWS)
    r = fetch(srv, "/api/items?per_page=10")  # cached without a count, and stays so
    assert r.headers.get("X-Total-Count") is None


# --- rate limits -----------------------------------------------------------------------

def test_rate_limit_headers_then_429_then_allowed_again(spawn, ops_db):
    srv = spawn(ops_db, extra_args=["--rate", "0.5", "--burst", "3"])
    limited = metric(srv, "folio_rate_limited_total")
    # From 127.0.0.3: the spawner's readiness probe spent a token of 127.0.0.1.
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30,
                                      source_address=("127.0.0.3", 0))
    seen = []
    for _ in range(4):
        conn.request("GET", "/api/items?per_page=2")
        r = conn.getresponse()
        seen.append(Response(r.status, r.msg, r.read()))
    conn.close()
    assert [r.status for r in seen[:3]] == [200, 200, 200]
    assert [ratelimit(r) for r in seen[:3]] == [("3", "2"), ("3", "1"), ("3", "0")]
    refused = seen[3]
    assert_problem(refused, 429, detail_contains="too many requests")
    assert int(refused.headers["Retry-After"]) >= 1
    assert ratelimit(refused) == ("3", "0")
    assert int(refused.headers["RateLimit-Reset"]) >= 1
    assert metric(srv, "folio_rate_limited_total") == limited + 1
    assert metric(srv, requests_total("/api/items", "429")) == 1
    time.sleep(int(refused.headers["Retry-After"]) + 0.1)
    again = fetch(srv, "/api/items?per_page=2", source="127.0.0.3")
    assert again.status == 200, again


# The bucket tests below request the index (/): /healthz and /metrics spend no tokens
# (test_40_auth.py::test_healthz_and_metrics_spend_no_tokens).
def test_x_forwarded_for_from_an_untrusted_peer_is_ignored(spawn, ops_db):
    srv = spawn(ops_db, extra_args=["--rate", "0.5", "--burst", "3"])
    got = [fetch(srv, "/", {"X-Forwarded-For": f"10.0.0.{i}"}, source="127.0.0.3")
           for i in range(1, 5)]
    assert [r.status for r in got] == [200, 200, 200, 429], "XFF split one client's bucket"
    assert [ratelimit(r)[1] for r in got] == ["2", "1", "0", "0"]


def test_x_forwarded_for_from_a_trusted_proxy_names_the_client(spawn, ops_db):
    srv = spawn(ops_db, extra_args=["--rate", "0.5", "--burst", "2",
                                    "--trust-proxy", "127.0.0.1"])
    a = {"X-Forwarded-For": "203.0.113.7"}
    b = {"X-Forwarded-For": "198.51.100.1, 203.0.113.9"}  # rightmost untrusted entry counts
    assert [fetch(srv, "/", a).status for _ in range(3)] == [200, 200, 429]
    r = fetch(srv, "/", b)
    assert r.status == 200 and ratelimit(r) == ("2", "1"), "another client shared a bucket"
    spoof = {"X-Forwarded-For": "203.0.113.9, 203.0.113.7"}  # the left entry is a claim
    assert fetch(srv, "/", spoof).status == 429


def fetch_lines(srv, path, lines, source="127.0.0.1", method="GET"):
    """One request whose headers are `lines` [(name, value)], repeated names kept."""
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30,
                                      source_address=(source, 0))
    try:
        conn.putrequest(method, path)
        for name, value in lines:
            conn.putheader(name, value)
        conn.endheaders()
        resp = conn.getresponse()
        return Response(resp.status, resp.msg, resp.read())
    finally:
        conn.close()


def test_repeated_x_forwarded_for_lines_are_one_list(spawn, ops_db):
    """A client behind the proxy writes its own first line; the proxy appends the real
    address as a second line. The lines are one list: the rightmost untrusted hop is the
    client, so varying the first line gets no fresh bucket."""
    srv = spawn(ops_db, extra_args=["--rate", "0.2", "--burst", "2",
                                    "--trust-proxy", "127.0.0.1"])
    got = [fetch_lines(srv, "/", [("X-Forwarded-For", f"1.1.{i}.1"),
                                         ("X-Forwarded-For", "7.7.7.7")]).status
           for i in range(30)]
    assert got.count(200) <= 3 and got.count(429) >= 27, got
    # The same list on one line is the same client.
    r = fetch(srv, "/", {"X-Forwarded-For": "1.1.99.1, 7.7.7.7"})
    assert r.status == 429, r
    # Hops of trusted proxies are skipped across lines: 127.0.0.1 appended the last one.
    lines = [("X-Forwarded-For", "9.9.9.9"), ("X-Forwarded-For", "198.51.100.4"),
             ("X-Forwarded-For", "127.0.0.1")]
    first = fetch_lines(srv, "/", lines)
    assert first.status == 200 and ratelimit(first) == ("2", "1"), first
    assert fetch_lines(srv, "/", lines).status == 200
    assert fetch_lines(srv, "/", lines).status == 429
    # One address, one bucket, however it is spelled.
    v6 = [fetch(srv, "/", {"X-Forwarded-For": a}).status
          for a in ("2001:db8::1", "2001:DB8:0::1", "2001:db8:0:0:0:0:0:1")]
    assert v6 == [200, 200, 429], v6


def test_options_requests_spend_rate_limit_tokens(spawn, ops_db):
    srv = spawn(ops_db, extra_args=["--rate", "0.2", "--burst", "2",
                                    "--cors-origin", ORIGIN])
    got = [fetch(srv, "/api/items", {"Origin": ORIGIN, "Access-Control-Request-Method": "GET"},
                 source="127.0.0.4", method="OPTIONS") for _ in range(30)]
    statuses = [r.status for r in got]
    assert statuses.count(204) <= 3 and statuses.count(429) >= 27, statuses
    refused = next(r for r in got if r.status == 429)
    assert_problem(refused, 429, detail_contains="too many requests")
    # The refusal still lets the browser read it.
    assert refused.headers["Access-Control-Allow-Origin"] == ORIGIN
    # And a GET from the same client finds the bucket empty.
    assert fetch(srv, "/api/items", source="127.0.0.4").status == 429


def test_many_clients_with_a_small_bucket_table_keep_being_answered(spawn, ops_db, tmp_path):
    cfg = tmp_path / "folio.toml"
    cfg.write_text('[rate_limit]\nrate = 1\nburst = 2\nclients = 64\n'
                   'trusted_proxies = ["127.0.0.1"]\n')
    srv = spawn(ops_db, extra_args=["--config", cfg])

    def rss_kib():
        with open(f"/proc/{srv.proc.pid}/status") as f:
            return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))

    def clients(first, count):
        conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30)
        statuses = []
        for i in range(first, first + count):
            conn.request("GET", "/",
                         headers={"X-Forwarded-For": f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}"})
            r = conn.getresponse()
            r.read()
            statuses.append(r.status)
        conn.close()
        return statuses

    assert set(clients(0, 500)) == {200}
    rss = rss_kib()
    threads, results = [], {}
    for k in range(4):
        t = threading.Thread(target=lambda k=k: results.__setitem__(k, clients(1000 + k * 1250,
                                                                                1250)))
        threads.append(t)
        t.start()
    for t in threads:
        t.join(300)
    assert all(set(results[k]) == {200} for k in range(4)), "a new client was refused"
    assert fetch(srv, "/healthz").status == 200
    assert rss_kib() - rss < 64 * 1024, "memory grew with the number of clients"


def test_endpoint_rate_limit_applies_to_that_endpoint_only(spawn, ops_db, tmp_path):
    cfg = tmp_path / "folio.toml"
    cfg.write_text('[api]\nauto = true\n[[endpoint]]\npath = "/slow"\ntable = "items"\n'
                   'rate = 0.5\nburst = 2\n')
    srv = spawn(ops_db, extra_args=["--config", cfg])
    assert [fetch(srv, "/slow").status for _ in range(3)] == [200, 200, 429]
    r = fetch(srv, "/api/items")
    assert r.status == 200 and r.headers.get("RateLimit-Limit") is None


# --- CORS ------------------------------------------------------------------------------

def test_no_cors_headers_by_default(spawn, ops_db):
    srv = spawn(ops_db)
    r = fetch(srv, "/api/items", {"Origin": ORIGIN})
    assert r.status == 200 and r.headers.get("Access-Control-Allow-Origin") is None
    r = fetch(srv, "/api/items", {"Origin": ORIGIN, "Access-Control-Request-Method": "GET"},
              method="OPTIONS")
    assert r.headers.get("Access-Control-Allow-Origin") is None
    assert r.headers.get("Access-Control-Allow-Methods") is None


def test_cors_origin_reads_pages_and_their_headers(spawn, ops_db):
    srv = spawn(ops_db, extra_args=["--cors-origin", ORIGIN, "--rate", "100"])
    r = fetch(srv, "/api/items?per_page=5", {"Origin": ORIGIN})
    body = assert_page(r)
    assert r.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "Origin" in r.headers.get("Vary", "")
    exposed = {h.strip() for h in r.headers["Access-Control-Expose-Headers"].split(",")}
    assert {"Link", "X-Total-Count", "RateLimit-Remaining"} <= exposed
    # The next page comes from the prefetch cache: still this request's own CORS headers.
    time.sleep(0.3)
    r = fetch(srv, body["links"]["next"], {"Origin": "https://evil.example"})
    assert r.status == 200 and r.headers.get("Access-Control-Allow-Origin") is None
    r = fetch(srv, "/api/items", {"Origin": "https://evil.example"})
    assert r.headers.get("Access-Control-Allow-Origin") is None


def test_cors_preflight_is_answered_with_204(spawn, ops_db):
    srv = spawn(ops_db, extra_args=["--cors-origin", ORIGIN])
    r = fetch(srv, "/api/items", {"Origin": ORIGIN, "Access-Control-Request-Method": "GET",
                                  "Access-Control-Request-Headers": "Prefer"},
              method="OPTIONS")
    assert r.status == 204 and r.body == b""
    assert r.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "GET" in r.headers["Access-Control-Allow-Methods"]
    assert r.headers.get("Access-Control-Allow-Headers") == "Prefer"
    other = fetch(srv, "/api/items", {"Origin": "https://other.example",
                                      "Access-Control-Request-Method": "GET"}, method="OPTIONS")
    assert other.headers.get("Access-Control-Allow-Origin") is None
    assert other.headers.get("Access-Control-Allow-Methods") is None


def test_cors_star_allows_any_origin(spawn, ops_db, tmp_path):
    cfg = tmp_path / "folio.toml"
    cfg.write_text('[cors]\norigins = ["*"]\n')
    srv = spawn(ops_db, extra_args=["--config", cfg])
    r = fetch(srv, "/api/items", {"Origin": "https://anything.example"})
    assert r.headers["Access-Control-Allow-Origin"] == "*"


# --- /healthz, /metrics ----------------------------------------------------------------

def test_healthz_says_ok(spawn, ops_db):
    srv = spawn(ops_db)
    r = fetch(srv, "/healthz")
    assert r.status == 200 and media_type(r.headers) == "application/json"
    assert strict_json(r.body) == {"status": "ok"}


def test_metrics_count_requests_exactly(spawn, ops_db):
    srv = spawn(ops_db)
    before = metrics(srv)
    for page in range(1, 8):
        assert fetch(srv, f"/api/items?page={page}&per_page=3").status == 200
    assert fetch(srv, "/api/items?sort=nope").status == 400
    after = metrics(srv)
    ok = requests_total("/api/items")
    assert after[ok] - before.get(ok, 0) == 7
    bad = requests_total("/api/items", "400")
    assert after[bad] - before.get(bad, 0) == 1
    assert after["folio_http_request_duration_seconds_count"] > 0
    assert after["folio_open_connections"] >= 1  # this scrape's own


def test_rows_served_counts_the_rows_returned_without_prefetch(spawn, ops_db):
    srv = spawn(ops_db, extra_args=["--no-prefetch"])
    before = metric(srv, "folio_rows_served_total")
    bodies = walk(srv, "/api/items?per_page=7", 5)
    bodies.append(assert_page(fetch(srv, f"/api/items?offset={ROWS - 4}")))
    rows = sum(len(b["data"]) for b in bodies)
    assert rows == 5 * 7 + 4
    assert metric(srv, "folio_rows_served_total") - before == rows


def test_rows_served_counts_the_rows_returned_with_prefetch(spawn, ops_db):
    srv = spawn(ops_db)
    before = metric(srv, "folio_rows_served_total")
    started = metric(srv, "folio_prefetch_started_total")
    bodies = walk(srv, "/api/items?per_page=7", 5, delay=0.1)
    wait_for(lambda: metric(srv, "folio_prefetch_started_total") - started >= 5,
             what="the prefetches of pages 2 to 6")
    time.sleep(0.5)  # and their queries
    rows = sum(len(b["data"]) for b in bodies)
    assert metric(srv, "folio_rows_served_total") - before == rows


# --- the access log --------------------------------------------------------------------

def test_access_log_has_one_line_per_request(spawn, ops_db, tmp_path):
    log = tmp_path / "access.log"
    srv = spawn(ops_db, extra_args=["--access-log", log])
    asked = [("/api/items?per_page=2", 200), ("/api/nothing", 404), ("/api/items?page=x", 400)]
    for path, status in asked:
        assert fetch(srv, path).status == status
    wait_for(lambda: log.exists() and log.read_text().count("\n") >= len(asked) + 1,
             what="the access log lines")
    lines = log.read_text().splitlines()
    for path, status in asked:
        mine = [ln for ln in lines if f" GET {path} " in ln]
        assert len(mine) == 1, f"{path}: {mine}"
        assert re.search(rf" GET {re.escape(path)} {status} \d+ \d+us$", mine[0]), mine[0]
        assert " 127.0.0.1 " in mine[0]


def test_access_log_dash_goes_to_stderr(spawn, ops_db):
    srv = spawn(ops_db, extra_args=["--access-log", "-"])
    fetch(srv, "/api/items?per_page=1&marker=stderr-log")
    wait_stderr(srv, "GET /api/items?per_page=1&marker=stderr-log 400")


# --- serve flags -----------------------------------------------------------------------

def test_serve_help_lists_the_operations_flags():
    out = subprocess.run([folio_bin(), "serve", "--help"], capture_output=True, text=True,
                         env=sanitizer_env(), timeout=30)
    assert out.returncode == 0
    for flag in ("--rate", "--burst", "--trust-proxy", "--cors-origin", "--access-log",
                 "--no-prefetch", "--max-offset", "--count", "--files-root", "--no-hybrid",
                 "SIGHUP"):
        assert flag in out.stdout, flag


@pytest.mark.parametrize("args, message", [
    (["--rate", "-1"], "--rate must be a number"),
    (["--rate", "fast"], "--rate must be a number"),
    (["--burst", "0", "--rate", "1"], "--burst must be from 1 to 1000000"),
    (["--burst", "4"], "--burst needs a rate"),
    (["--trust-proxy", "10.0.0.0/8"], "--trust-proxy wants an IP address"),
    (["--cors-origin", "https://app.example/"], "no path, query or trailing '/'"),
    (["--cors-origin", "*", "--cors-origin", ORIGIN], "give it alone"),
    (["--count", "all"], "--count must be none, exact or estimate"),
    (["--max-offset", "-5"], "--max-offset must be a number"),
    (["--max-offset", str(2**50 + 1)], "--max-offset must be a number of rows from 0 to 2^50"),
    (["--rate", "1e-300"], "--rate must be a number of requests per second: 0 (no limit) or "
                           "from 0.0001 to 100000, got '1e-300'"),
    (["--rate", "nan"], "got 'nan'"),
    (["--rate", "inf"], "got 'inf'"),
    (["--rate", "100001"], "got '100001'"),
    (["--cursor-ttl", "3155760001"], "--cursor-ttl must be a number of seconds from 0 (never "
                                     "expire) to 3155760000, got '3155760001'"),
    (["--cursor-ttl", "-1"], "--cursor-ttl must be a number of seconds"),
    (["--threads", "0"], "--threads must be from 1 to 256"),
    (["--threads", "257"], "--threads must be from 1 to 256"),
    (["--burst", "1000001", "--rate", "1"], "--burst must be from 1 to 1000000"),
    (["--threads", "1e3"], "--threads must be from 1 to 256"),
])
def test_bad_serve_flags_exit_2_with_a_message(ops_db, args, message):
    proc = subprocess.run([folio_bin(), "serve", ops_db, "--listen", "127.0.0.1:1", *args],
                          capture_output=True, text=True, env=sanitizer_env(), timeout=30)
    check_sanitizer_output(proc.stderr)
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr


def test_count_max_offset_and_files_root_flags(spawn, ops_db, tmp_path):
    files = tmp_path / "files"
    files.mkdir()
    (files / "a.txt").write_text("a")
    srv = spawn(ops_db, extra_args=["--count", "exact", "--max-offset", "100",
                                    "--files-root", files, "--no-hybrid"])
    r = fetch(srv, "/api/items?per_page=5")
    assert_page(r)
    assert r.headers.get("X-Total-Count") == str(ROWS)
    assert_problem(fetch(srv, "/api/items?offset=500"), 400, param="offset")
    listing = fetch(srv, "/files")
    assert listing.status == 200 and b"a.txt" in listing.body


# --- SIGHUP reload ---------------------------------------------------------------------

def per_page(srv, path="/api/items"):
    r = fetch(srv, path)
    return assert_page(r)["meta"]["per_page"] if r.status == 200 else None


class KeepAliveClients(ClientThreads):
    """Threads making requests on keep-alive connections until stopped; records every
    status and every failure (a connection error or a 5xx)."""

    def __init__(self, srv, n=3, path="/api/items?per_page=3"):
        super().__init__(n)
        self.srv, self.path = srv, path
        self.statuses, self.failures, self.reconnects = [], [], 0

    def run(self, i):
        conn = http.client.HTTPConnection("127.0.0.1", self.srv.port, timeout=30)
        while not self.stop_event.is_set():
            try:
                conn.request("GET", self.path)
                r = conn.getresponse()
                r.read()
                with self.lock:
                    self.statuses.append(r.status)
                    if r.status >= 500:
                        self.failures.append(f"status {r.status}")
                    if r.getheader("Connection", "").lower() == "close":
                        self.reconnects += 1
            except (OSError, http.client.HTTPException) as e:
                with self.lock:
                    self.failures.append(repr(e))
                conn.close()
            time.sleep(0.005)
        conn.close()


def test_sighup_reloads_settings_and_endpoints_without_a_failed_request(spawn, ops_db,
                                                                         tmp_path):
    cfg = tmp_path / "folio.toml"
    cfg.write_text("[pagination]\ndefault_per_page = 20\n")
    srv = spawn(ops_db, extra_args=["--config", cfg])
    assert per_page(srv) == 20
    assert fetch(srv, "/things").status == 404
    with KeepAliveClients(srv) as clients:
        time.sleep(0.3)
        cfg.write_text("[pagination]\ndefault_per_page = 7\n[api]\nauto = true\n"
                       '[[endpoint]]\npath = "/things"\ntable = "items"\n'
                       'columns = ["id", "name"]\n')
        srv.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: per_page(srv) == 7, what="the new default_per_page")
        time.sleep(0.5)  # the clients cross over to the new settings
    assert clients.failures == [], clients.failures[:5]
    assert len(clients.statuses) > 20 and set(clients.statuses) == {200}
    assert clients.reconnects >= 1, "no keep-alive client was moved with Connection: close"
    things = assert_page(fetch(srv, "/things?per_page=2"))
    assert set(things["data"][0]) == {"id", "name"}
    assert per_page(srv, "/things") == 7
    wait_stderr(srv, "reloaded")
    srv.stop()  # SIGTERM: exit 0, no sanitizer report


def test_broken_config_keeps_the_running_settings(spawn, ops_db, tmp_path):
    cfg = tmp_path / "folio.toml"
    cfg.write_text("[pagination]\ndefault_per_page = 9\n")
    srv = spawn(ops_db, extra_args=["--config", cfg])
    assert per_page(srv) == 9
    with KeepAliveClients(srv) as clients:
        cfg.write_text('[pagination]\ndefault_per_page = "seven"\n')
        srv.proc.send_signal(signal.SIGHUP)
        wait_stderr(srv, "reload failed")
        # Valid TOML, but a table the database does not have: fails after the open.
        cfg.write_text('[[endpoint]]\npath = "/x"\ntable = "nope"\n')
        srv.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: srv.stderr_text().count("reload failed") == 2, what="2nd failure")
    err = srv.stderr_text()
    assert (f"{cfg}:2:20: [pagination] default_per_page: expected an integer, got a string"
            in err), err
    assert "nope" in err
    assert clients.failures == [] and set(clients.statuses) == {200}
    assert per_page(srv) == 9
    srv.stop()


def test_repeated_reloads_keep_counting_and_stop_cleanly(spawn, ops_db, tmp_path):
    cfg = tmp_path / "folio.toml"
    cfg.write_text("[pagination]\ndefault_per_page = 5\n")
    srv = spawn(ops_db, extra_args=["--config", cfg])
    ok = requests_total("/api/items")
    base = metric(srv, ok)
    made = 0
    with KeepAliveClients(srv, n=2, path="/healthz") as clients:
        for n in range(6, 10):
            for _ in range(3):
                assert fetch(srv, "/api/items").status == 200
                made += 1
            cfg.write_text(f"[pagination]\ndefault_per_page = {n}\n")
            srv.proc.send_signal(signal.SIGHUP)
            wait_for(lambda n=n: per_page(srv) == n, what=f"default_per_page {n}")
            made += 1  # the request that saw the change
    assert clients.failures == []
    assert clients.statuses and set(clients.statuses) == {200}, clients.statuses[:20]
    # Counters continue across reloads (the polls that saw the old value count too).
    assert metric(srv, ok) - base >= made
    assert srv.stderr_text().count("reloaded") == 4
    srv.stop()


def test_sighup_reopens_a_rotated_access_log(spawn, ops_db, tmp_path):
    cfg = tmp_path / "folio.toml"
    cfg.write_text('[log]\naccess = "access.log"\n')  # beside the config file
    log, rotated = tmp_path / "access.log", tmp_path / "access.log.1"
    srv = spawn(ops_db, extra_args=["--config", cfg])
    fetch(srv, "/api/items?before-rotation")
    wait_for(lambda: log.exists() and "before-rotation" in log.read_text(), what="a line")
    log.rename(rotated)
    srv.proc.send_signal(signal.SIGHUP)
    wait_stderr(srv, "reloaded")
    fetch(srv, "/api/items?after-rotation")
    wait_for(lambda: log.exists() and "after-rotation" in log.read_text(), what="a new file")
    assert "after-rotation" not in rotated.read_text()


def test_sighup_without_a_config_file_changes_nothing(spawn, ops_db):
    srv = spawn(ops_db)
    srv.proc.send_signal(signal.SIGHUP)
    wait_stderr(srv, "nothing to reload")
    assert per_page(srv) == 20
    srv.stop()
