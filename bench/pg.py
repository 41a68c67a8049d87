#!/usr/bin/env python3
"""bench/pg.py: a throwaway PostgreSQL 15 for make bench, with the demo in it.

usage: pg.py FOLIO ROWS OUT_DIR
Starts a server with tests/support/folio_pg.py (temp dir, own port, fsync off), runs
`FOLIO demo postgresql://... --rows ROWS` (timed), writes OUT_DIR/pg.url and
OUT_DIR/pg_demo.txt (the demo's own output line and the wall seconds), then waits. SIGTERM
(run.sh's cleanup) or the end of its parent stops the server and removes its files."""
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "support"))
import folio_pg  # noqa: E402


def main(argv):
    folio, rows, out = argv[1], argv[2], argv[3]
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    parent = os.getppid()
    c = folio_pg.cluster()
    try:
        url = c.url(c.new_database("bench"))
        t0 = time.monotonic()
        proc = subprocess.run([folio, "demo", url, "--rows", rows], capture_output=True, text=True)
        secs = time.monotonic() - t0
        if proc.returncode != 0:
            print(f"pg.py: folio demo failed: {proc.stderr}", file=sys.stderr)
            return 1
        with open(os.path.join(out, "pg_demo.txt"), "w") as f:
            f.write(f"{proc.stdout.strip()}\nwall_seconds={secs:.2f}\n")
        with open(os.path.join(out, "pg.url.tmp"), "w") as f:
            f.write(url + "\n")
        os.rename(os.path.join(out, "pg.url.tmp"), os.path.join(out, "pg.url"))
        while os.getppid() == parent:
            time.sleep(0.5)
        return 0
    finally:
        folio_pg.shutdown()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
