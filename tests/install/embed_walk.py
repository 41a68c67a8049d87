"""Drive examples/embed: create a SQLite table, start the program on a free loopback port,
walk every page by following the next link (JSON and Link header agree), check every row
comes exactly once in the requested order, and that a tampered or foreign cursor gets a
400 problem+json. Usage: embed_walk.py EMBED_BINARY DB_PATH"""
import json
import re
import sqlite3
import subprocess
import sys
import urllib.error
import urllib.request

binary, db = sys.argv[1], sys.argv[2]
rows = [(i, "item %02d" % i, float((i * 7) % 5)) for i in range(1, 24)]
con = sqlite3.connect(db)
con.execute("CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT NOT NULL, price REAL NOT NULL)")
con.executemany("INSERT INTO items VALUES (?, ?, ?)", rows)
con.commit()
con.close()

proc = subprocess.Popen([binary, db, "--port", "0", "--max-requests", "40"],
                        stdout=subprocess.PIPE, text=True)
try:
    line = proc.stdout.readline()
    m = re.match(r"listening on 127\.0\.0\.1:(\d+)", line)
    assert m, "no listening line: %r" % line
    base = "http://127.0.0.1:%s" % m.group(1)

    def get(path):
        with urllib.request.urlopen(base + path, timeout=10) as r:
            return r.status, r.headers, json.load(r)

    def walk(first, expect):
        seen, path, pages = [], first, 0
        while path is not None:
            pages += 1
            assert pages <= len(rows) + 1, "the walk does not end"
            status, headers, body = get(path)
            assert status == 200
            seen += [(r["id"], r["name"], r["price"]) for r in body["data"]]
            link = headers.get("Link")
            if body["next"] is None:
                assert link is None, link
            else:
                assert link == '<%s>; rel="next"' % body["next"], link
            path = body["next"]
        assert seen == expect, (seen, expect)
        return pages

    n = walk("/items?per_page=5", sorted(rows))
    assert n == 5, n
    by_price = sorted(rows, key=lambda r: (-r[2], r[0]))
    walk("/items?per_page=4&sort=-price", by_price)

    _, _, page = get("/items?per_page=3&sort=-price")
    token = re.search(r"after=([^&]+)", page["next"]).group(1)
    bad = [
        "/items?after=" + token[:-2] + ("AA" if token[-2:] != "AA" else "BB"),  # tampered
        "/items?per_page=3&after=" + token,  # another sort: a foreign cursor
        "/items?per_page=0",
        "/items?offset=3",
    ]
    for path in bad:
        try:
            get(path)
            raise AssertionError("accepted: " + path)
        except urllib.error.HTTPError as e:
            assert e.code == 400, (path, e.code)
            assert e.headers["Content-Type"] == "application/problem+json", path
            problem = json.load(e)
            assert problem["status"] == 400 and problem["detail"], problem
    print("embed: ok, %d rows walked forward by id and by -price, %d bad requests refused"
          % (len(rows), len(bad)))
finally:
    proc.kill()
    proc.wait()
