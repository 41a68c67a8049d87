"""Several folio nodes (docs/scaling.md): two `folio serve` processes behind Debian's nginx,
over a PostgreSQL primary and a streaming replica made with `pg_basebackup -R`, sharing
rate limits and a page cache in a redis-server. Every process runs on loopback and is
started and stopped here.

- A walk whose requests alternate between the nodes is exact (no duplicate, no gap, in
  order), also while a writer inserts and deletes on the primary.
- The rate limit of a client holds over both nodes together, within one refill.
- A page prefetched on node A is a cache hit on node B, counted in B's /metrics.
- The replica stopped mid-walk: the walk completes, no client-visible error; the failover
  is counted.
- Redis stopped mid-run: requests keep succeeding, the failures are counted; Redis back:
  the nodes reconnect by themselves.
- A node killed with SIGKILL mid-walk: nginx retries on the other node, the walk completes.
- [database] prepared = false: unnamed statements only (what a transaction-pooling
  PgBouncer needs), walks unchanged.
"""
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import urllib.parse

import pytest

from folio_ops import parse_metrics, wait_for
from folio_server import FolioServer, free_port, make_secret

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx")
                                  else None)
REDIS = shutil.which("redis-server") or ("/usr/bin/redis-server"
                                         if os.path.exists("/usr/bin/redis-server") else None)
ROWS = 400
PER_PAGE = 9
RATE, BURST = 0.5, 6  # the /limited endpoint: 6 requests, then one every 2 s

pytestmark = pytest.mark.skipif(NGINX is None or REDIS is None,
                                reason="nginx-light and redis-server are needed "
                                       "(tools/deps.sh test installs them)")

NGINX_CONF = """
worker_processes 1;
error_log {dir}/error.log warn;
pid {dir}/nginx.pid;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    upstream folio {{
        server 127.0.0.1:{a} max_fails=1 fail_timeout=30s;
        server 127.0.0.1:{b} max_fails=1 fail_timeout=30s;
        keepalive 8;
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://folio;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_connect_timeout 2s;
            proxy_read_timeout 30s;
            # GETs are idempotent: a node that dies mid-request is retried on the other.
            proxy_next_upstream error timeout http_502 http_503;
            proxy_next_upstream_tries 2;
        }}
    }}
}}
"""


