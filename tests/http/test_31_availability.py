"""Availability, black-box: one client must never take the service from the others.

- Slow-header and idle sockets from one address do not block other clients (per-address
  connection limit); a request must arrive whole within a deadline that trickled bytes do not
  extend, which also bounds idle keep-alive connections; past max_connections new
  connections are refused at once instead of waiting unanswered.
- Database requests run on a pool of workers: /healthz and /metrics answer while every
  worker runs a slow query, one client cannot hold every worker, a full queue gets a 503.
- The largest URL folio accepts, with filters and a cursor, gets its whole answer (bounded
  Link header) and links that work.
- Malformed request lines get 400 problems; what libmicrohttpd answers itself is what
  docs/http.md says.

Clients talk from several loopback addresses (127.0.0.2, .3, ...): the per-address limits
under test count 127.0.0.1 apart from them. No test asserts a speed: the bounds are
generous and only tell "answered" from "hung"."""

import http.client
import json
import random
import re
import resource
import select
import socket
import sqlite3
import threading
import time

import pytest

from folio_api import link_header
from folio_ops import parse_metrics
from folio_server import as_backend, make_target, media_type

ROWS = 3000
BIG_ROWS = 150_000
PROBLEM = "application/problem+json"


@pytest.fixture(scope="module", autouse=True)
def enough_descriptors():
    """Hundreds of client sockets: raise this process's descriptor limit if it is low."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 4096 if hard == resource.RLIM_INFINITY else min(hard, 4096)
    if soft != resource.RLIM_INFINITY and soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


@pytest.fixture(scope="module")
def items_db(backend, tmp_path_factory):
    values = ", ".join(f"({i}, 'item {i}', {i % 97}, 'cat{i % 5}')" for i in range(1, ROWS + 1))
    return make_target(backend, tmp_path_factory.mktemp("avail") / "items.db",
                   "CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                   f"value INTEGER, category TEXT); INSERT INTO items VALUES {values};")


@pytest.fixture(scope="module")
def slow_db(backend, tmp_path_factory):
    """big(id, value, pad): 150k rows, nothing indexed but id, so a sort on pad at a deep
    offset sorts the whole table: a genuinely slow query (in SQLite, or its PostgreSQL copy)."""
    path = tmp_path_factory.mktemp("slow") / "big.db"
    con = sqlite3.connect(str(path))
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("CREATE TABLE big(id INTEGER PRIMARY KEY, value INTEGER, pad TEXT)")
    rnd = random.Random(31)
    con.executemany("INSERT INTO big VALUES (?, ?, ?)",
                    ((i, rnd.randrange(10**9), f"{rnd.randrange(2**32):08x}" + "x" * 60)
                     for i in range(1, BIG_ROWS + 1)))
    con.commit()
    con.close()
    return as_backend(backend, path)


def config(tmp_path, text, name="folio.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def connect(port, source, timeout=5.0):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.bind((source, 0))
    s.connect(("127.0.0.1", port))
    return s


def get_from(port, path, source, timeout=5.0, method="GET"):
    """One request from `source` on a fresh connection -> (status, headers, body).
    Raises OSError/HTTPException when the server drops or does not answer in `timeout`."""
    s = connect(port, source, timeout)
    try:
        s.sendall(f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
                  .encode("latin-1"))
        resp = http.client.HTTPResponse(s, method=method)
        resp.begin()
        return resp.status, resp.msg, resp.read()
    finally:
        s.close()


def raw_from(port, data, source="127.0.0.2", timeout=10.0):
    """Send bytes verbatim; -> (status, headers, body) of the answer."""
    s = connect(port, source, timeout)
    try:
        try:
            s.sendall(data)
        except OSError:
            pass  # a server may answer and close before reading all of a huge request
        resp = http.client.HTTPResponse(s, method="GET")
        resp.begin()
        return resp.status, resp.msg, resp.read()
    finally:
        s.close()


def closed_by_peer(sock):
    """Whether the server has closed `sock` (without blocking)."""
    try:
        readable, _, _ = select.select([sock], [], [], 0)
        if not readable:
            return False
        return sock.recv(65536, socket.MSG_PEEK) == b""
    except OSError:
        return True


def open_sockets(port, n, source="127.0.0.1", first=b""):
    socks = []
    for _ in range(n):
        try:
            s = connect(port, source, timeout=2)
            if first:
                s.sendall(first)
            socks.append(s)
        except OSError:
            pass  # refused or reset: what a limit may do
    return socks


def close_all(socks):
    for s in socks:
        try:
            s.close()
        except OSError:
            pass


def keep_serving(port, seconds, source="127.0.0.2"):
    """Requests from `source` for `seconds`; every one must be answered 200."""
    failures, answered = [], 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for path in ("/healthz", "/api/items?per_page=5"):
            try:
                status, _, _ = get_from(port, path, source, timeout=5)
                if status != 200:
                    failures.append(f"{path}: {status}")
                answered += 1
            except (OSError, http.client.HTTPException) as e:
                failures.append(f"{path}: {e!r}")
        time.sleep(0.2)
    return answered, failures


# --- 1. slow and idle sockets --------------------------------------------------------------

def test_slow_header_sockets_from_one_address_do_not_block_other_clients(spawn, items_db,
                                                                         tmp_path):
    # max_connections below the number of slow sockets: without a per-address limit they
    # would take every connection the server has.
    cfg = config(tmp_path, "[server]\nmax_connections = 200\n")
    srv = spawn(items_db, extra_args=["--config", cfg])
    socks = open_sockets(srv.port, 300, first=b"GET /healthz HTTP/1.1\r\n")
    stop = threading.Event()

    def dribble():  # one more header line per socket every second, never the end
        while not stop.wait(1.0):
            for s in socks:
                try:
                    s.send(b"X-Slow: 1\r\n")
                except OSError:
                    pass

    t = threading.Thread(target=dribble)
    t.start()
    try:
        answered, failures = keep_serving(srv.port, 6)
    finally:
        stop.set()
        t.join()
        close_all(socks)
    assert not failures, f"{len(failures)} failed of {answered}: {failures[:5]}"
    assert answered > 0
    assert srv.alive()


def test_idle_sockets_from_one_address_do_not_block_other_clients(spawn, items_db, tmp_path):
    cfg = config(tmp_path, "[server]\nmax_connections = 200\n")
    srv = spawn(items_db, extra_args=["--config", cfg])
    socks = open_sockets(srv.port, 300)
    try:
        answered, failures = keep_serving(srv.port, 4)
    finally:
        close_all(socks)
    assert not failures, f"{len(failures)} failed of {answered}: {failures[:5]}"
    assert srv.alive()


def test_request_deadline_closes_slow_headers_and_idle_keepalive(spawn, items_db):
    """The default deadline (10 s) is not extended by trickled bytes, and bounds an idle
    keep-alive connection too; libmicrohttpd's own idle timeout (30 s) is not what closes
    them."""
    srv = spawn(items_db)
    slow = connect(srv.port, "127.0.0.3", timeout=5)
    slow.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    idle = connect(srv.port, "127.0.0.4", timeout=5)
    idle.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    resp = http.client.HTTPResponse(idle, method="GET")
    resp.begin()
    assert resp.status == 200 and not resp.will_close
    resp.read()
    start = time.monotonic()
    closed = {}
    try:
        while time.monotonic() - start < 25 and len(closed) < 2:
            try:
                if "slow" not in closed:
                    slow.send(b"X-Slow: 1\r\n")
            except OSError:
                closed["slow"] = time.monotonic() - start
            for name, s in (("slow", slow), ("idle", idle)):
                if name not in closed and closed_by_peer(s):
                    closed[name] = time.monotonic() - start
            time.sleep(0.3)
    finally:
        slow.close()
        idle.close()
    assert set(closed) == {"slow", "idle"}, f"still open after 25 s: closed {closed}"
    # Other clients were served meanwhile, and still are.
    assert get_from(srv.port, "/healthz", "127.0.0.2")[0] == 200


def metric(port, name):
    return int(parse_metrics(get_from(port, "/metrics", "127.0.0.2")[2].decode())[name])


def test_connections_past_max_connections_are_refused_at_once(spawn, items_db, tmp_path):
    cfg = config(tmp_path, "[server]\nmax_connections = 40\n")
    srv = spawn(items_db, extra_args=["--config", cfg])
    # 40 connections the server has surely taken: each got an answer and stays open.
    socks = []
    for _ in range(80):
        if len(socks) == 40:
            break
        s = connect(srv.port, "127.0.0.5")
        try:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            resp = http.client.HTTPResponse(s, method="GET")
            resp.begin()
            resp.read()
            socks.append(s)
        except (OSError, http.client.HTTPException):
            s.close()  # refused while an earlier connection was still being closed
            time.sleep(0.1)
    try:
        assert len(socks) == 40
        # One more, from another address: closed at once, not left waiting.
        refused = 0
        for _ in range(3):
            s = connect(srv.port, "127.0.0.2", timeout=5)
            try:
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                data = s.recv(65536)
                refused += data == b""
            except ConnectionResetError:
                refused += 1
            except socket.timeout:
                pytest.fail("a connection past max_connections was left waiting, not refused")
            finally:
                s.close()
        assert refused == 3
    finally:
        close_all(socks)
    # Room again once those leave.
    deadline = time.monotonic() + 10
    while True:
        try:
            assert get_from(srv.port, "/healthz", "127.0.0.2")[0] == 200
            break
        except (OSError, http.client.HTTPException):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    # The 3 above, and any retry above that came before the 40 had left.
    assert metric(srv.port, "folio_connections_refused_total") >= 3


# --- 3. database workers ----------------------------------------------------------------------

# The slow query is a whole-table sort no index serves, so the server allows every sort
# ([api] sortable = "all") and sets no query time limit: the workers stay busy until the
# query is done, which is what these tests need.
SLOW_CONFIG = """
[server]
threads = {threads}
query_timeout = 0
{queue}

