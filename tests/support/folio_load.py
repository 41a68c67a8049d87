"""Client threads that load a server until stopped: the shared start/stop of the load
generators in the HTTP tests (test_30's keep-alive clients, test_31_reload's storm load)."""
import threading


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