class Redis:
    def __init__(self, workdir):
        self.workdir = workdir
        self.port = free_port()
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(
            [REDIS, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--daemonize", "no", "--dir", self.workdir,
             "--maxmemory", "64mb", "--maxmemory-policy", "volatile-lru"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(self.ping, 20, "redis-server to answer PING")
        return self

    def ping(self):
        try:
            return self.command("PING") == "+PONG"
        except OSError:
            return False

    def command(self, *args):
        import socket
        with socket.create_connection(("127.0.0.1", self.port), timeout=2) as s:
            msg = f"*{len(args)}\r\n" + "".join(f"${len(a)}\r\n{a}\r\n" for a in args)
            s.sendall(msg.encode())
            return s.recv(65536).decode(errors="replace").split("\r\n")[0]

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None


class Nginx:
    def __init__(self, workdir, a, b):
        self.dir = os.path.join(workdir, "nginx")
        os.makedirs(self.dir, exist_ok=True)
        self.port = free_port()
        conf = os.path.join(self.dir, "nginx.conf")
        with open(conf, "w") as f:
            f.write(NGINX_CONF.format(dir=self.dir, a=a, b=b, port=self.port))
        self.proc = subprocess.Popen([NGINX, "-c", conf, "-p", self.dir, "-g", "daemon off;"],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)

        def up():
            try:
                return get(self.port, "/healthz")[0] == 200
            except OSError:
                return False
        wait_for(up, 20, "nginx to proxy /healthz")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=20)


def get(port, path, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path, headers=headers or {})
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        conn.close()


def metrics(port):
    status, _, body = get(port, "/metrics")
    assert status == 200
    return parse_metrics(body.decode())


CONFIG = """
[server]
threads = 3

[database]
url = "{url}"
replicas = [{replicas}]
{extra_db}

[cluster]
redis = "redis://127.0.0.1:{redis}"
timeout_ms = 250

[prefetch]
enabled = true

[cursor]
ttl = 3600

[[endpoint]]
path = "/items"
table = "items"

[[endpoint]]
path = "/limited"
table = "items"
rate = {rate}
burst = {burst}
prefetch = false
"""


class Env:
    pass


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    import folio_pg
    e = Env()
    e.tmp = str(tmp_path_factory.mktemp("cluster"))
    e.primary = folio_pg.cluster()
    name = e.primary.new_database("cluster")
    e.url = e.primary.url(name)
    con = folio_pg.PgCon(e.url)
    con.execute("CREATE TABLE items (id bigint PRIMARY KEY, grp integer NOT NULL, "
                "name text NOT NULL)")
    con.execute("CREATE INDEX items_grp ON items (grp, id)")
    con.execute("INSERT INTO items SELECT i, (i * 7919) %% 37, 'item ' || i "
                "FROM generate_series(1, %d) i" % ROWS)
    con.execute("ANALYZE items")
    e.con = con
    e.dbname = name
    e.replica = folio_pg.replica_of(e.primary)
    e.replica.wait_caught_up()
    e.redis = Redis(e.tmp).start()
    e.secret = make_secret(os.path.join(e.tmp, "secret"))
    e.nodes = []
    for i in range(2):
        e.nodes.append(start_node(e, f"node{i}"))
    e.nginx = Nginx(e.tmp, e.nodes[0].port, e.nodes[1].port)
    try:
        yield e
    finally:
        e.nginx.stop()
        for n in e.nodes:
            n.stop(check=n.alive())
        e.redis.stop()
        e.replica.stop()
        con.close()


def start_node(e, name, extra_db="", replicas=True):
    cfg = os.path.join(e.tmp, f"{name}.toml")
    with open(cfg, "w") as f:
        f.write(CONFIG.format(url=e.url,
                              replicas=json.dumps(e.replica.url(e.dbname)) if replicas else "",
                              redis=e.redis.port, rate=RATE, burst=BURST, extra_db=extra_db))
    srv = FolioServer(e.url, secret_file=e.secret, extra_args=["--config", cfg])
    srv.follow_links = False  # walks here follow their links themselves, on both nodes
    return srv.start()


def reference(e, sort_sql="id"):
    return [r[0] for r in e.con.execute(f"SELECT id FROM items ORDER BY {sort_sql}")]


def walk(ports, first, on_page=None):
    """Follow next links from `first`, request i going to ports[i % len(ports)]; returns the
    ids in the order received. Every response must be 200."""
    ids, path, i = [], first, 0
    while path is not None and i < 1000:
        port = ports[i % len(ports)]
        status, headers, body = get(port, path)
        assert status == 200, f"{path} on :{port} -> {status} {body[:300]!r}"
        doc = json.loads(body)
        ids += [row["id"] for row in doc["data"]]
        nxt = doc.get("links", {}).get("next") or doc.get("next")
        path = None
        if nxt:
            u = urllib.parse.urlsplit(nxt)
            path = u.path + ("?" + u.query if u.query else "")
        i += 1
        if on_page is not None:
            on_page(i)
    assert path is None, "the walk did not end"
    return ids


def test_walk_alternating_between_nodes_is_exact(env):
    a, b = env.nodes[0].port, env.nodes[1].port
    assert walk([a, b], f"/items?per_page={PER_PAGE}") == reference(env)
    assert walk([b, a], f"/items?per_page={PER_PAGE}&sort=grp") == reference(env, "grp, id")
    assert walk([env.nginx.port], f"/items?per_page={PER_PAGE}&sort=-grp") == \
        reference(env, "grp DESC, id DESC")


def test_walk_alternating_between_nodes_with_a_writer_is_exact(env):
    """Rows present for the whole walk are seen exactly once, in order; rows inserted or
    deleted meanwhile may or may not be seen, never twice."""
    before = set(reference(env))
    stop = threading.Event()
    deleted, inserted = set(), set()
    import folio_pg
    w = folio_pg.PgCon(env.url)

    def writer():
        k = 0
        while not stop.is_set() and k < 2000:
            k += 1
            nid = 100000 + k
            w.execute("INSERT INTO items VALUES (?, ?, ?)", (nid, k % 37, f"new {k}"))
            inserted.add(nid)
            victim = 1 + (k * 37) % ROWS
            if victim % 5 == 0:
                w.execute("DELETE FROM items WHERE id = ?", (victim,))
                deleted.add(victim)
            time.sleep(0.01)
    t = threading.Thread(target=writer)
    t.start()
    try:
        got = walk([env.nodes[0].port, env.nodes[1].port], f"/items?per_page={PER_PAGE}&sort=grp")
    finally:
        stop.set()
        t.join(timeout=30)
    assert inserted, "the writer wrote nothing during the walk"
    keys = {r[0]: r[1] for r in w.execute("SELECT id, grp FROM items")}
    grp = {i: (i * 7919) % 37 for i in before}
    grp.update({100000 + k: k % 37 for k in range(1, 2001)})
    assert len(got) == len(set(got)), "a row was served twice"
    assert [(grp[i], i) for i in got] == sorted((grp[i], i) for i in got), "out of order"
    missing = (before - deleted) - set(got)
    assert not missing, f"rows present throughout the walk were skipped: {sorted(missing)[:10]}"
    # restore the table for the next tests
    w.execute("DELETE FROM items WHERE id > %d" % ROWS)
    w.execute("INSERT INTO items SELECT i, (i * 7919) %% 37, 'item ' || i FROM "
              "generate_series(1, %d) i ON CONFLICT DO NOTHING" % ROWS)
    w.close()
    env.replica.wait_caught_up()
    del keys


def test_combined_rate_limit_holds_across_nodes_within_one_refill(env):
    a, b = env.nodes[0].port, env.nodes[1].port
    t0 = time.monotonic()
    answers = []
    for i in range(4 * BURST):
        status, headers, body = get((a, b)[i % 2], "/limited?per_page=1")
        answers.append((status, headers))
    elapsed = time.monotonic() - t0
    ok = [h for s, h in answers if s == 200]
    refused = [h for s, h in answers if s == 429]
    assert len(ok) + len(refused) == len(answers)
    # One client, two nodes: its limit in total (the burst, plus what refilled meanwhile),
    # not twice it.
    assert BURST <= len(ok) <= BURST + int(elapsed * RATE) + 1, (len(ok), elapsed)
    # The headers count the shared bucket: the first answers count down across nodes.
    remaining = [int(h["ratelimit-remaining"]) for s, h in answers[:BURST]]
    assert remaining == list(range(BURST - 1, -1, -1)), remaining
    assert all(h["ratelimit-limit"] == str(BURST) for _, h in answers)
    for h in refused:
        assert 1 <= int(h["retry-after"]) <= int(1 / RATE) + 1


def test_page_prefetched_on_node_a_is_a_hit_on_node_b(env):
    a, b = env.nodes[0].port, env.nodes[1].port
    env.replica.wait_caught_up()
    for attempt in range(5):  # a checkpoint's WAL record may move the token in between
        before = metrics(b)
        stores = metrics(a).get("folio_shared_cache_stores_total", 0)
        status, _, body = get(a, f"/items?per_page={5 + attempt}&sort=grp")
        assert status == 200
        nxt = json.loads(body)["links"]["next"]
        u = urllib.parse.urlsplit(nxt)
        path = u.path + "?" + u.query
        # Page 1 itself, then the prefetched page 2.
        wait_for(lambda: metrics(a).get("folio_shared_cache_stores_total", 0) >= stores + 2,
                 20, "node A to store its prefetched page in Redis")
        status, _, body_b = get(b, path)
        assert status == 200
        after = metrics(b)
        if after["folio_shared_cache_hits_total"] > before["folio_shared_cache_hits_total"]:
            assert json.loads(body_b)["data"] == json.loads(get(a, path)[2])["data"]
            return
    raise AssertionError("the page prefetched on node A was never a hit on node B")


def test_replica_stopped_mid_walk_is_invisible_to_the_client(env):
    a, b = env.nodes[0].port, env.nodes[1].port
    before = [metrics(p).get("folio_db_failovers", 0) for p in (a, b)]

    def on_page(i):
        if i == 5:
            env.replica.stop_server(mode="fast")
    try:
        got = walk([a, b], f"/items?per_page={PER_PAGE}&sort=-grp", on_page)
        assert got == reference(env, "grp DESC, id DESC")
        after = [metrics(p) for p in (a, b)]
        assert sum(m["folio_db_failovers"] for m in after) > sum(before)
        assert all(m["folio_db_sources_healthy"] == 1 for m in after)
    finally:
        env.replica.start()
        env.replica.wait_caught_up()
    # Back in rotation once its down period is over, by itself.
    time.sleep(1.2)
    for p in (a, b):
        for _ in range(3):
            assert get(p, "/items?per_page=3")[0] == 200
    wait_for(lambda: all(metrics(p)["folio_db_sources_healthy"] == 2 for p in (a, b)), 10,
             "the replica to be healthy again")


def test_redis_stopped_mid_run_requests_keep_succeeding_and_failures_are_counted(env):
    a, b = env.nodes[0].port, env.nodes[1].port
    errors = [metrics(p).get("folio_redis_errors_total", 0) for p in (a, b)]
    connects = [metrics(p)["folio_redis_connects_total"] for p in (a, b)]

    def on_page(i):
        if i == 4:
            env.redis.stop()
    try:
        got = walk([a, b], f"/items?per_page={PER_PAGE}", on_page)
        assert got == reference(env)
        for i in range(6):  # rate-limited endpoint too: fail = "open" uses the node's bucket
            assert get((a, b)[i % 2], "/limited?per_page=1")[0] in (200, 429)
        after = [metrics(p) for p in (a, b)]
        assert all(m["folio_redis_errors_total"] > e for m, e in zip(after, errors))
        assert all(m["folio_shared_rate_limit_fallbacks_total"] > 0 for m in after)
    finally:
        env.redis.start()
    # The nodes reconnect by themselves (after their back-off), on the next requests that
    # use Redis (a rate-limited endpoint asks it every time).
    def reconnected():
        for p in (a, b):
            assert get(p, "/limited?per_page=1")[0] in (200, 429)
        return all(metrics(p)["folio_redis_connects_total"] > c
                   for p, c in zip((a, b), connects))
    wait_for(reconnected, 15, "the nodes to reconnect")
    assert "redis" in env.nodes[0].stderr_text()


def test_redis_that_stops_answering_costs_a_timeout_not_a_hang(env):
    """redis-server stopped with SIGSTOP keeps its socket open and never answers: every
    command ends at [cluster] timeout_ms, the request is answered without Redis."""
    a, b = env.nodes[0].port, env.nodes[1].port
    errors = [metrics(p)["folio_redis_errors_total"] for p in (a, b)]
    env.redis.proc.send_signal(signal.SIGSTOP)
    try:
        for i in range(8):
            port = (a, b)[i % 2]
            assert get(port, "/limited?per_page=1")[0] in (200, 429)
            assert get(port, f"/items?per_page={20 + i}")[0] == 200
        assert all(metrics(p)["folio_redis_errors_total"] > e for p, e in zip((a, b), errors))
    finally:
        env.redis.proc.send_signal(signal.SIGCONT)


def test_node_killed_mid_walk_the_load_balancer_retries_and_the_walk_completes(env):
    victim = env.nodes[0]

    def on_page(i):
        if i == 6:
            victim.proc.send_signal(signal.SIGKILL)
            victim.proc.wait(timeout=10)
    got = walk([env.nginx.port], f"/items?per_page={PER_PAGE}&sort=grp", on_page)
    assert got == reference(env, "grp, id")
    assert not victim.alive()
    victim.proc = None  # killed on purpose: nothing to check at teardown


def test_unprepared_statements_walk_exactly(env):
    """[database] prepared = false: every statement unnamed (PgBouncer in transaction
    pooling mode keeps no prepared statement between transactions)."""
    admin = env.primary.connect(autocommit=True)
    with admin.cursor() as cur:
        cur.execute(f'ALTER DATABASE "{env.dbname}" SET log_statement = \'all\'')
    srv = start_node(env, "unprepared", replicas=False,
                     extra_db='prepared = false\napplication_name = "folio-unprepared"')
    try:
        got = walk([srv.port], f"/items?per_page={PER_PAGE}&sort=grp")
        assert got == reference(env, "grp, id")
        with admin.cursor() as cur:
            cur.execute("SELECT pid FROM pg_stat_activity WHERE application_name = "
                        "'folio-unprepared'")
            pids = {r[0] for r in cur.fetchall()}
    finally:
        srv.stop()
        with admin.cursor() as cur:
            cur.execute(f'ALTER DATABASE "{env.dbname}" RESET log_statement')
        admin.close()
    assert pids, "folio's sessions were not found"
    log = env.primary.log_tail(5_000_000).splitlines()
    mine = [ln for ln in log if "execute" in ln and
            any(f"[{pid}]" in ln for pid in pids)]
    assert any("execute <unnamed>" in ln and "items" in ln for ln in mine), mine[:5]
    named = [ln for ln in mine if re.search(r"execute f\d+", ln)]
    assert not named, named[:3]


PGBOUNCER = shutil.which("pgbouncer") or ("/usr/sbin/pgbouncer"
                                          if os.path.exists("/usr/sbin/pgbouncer") else None)

PGBOUNCER_INI = """
[databases]
{db} = host=127.0.0.1 port={pg} dbname={db} user=postgres

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = any
pool_mode = transaction
default_pool_size = 2
max_client_conn = 100
logfile = {dir}/pgbouncer.log
pidfile = {dir}/pgbouncer.pid
ignore_startup_parameters = extra_float_digits
server_idle_timeout = 1
server_lifetime = 1
"""


@pytest.mark.skipif(PGBOUNCER is None, reason="pgbouncer is not installed "
                                              "(tools/deps.sh test installs it)")
def test_unprepared_statements_work_through_pgbouncer_transaction_pooling(env):
    """Three worker connections share two server connections, transaction by transaction:
    walks stay exact and the values keep folio's formats (the test server's TimeZone,
    DateStyle and extra_float_digits are unusual on purpose, folio_pg.UNUSUAL_SETTINGS)."""
    d = tempfile.mkdtemp(prefix="folio-pgbouncer-")
    port = free_port()
    ini = os.path.join(d, "pgbouncer.ini")
    with open(ini, "w") as f:
        f.write(PGBOUNCER_INI.format(db=env.dbname, pg=env.primary.port, port=port, dir=d))
    argv = [PGBOUNCER, ini]
    if os.getuid() == 0:  # pgbouncer refuses to run as root
        shutil.chown(d, "postgres", "postgres")
        for name in os.listdir(d):
            shutil.chown(os.path.join(d, name), "postgres", "postgres")
        argv = ["runuser", "-u", "postgres", "--"] + argv
    proc = subprocess.Popen(argv, cwd="/tmp", stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        import socket

        def listening():
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return True
            except OSError:
                return False
        wait_for(listening, 20, "pgbouncer to listen")
        env.con.execute("CREATE TABLE IF NOT EXISTS stamped (id bigint PRIMARY KEY, "
                        "at timestamptz NOT NULL, d date NOT NULL, x double precision)")
        env.con.execute("INSERT INTO stamped SELECT i, timestamptz "
                        "'2024-12-31 23:30:00.123456+00' + i * interval '1 hour', "
                        "date '2024-01-31' + i, 0.1::float8 * i + 0.2::float8 "
                        "FROM generate_series(1, 50) i ON CONFLICT DO NOTHING")
        url = f"postgresql://postgres@127.0.0.1:{port}/{env.dbname}"
        cfg = os.path.join(d, "folio.toml")
        with open(cfg, "w") as f:
            f.write(f'[server]\nthreads = 3\n[database]\nurl = "{url}"\nprepared = false\n'
                    '[prefetch]\nenabled = false\n[[endpoint]]\npath = "/items"\n'
                    'table = "items"\n[[endpoint]]\npath = "/stamped"\ntable = "stamped"\n')
        srv = FolioServer(url, secret_file=env.secret, extra_args=["--config", cfg]).start()
        srv.follow_links = False
        try:
            import concurrent.futures
            with concurrent.futures.ThreadPoolExecutor(3) as pool:
                walks = [pool.submit(walk, [srv.port], f"/items?per_page={PER_PAGE}&sort={s}")
                         for s in ("grp", "id", "grp", "id")]
                got = [w.result() for w in walks]
            assert got[0] == got[2] == reference(env, "grp, id")
            assert got[1] == got[3] == reference(env)
            # Server connections idle for a second are closed: the next transactions run on
            # new ones, which never saw anything folio set when it connected.
            time.sleep(2.5)
            rows = []
            for _ in range(6):  # several transactions, on whichever server connection
                status, _, body = get(srv.port, "/stamped?per_page=3")
                assert status == 200, body
                rows.append(json.loads(body)["data"][0])
            for r in rows:
                assert r["at"] in ("2025-01-01T00:30:00.123456Z",
                                   "2025-01-01T00:30:00.123456+00:00"), r
                # 0.1 + 0.2 = 0.30000000000000004 exactly: only with extra_float_digits >= 1
                # (the server here prints 15 digits by default, and PgBouncer does not carry
                # that setting from one server connection to the next)
                assert r["d"] == "2024-02-01" and r["x"] == 0.1 + 0.2, r
        finally:
            srv.stop()
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        shutil.rmtree(d, ignore_errors=True)


def test_fail_closed_refuses_limited_requests_while_redis_is_unreachable(env):
    """[cluster] fail = "closed": no shared bucket, no request on a rate-limited endpoint
    (503 problem with Retry-After); endpoints without a limit and the page cache go on."""
    cfg = os.path.join(env.tmp, "closed.toml")
    dead = free_port()  # nothing listens there
    with open(cfg, "w") as f:
        f.write(CONFIG.format(url=env.url, replicas="", redis=dead, rate=RATE, burst=BURST,
                              extra_db="").replace('timeout_ms = 250', 'timeout_ms = 250\n'
                                                   'fail = "closed"'))
    srv = FolioServer(env.url, secret_file=env.secret, extra_args=["--config", cfg]).start()
    srv.follow_links = False
    try:
        status, headers, body = get(srv.port, "/limited?per_page=1")
        assert status == 503, body
        assert headers["content-type"].startswith("application/problem+json")
        assert headers["retry-after"] == "1"
        assert json.loads(body)["type"].endswith("rate-limit-unavailable")
        assert get(srv.port, f"/items?per_page={PER_PAGE}")[0] == 200
        m = metrics(srv.port)
        assert m["folio_redis_errors_total"] >= 1
        assert m["folio_shared_rate_limit_fallbacks_total"] >= 1
    finally:
        srv.stop()