[api]
sortable = "all"

[pagination]
hybrid = false
max_offset = 0

[prefetch]
enabled = false
"""


def slow_server(spawn, slow_db, tmp_path, threads=2, queue=None):
    cfg = config(tmp_path, SLOW_CONFIG.format(
        threads=threads, queue=f"queue = {queue}" if queue else ""))
    return spawn(slow_db, extra_args=["--config", cfg])


class SlowRequest(threading.Thread):
    """A whole-table sort at a deep offset, from its own address."""

    def __init__(self, port, source, offset):
        super().__init__()
        self.port, self.source = port, source
        self.path = f"/api/big?sort=pad&per_page=1&offset={offset}"
        self.result = None
        self.start()

    def run(self):
        try:
            self.result = get_from(self.port, self.path, self.source, timeout=300)
        except (OSError, http.client.HTTPException) as e:
            self.result = e

    def finish(self):
        self.join(timeout=300)
        assert not self.is_alive(), f"{self.path} never finished"
        # The whole answer, never a dropped connection (no query time limit is set).
        assert isinstance(self.result, tuple), f"{self.path}: {self.result!r}"
        assert self.result[0] == 200, f"{self.path}: {self.result[:2]}"


# The worker pool (jobs.c) is the same code over both backends; these need a query that
# runs for seconds, and PostgreSQL sorts this table in about one: SQLite's copy only.
@pytest.mark.sqlite_only
def test_healthz_and_metrics_answer_while_every_worker_runs_a_slow_query(spawn, slow_db,
                                                                          tmp_path):
    srv = slow_server(spawn, slow_db, tmp_path, threads=1)
    # The only worker runs one, the other waits in the queue.
    slow = [SlowRequest(srv.port, "127.0.0.3", BIG_ROWS - 1000)]
    time.sleep(0.5)
    slow.append(SlowRequest(srv.port, "127.0.0.4", BIG_ROWS - 1001))
    time.sleep(0.5)
    try:
        for path in ("/healthz", "/metrics", "/", "/nowhere"):
            status, _, _ = get_from(srv.port, path, "127.0.0.2", timeout=5)
            assert status == (404 if path == "/nowhere" else 200), path
        status, _, _ = get_from(srv.port, "/healthz", "127.0.0.2", timeout=5, method="OPTIONS")
        assert status == 204
        still_running = [s.is_alive() for s in slow]
    finally:
        for s in slow:
            s.finish()
    # Only meaningful if the worker really was busy when /healthz answered.
    assert all(still_running), "the slow queries finished too soon to prove anything"


# The worker pool (jobs.c) is the same code over both backends; these need a query that
# runs for seconds, and PostgreSQL sorts this table in about one: SQLite's copy only.
@pytest.mark.sqlite_only
def test_one_client_cannot_hold_every_worker(spawn, slow_db, tmp_path):
    srv = slow_server(spawn, slow_db, tmp_path, threads=2)
    # Two slow requests from one client: one runs, the other waits (client_jobs defaults
    # to threads - 1), so a worker stays free for everyone else.
    slow = [SlowRequest(srv.port, "127.0.0.3", BIG_ROWS - 1000 - i) for i in range(2)]
    time.sleep(1.0)
    try:
        for _ in range(3):
            status, _, body = get_from(srv.port, "/api/big?per_page=3", "127.0.0.2",
                                       timeout=5)
            assert status == 200
            assert [r["id"] for r in json.loads(body)["data"]] == [1, 2, 3]
        still_running = sum(s.is_alive() for s in slow)
    finally:
        for s in slow:
            s.finish()
    assert still_running == 2, "the slow queries finished too soon to prove anything"


def with_a_full_queue(srv, *paths):
    """GET each path from 127.0.0.2 while the only worker runs one slow query and another
    waits in the queue of one; -> their (status, headers, body), after both finished."""
    running = SlowRequest(srv.port, "127.0.0.3", BIG_ROWS - 1000)
    time.sleep(1.0)
    waiting = SlowRequest(srv.port, "127.0.0.4", BIG_ROWS - 1001)
    time.sleep(0.5)
    try:
        got = [get_from(srv.port, path, "127.0.0.2", timeout=5) for path in paths]
        busy = running.is_alive() and waiting.is_alive()
    finally:
        running.finish()
        waiting.finish()
    assert busy, "the slow queries finished too soon to prove anything"
    return got


def assert_overloaded(status, headers, body):
    assert status == 503, body
    assert media_type(headers) == PROBLEM
    assert headers.get("Retry-After") == "1"
    doc = json.loads(body)
    assert doc["status"] == 503 and doc["type"].endswith("/overloaded")


# The worker pool (jobs.c) is the same code over both backends; these need a query that
# runs for seconds, and PostgreSQL sorts this table in about one: SQLite's copy only.
@pytest.mark.sqlite_only
def test_a_full_worker_queue_gets_a_503_problem_at_once(spawn, slow_db, tmp_path):
    srv = slow_server(spawn, slow_db, tmp_path, threads=1, queue=1)
    slow_path = "/api/big?sort=pad&per_page=1&offset=10"
    # A page past the inline budget needs a worker: refused at once. A page within it is
    # answered on the I/O thread, workers or not (docs/http.md).
    refused, cheap = with_a_full_queue(srv, slow_path, "/api/big?per_page=3")
    assert_overloaded(*refused)
    assert cheap[0] == 200, cheap
    # And once the queue drains, the same request is served.
    assert get_from(srv.port, slow_path, "127.0.0.2", timeout=120)[0] == 200


@pytest.mark.sqlite_only
def test_without_inline_pages_a_full_worker_queue_refuses_every_page(spawn, slow_db, tmp_path):
    cfg = config(tmp_path, SLOW_CONFIG.format(threads=1, queue="queue = 1")
                 .replace("[server]\n", "[server]\ninline_budget = 0\n"))
    srv = spawn(slow_db, extra_args=["--config", cfg])
    (refused,) = with_a_full_queue(srv, "/api/big?per_page=3")
    assert_overloaded(*refused)
    assert get_from(srv.port, "/api/big?per_page=3", "127.0.0.2", timeout=30)[0] == 200


# --- 4. the largest URL ----------------------------------------------------------------------

MAX_URL = 8192  # [server] max_url_bytes default


def padded(base, total, tail=""):
    """`base` + a filter value of x's + `tail`, exactly `total` bytes long."""
    pad = total - len(base) - len(tail)
    assert pad > 0
    return base + "x" * pad + tail


