#!/usr/bin/env python3
"""bench/cluster.py: throughput and CPU per request of 1 folio node, of 1 node behind nginx
and of 2 nodes behind nginx, over one throwaway PostgreSQL 15 (docs/scaling.md).

usage: cluster.py FOLIO [SECONDS] [ROWS]
Every process runs on loopback and is stopped at the end. Each round runs wrk (2 threads,
16 connections) against one uncached page URL (prefetch off: every request reads
PostgreSQL) and reads the CPU time (utime + stime from /proc) that the folio nodes, nginx
and the PostgreSQL backends spent during the round. The machine may be shared: compare the
rounds of one run with each other (ratios), not with another machine's numbers."""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "support"))
import folio_pg  # noqa: E402
from folio_server import free_port, make_secret  # noqa: E402

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
WRK = shutil.which("wrk") or "/usr/bin/wrk"
TICK = os.sysconf("SC_CLK_TCK")
URL = "/items?per_page=20&sort=grp"

NGINX_CONF = """
worker_processes 1;
error_log {dir}/error.log warn;
pid {dir}/nginx.pid;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    upstream folio {{ {servers} keepalive 32; }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://folio;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_next_upstream error timeout http_502 http_503;
        }}
    }}
}}
"""

CONFIG = """
[server]
threads = 4
[database]
url = "{url}"
[prefetch]
enabled = false
[cursor]
ttl = 3600
[[endpoint]]
path = "/items"
table = "items"
"""


def cpu_seconds(pids):
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        except (OSError, IndexError):
            pass
    return total / TICK


def children(ppid):
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == ppid:
                        out.append(int(d))
            except (OSError, IndexError, ValueError):
                pass
    return out


def postmaster_pid(cluster):
    with open(os.path.join(cluster.data, "postmaster.pid")) as f:
        return int(f.readline())


def wrk(port, seconds):
    out = subprocess.run([WRK, "-t2", "-c16", f"-d{seconds}s", f"http://127.0.0.1:{port}{URL}"],
                         capture_output=True, text=True, check=True).stdout
    n = int(re.search(r"(\d+) requests in", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return n, int(non2xx.group(1)) if non2xx else 0


def start_nginx(tmp, name, ports):
    d = os.path.join(tmp, name)
    os.makedirs(d)
    port = free_port()
    servers = " ".join(f"server 127.0.0.1:{p};" for p in ports)
    with open(os.path.join(d, "nginx.conf"), "w") as f:
        f.write(NGINX_CONF.format(dir=d, servers=servers, port=port))
    proc = subprocess.Popen([NGINX, "-c", os.path.join(d, "nginx.conf"), "-p", d,
                             "-g", "daemon off;"], stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    return proc, port


def round_(name, port, seconds, folio_pids, nginx_proc, pg_pid):
    nginx_pids = ([nginx_proc.pid] + children(nginx_proc.pid)) if nginx_proc else []
    pg_pids = children(pg_pid)
    before = (cpu_seconds(folio_pids), cpu_seconds(nginx_pids), cpu_seconds(pg_pids))
    t0 = time.monotonic()
    n, bad = wrk(port, seconds)
    wall = time.monotonic() - t0
    after = (cpu_seconds(folio_pids), cpu_seconds(nginx_pids), cpu_seconds(pg_pids))
    f, ng, pg = (a - b for a, b in zip(after, before))
    us = lambda s: s / n * 1e6  # noqa: E731
    print(f"{name:<28} {n / wall:9.0f} req/s  folio {us(f):6.0f} us/req  nginx {us(ng):5.0f} "
          f"us/req  postgres {us(pg):6.0f} us/req  non-2xx {bad}", flush=True)
    return n / wall, us(f), us(ng), us(pg)


def main(argv):
    folio = argv[1]
    seconds = int(argv[2]) if len(argv) > 2 else 8
    rows = int(argv[3]) if len(argv) > 3 else 100000
    tmp = tempfile.mkdtemp(prefix="folio-bench-cluster-")
    procs = []
    c = folio_pg.cluster()
    try:
        name = c.new_database("bench_cluster")
        url = c.url(name)
        con = folio_pg.PgCon(url)
        con.execute("CREATE TABLE items (id bigint PRIMARY KEY, grp integer NOT NULL, "
                    "name text NOT NULL)")
        con.execute("INSERT INTO items SELECT i, (i * 7919) %% 37, 'item ' || i "
                    "FROM generate_series(1, %d) i" % rows)
        con.execute("CREATE INDEX items_grp ON items (grp, id)")
        con.execute("ANALYZE items")
        con.close()
        secret = make_secret(os.path.join(tmp, "secret"))
        cfg = os.path.join(tmp, "folio.toml")
        with open(cfg, "w") as f:
            f.write(CONFIG.format(url=url))
        nodes = []
        for i in range(2):
            port = free_port()
            p = subprocess.Popen([folio, "serve", url, "--listen", f"127.0.0.1:{port}",
                                  "--secret-file", secret, "--config", cfg],
                                 stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
            procs.append(p)
            nodes.append((p, port))
        time.sleep(1.5)
        ng1, ng1_port = start_nginx(tmp, "nginx1", [nodes[0][1]])
        ng2, ng2_port = start_nginx(tmp, "nginx2", [nodes[0][1], nodes[1][1]])
        procs += [ng1, ng2]
        pg = postmaster_pid(c)
        a = [nodes[0][0].pid]
        both = [p.pid for p, _ in nodes]
        wrk(nodes[0][1], 2)  # warm up: connections, prepared statements, buffers
        wrk(ng2_port, 2)
        print(f"# {rows} rows, GET {URL}, wrk -t2 -c16 -d{seconds}s, "
              f"{os.cpu_count()} CPUs shared with other work", flush=True)
        r1 = round_("1 node, direct", nodes[0][1], seconds, a, None, pg)
        rn = round_("1 node behind nginx", ng1_port, seconds, a, ng1, pg)
        r2 = round_("2 nodes behind nginx", ng2_port, seconds, both, ng2, pg)
        print(f"# same-run ratios: 2 nodes/1 node throughput {r2[0] / r1[0]:.2f}; "
              f"nginx cost {rn[2]:.0f} us/req = {rn[2] / r1[1]:.2f} of a node's CPU per request; "
              f"1 node through nginx/direct throughput {rn[0] / r1[0]:.2f}")
        return 0
    finally:
        for p in procs:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    p.kill()
        folio_pg.shutdown()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
