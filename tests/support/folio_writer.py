"""A second writer for the HTTP tests: a WAL table `live(id, grp, label)` and a thread that
changes it on its own connection while the server under test reads the same file."""

import random
import threading
import time

from folio_server import connect_db, make_target

LIVE_INSERT = "INSERT INTO live(grp, label) VALUES (?, ?)"


def live_row(rng):
    """One (grp, label) pair for `live`."""
    return rng.randint(0, 9), rng.choice("abcdef")


def make_live_db(path, schema, rows, seed, backend="sqlite"):
    """A WAL database at `path` with `schema` (which creates `live`) and `rows` rows made
    with random.Random(seed); returns the path (for backend "pg": the URL of a PostgreSQL
    copy, see folio_server.make_target)."""
    path = make_target(backend, path, schema)
    rng = random.Random(seed)
    con = connect_db(path)
    try:
        con.executemany(LIVE_INSERT, [live_row(rng) for _ in range(rows)])
        con.commit()
    finally:
        con.close()
    return path


class WriterThread(threading.Thread):
    """Calls step(con, rng) on its own WAL connection until stopped; `ops` counts the calls
    that returned (each one commits its own transaction), `error` keeps what was raised."""

    def __init__(self, path, seed, pause):
        super().__init__(daemon=True)
        self.path, self.seed, self.pause = str(path), seed, pause
        self.ops = 0
        self.error = None
        self.halt = threading.Event()

    def step(self, con, rng):
        raise NotImplementedError

    def run(self):
        rng = random.Random(self.seed)
        try:
            con = connect_db(self.path)
            con.execute("PRAGMA busy_timeout = 10000")
            while not self.halt.is_set():
                self.step(con, rng)
                self.ops += 1
                time.sleep(self.pause)
            con.close()
        except Exception as e:  # surfaced by the test
            self.error = e

    def wait_for_ops(self, n):
        """Block until `n` steps have committed (or the writer failed)."""
        while self.ops < n and self.error is None:
            time.sleep(0.01)

    def wait_for_next_commit(self, timeout=2.0, poll=0.001):
        """Interleave for certain: wait (briefly) until the writer commits again."""
        seen = self.ops
        deadline = time.monotonic() + timeout
        while self.ops == seen and self.error is None and time.monotonic() < deadline:
            time.sleep(poll)

    def stop(self, timeout=10):
        self.halt.set()
        self.join(timeout=timeout)
