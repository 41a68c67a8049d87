#!/usr/bin/env python3
"""bench/check.py: small JSON helpers for run.sh, so the shell never parses JSON.

  check.py next FILE               print links.next of a saved folio response ("" if null)
  check.py token FILE              print the after= token of links.next
  check.py validate FILE ROWS [FIRST_ID [TOTAL]]
                                   exit 1 (saying why) unless FILE is a folio page with ROWS
                                   rows, whose first row has id FIRST_ID ("-" to skip) and
                                   whose meta.total is TOTAL
  check.py first-id FILE           print the id of the first row
  check.py walk-to HOST PORT PATH ROWS
                                   follow links.next from PATH (per_page=100 is quickest)
                                   until ROWS rows were seen; print the after= token that
                                   continues after row ROWS (cursors of the same table, sort
                                   and filters serve any per_page)
  check.py free-port               print a free TCP port on 127.0.0.1
  check.py cpus                    print the CPUs this process may run on, space separated
"""
import http.client
import json
import os
import socket
import sys
import urllib.parse


def load(path):
    with open(path, "rb") as f:
        return json.loads(f.read())


def main(argv):
    cmd = argv[1]
    if cmd == "next":
        print(load(argv[2])["links"]["next"] or "")
    elif cmd == "token":
        nxt = load(argv[2])["links"]["next"]
        print(urllib.parse.parse_qs(urllib.parse.urlsplit(nxt).query)["after"][0])
    elif cmd == "first-id":
        print(load(argv[2])["data"][0]["id"])
    elif cmd == "validate":
        path, rows = argv[2], int(argv[3])
        first = argv[4] if len(argv) > 4 else "-"
        total = argv[5] if len(argv) > 5 else "-"
        try:
            doc = load(path)
        except (ValueError, OSError) as e:
            print(f"{path}: not JSON: {e}")
            return 1
        data = doc.get("data")
        if not isinstance(data, list) or len(data) != rows:
            print(f"{path}: expected {rows} rows, got "
                  f"{len(data) if isinstance(data, list) else data!r}")
            return 1
        if first != "-" and str(data[0].get("id")) != first:
            print(f"{path}: expected first id {first}, got {data[0].get('id')}")
            return 1
        if total != "-" and str(doc.get("meta", {}).get("total")) != total:
            print(f"{path}: expected meta.total {total}, got {doc.get('meta')}")
            return 1
    elif cmd == "walk-to":
        host, port, path, rows = argv[2], int(argv[3]), argv[4], int(argv[5])
        conn = http.client.HTTPConnection(host, port, timeout=300)
        seen = 0
        while True:
            conn.request("GET", path)
            resp = conn.getresponse()
            body = resp.read()
            if resp.status != 200:
                print(f"GET {path}: {resp.status} {body[:300]!r}", file=sys.stderr)
                return 1
            doc = json.loads(body)
            seen += len(doc["data"])
            path = doc["links"]["next"]
            if seen >= rows or not path:
                break
        if seen != rows:
            print(f"walk-to: pages do not end at row {rows} (reached {seen})", file=sys.stderr)
            return 1
        print(urllib.parse.parse_qs(urllib.parse.urlsplit(path).query)["after"][0])
    elif cmd == "free-port":
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            print(s.getsockname()[1])
    elif cmd == "cpus":
        print(*sorted(os.sched_getaffinity(0)))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