def page(resp, what):
    """A 200 JSON page whose Link header, if any, agrees with the body's links; -> body."""
    assert resp.status == 200, f"{what}: {resp!r}"
    assert media_type(resp.headers) == "application/json", f"{what}: {resp!r}"
    doc = resp.json()
    for rel, url in link_header(resp).items():
        assert url == doc["links"][rel], f"{what}: Link {rel} differs from the body's"
    return doc


def follow_links(srv, doc, resp, what):
    """Every link in the body and the Link header answers 200."""
    urls = [u for u in doc["links"].values() if u]
    header = link_header(resp)
    assert urls
    for url in urls:
        # max_url_bytes leaves the cursor parameter out (docs/config.md)
        cursor = re.search(r"[?&](?:after|before)=[^&]*", url)
        counted = len(url) - (len(cursor.group(0)) if cursor else 0)
        assert counted <= MAX_URL, f"{what}: a link of {counted} bytes"
        page(srv.get(url), f"{what}: following {url[:100]}...")
    return header


def test_largest_url_with_filters_gets_its_answer_and_working_links(demo_server):
    base = "/api/users?per_page=2&page=2&count=exact&id=gte.0&name=neq."
    url = padded(base, MAX_URL)
    r = demo_server.get(url)
    assert r.status == 200, r
    doc = page(r, "offset page at max_url_bytes")
    assert doc["links"]["self"] and doc["links"]["last"] and doc["links"]["prev"]
    header = follow_links(demo_server, doc, r, "offset page at max_url_bytes")
    # The rule (docs/http.md): past 8 KiB of headers, Link keeps next and prev, then none.
    assert set(header) <= {"next", "prev"}
    # One a sixth that long keeps all five links in the header.
    short = padded(base, MAX_URL // 6)
    r = demo_server.get(short)
    doc = page(r, "offset page")
    assert set(follow_links(demo_server, doc, r, "offset page")) == {
        rel for rel, u in doc["links"].items() if u}


def test_largest_keyset_url_gets_its_answer_and_working_links(demo_server):
    """max_url_bytes leaves out the cursor's value (docs/config.md): a first page at the
    limit has next links that carry a cursor on top, and they work, as do theirs."""
    base = "/api/users?per_page=2&sort=name,id&id=gte.0&name=neq."
    first = demo_server.get(padded(base, MAX_URL))
    doc = page(first, "first keyset page at max_url_bytes")
    nxt = doc["links"]["next"]
    assert "after=" in nxt and len(nxt) > MAX_URL
    r = demo_server.get(nxt)
    doc = page(r, "keyset page at max_url_bytes")
    assert "after=" in doc["links"]["self"] and doc["links"]["prev"]
    follow_links(demo_server, doc, r, "keyset page at max_url_bytes")
    # One byte more than the limit, cursor aside, is refused.
    over = demo_server.get(padded(base, MAX_URL + 1))
    assert over.status == 414 and media_type(over.headers) == PROBLEM, over


def test_a_page_whose_links_would_be_too_long_gets_414_not_links_that_fail(demo_server):
    """Links percent-encode the filters' parentheses (4 bytes more here): at the limit the
    request gets 414; 4 bytes shorter, it gets its page and its links work."""
    base = "/api/users?per_page=2&id=in.(1,2,3,4)&name=neq."
    r = demo_server.get(padded(base, MAX_URL))
    assert r.status == 414 and media_type(r.headers) == PROBLEM, r
    r = demo_server.get(padded(base, MAX_URL - 4))
    doc = page(r, "page whose links are at the limit")
    assert "%28" in doc["links"]["self"]
    follow_links(demo_server, doc, r, "page whose links are at the limit")


def test_a_preflight_with_control_characters_gets_an_answer_without_echoing_them(
        spawn, items_db):
    srv = spawn(items_db, extra_args=["--cors-origin", "*"])
    for value, echoed in ((b"x-a, x-b", True), (b"x-a\x01b", False), (b"x\x7f", False)):
        status, headers, _ = raw_from(
            srv.port, b"OPTIONS /api/items HTTP/1.1\r\nHost: h\r\nOrigin: https://app\r\n"
            b"Access-Control-Request-Method: GET\r\nAccess-Control-Request-Headers: " + value +
            b"\r\n\r\n")
        # A control character in a header value is a malformed request (RFC 9112; see
        # test_32_smuggling.py): 400, nothing echoed.
        assert status == (204 if echoed else 400), value
        got = headers.get("Access-Control-Allow-Headers")
        assert (got == value.decode()) if echoed else got is None, (value, got)


# --- 10. request-line oddities and libmicrohttpd's own answers -------------------------------

MALFORMED = {
    "NUL byte in the query": b"GET /api/users?per_page=2\x00x HTTP/1.1\r\nHost: h\r\n\r\n",
    "NUL byte in the path": b"GET /api/users\x00 HTTP/1.1\r\nHost: h\r\n\r\n",
    "double space before the version": b"GET /api/users  HTTP/1.1\r\nHost: h\r\n\r\n",
    "space inside the target": b"GET /api/users ?per_page=2 HTTP/1.1\r\nHost: h\r\n\r\n",
    "tab in the target": b"GET /api/users\t HTTP/1.1\r\nHost: h\r\n\r\n",
    "control character in the target": b"GET /api/users?a=\x01 HTTP/1.1\r\nHost: h\r\n\r\n",
    "DEL in the target": b"GET /api/users?a=\x7f HTTP/1.1\r\nHost: h\r\n\r\n",
    "target without a slash": b"GET api/users HTTP/1.1\r\nHost: h\r\n\r\n",
    "absolute-form target": b"GET http://h/api/users HTTP/1.1\r\nHost: h\r\n\r\n",
    "asterisk for GET": b"GET * HTTP/1.1\r\nHost: h\r\n\r\n",
    "fragment in the target": b"GET /api/users#top HTTP/1.1\r\nHost: h\r\n\r\n",
    "HTTP/1.1 without Host": b"GET /api/users HTTP/1.1\r\n\r\n",
}


@pytest.mark.parametrize("what", list(MALFORMED))
def test_malformed_request_lines_get_a_400_problem(demo_server, what):
    status, headers, body = raw_from(demo_server.port, MALFORMED[what])
    assert status == 400, (what, status, body[:200])
    assert media_type(headers) == PROBLEM, (what, headers)
    doc = json.loads(body)
    assert doc["status"] == 400 and doc["type"].endswith("/invalid-request"), doc


def test_tolerated_request_line_variants_are_served(demo_server):
    """What RFC 9112 lets a server accept: extra spaces after the method, HTTP/1.0 without
    Host, OPTIONS *."""
    assert raw_from(demo_server.port, b"GET   /api/users?per_page=2 HTTP/1.1\r\nHost: h\r\n\r\n"
                    )[0] == 200
    assert raw_from(demo_server.port, b"GET /api/users?per_page=2 HTTP/1.0\r\n\r\n")[0] == 200
    assert raw_from(demo_server.port, b"OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n")[0] == 204


def test_oversized_headers_and_urls_get_problems_up_to_the_pool(demo_server):
    """Past max_request_bytes (12 KiB) folio answers 431 itself, past max_url_bytes 414,
    as long as the request fits the connection's memory (docs/http.md)."""
    status, headers, body = raw_from(
        demo_server.port,
        b"GET /healthz HTTP/1.1\r\nHost: h\r\nX-Big: " + b"a" * 14000 + b"\r\n\r\n")
    assert (status, media_type(headers)) == (431, PROBLEM), body[:200]
    status, headers, body = raw_from(
        demo_server.port, b"GET /api/users?x=" + b"a" * 12000 + b" HTTP/1.1\r\nHost: h\r\n\r\n")
    assert (status, media_type(headers)) == (414, PROBLEM), body[:200]


# What libmicrohttpd answers before folio sees the request (docs/http.md lists them).
MHD_OWNED = [
    ("HTTP/2.0 request line", b"GET /healthz HTTP/2.0\r\nHost: h\r\n\r\n", 505),
    ("HTTP/0.9 request line", b"GET /healthz\r\n\r\n", 400),
    ("Content-Length not a number", b"GET /healthz HTTP/1.1\r\nHost: h\r\nContent-Length: x\r\n\r\n",
     400),
    ("Content-Length too large",
     b"GET /healthz HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999999999999999\r\n\r\n", 413),
    ("malformed chunked body",
     b"POST /healthz HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n\r\n", 400),
    ("header line without a colon", b"GET /healthz HTTP/1.1\r\nHost: h\r\nNoColon\r\n\r\n", 400),
    ("headers past the memory pool",
     b"GET /healthz HTTP/1.1\r\nHost: h\r\nX-Big: " + b"a" * 40000 + b"\r\n\r\n", 431),
    ("request line past the memory pool",
     b"GET /healthz?" + b"a" * 40000 + b" HTTP/1.1\r\nHost: h\r\n\r\n", 414),
]


@pytest.mark.parametrize("what,data,want", MHD_OWNED, ids=[c[0] for c in MHD_OWNED])
def test_libmicrohttpd_answers_the_documented_requests_itself(demo_server, what, data, want):
    status, _, _ = raw_from(demo_server.port, data)
    assert status == want, what
    # The server is unharmed.
    assert demo_server.get("/healthz").status == 200
