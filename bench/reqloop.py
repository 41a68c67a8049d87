#!/usr/bin/env python3
"""bench/reqloop.py: a fixed number of sequential requests for one path over one keep-alive
connection.

Used by run.sh for the callgrind runs (a fixed request count, so instructions can be divided
by it). Each METHOD:COUNT phase runs in order. Exits non-zero on the first response that is
not 200, printing the request and what came back.

usage: reqloop.py HOST PORT PATH METHOD:COUNT [METHOD:COUNT...]   e.g. GET:10 HEAD:10
PATH may be @FILE: one path a line, requested in turn (from the top again at the end), as
the random-position scenarios do.
prints: requests=N seconds=S bytes=B (bytes of the last body)
"""
import http.client
import sys
import time


def main() -> int:
    host, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    phases = [(m, int(n)) for m, n in (a.split(":") for a in sys.argv[4:])]
    paths = [path]
    if path.startswith("@"):
        with open(path[1:]) as f:
            paths = [line.strip() for line in f if line.strip()]
    conn = http.client.HTTPConnection(host, port, timeout=120)
    body = b""
    total = 0
    t0 = time.monotonic()
    for method, count in phases:
        for i in range(count):
            path = paths[total % len(paths)]
            conn.request(method, path)
            resp = conn.getresponse()
            body = resp.read()
            if resp.status != 200:
                print(f"reqloop: request {i + 1} {method} {path}: status {resp.status}: "
                      f"{body[:300]!r}", file=sys.stderr)
                return 1
            total += 1
    elapsed = time.monotonic() - t0
    conn.close()
    print(f"requests={total} seconds={elapsed:.3f} bytes={len(body)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
