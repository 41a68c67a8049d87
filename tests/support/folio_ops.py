"""Helpers for the operations tests (test_30, test_31_*): client threads that load a server
until stopped, polling for a condition, and reading Prometheus /metrics text."""
import re
import threading
import time

METRIC_RE = re.compile(r"^([a-z_]+(?:\{[^}]*\})?) ([0-9.eE+-]+)$")


def parse_metrics(text):
    """Prometheus text exposition as {"name{labels}": value}; every line that is not a
    comment must be a sample line."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = METRIC_RE.match(line)
        assert m, f"not a Prometheus sample line: {line!r}"
        out[m.group(1)] = float(m.group(2))
    return out


def wait_for(predicate, timeout=20.0, what="condition"):
    """predicate()'s first truthy value, polled every 50 ms; AssertionError after timeout s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class ClientThreads:
    """`n` threads running `self.run(i)` until `self.stop_event` is set. Use as a context
    manager: the threads start on entry; on exit they are told to stop and joined, and
    (unless the block raised) any thread still running after `join_timeout` s fails."""

    join_timeout = 30

    def __init__(self, n):
        self.stop_event = threading.Event()
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.run, args=(i,)) for i in range(n)]

    def run(self, i):
        raise NotImplementedError

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop_event.set()
        for t in self.threads:
            t.join(self.join_timeout)
        if exc[0] is None:
            assert not any(t.is_alive() for t in self.threads), \
                f"a client thread did not stop within {self.join_timeout} s"
