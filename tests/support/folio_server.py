"""Spawn the real `folio` binary on a free port and talk HTTP to it.

The binary comes from $FOLIO_BIN (CTest sets it). It is normally built with ASan + UBSan,
so every server is stopped with SIGTERM, must exit 0 within a few seconds, and its captured
stderr must be free of sanitizer reports; FolioServer.stop() checks all three.
"""

import base64
import http.client
import json
import os
import re
import secrets
import signal
import socket
import sqlite3
import subprocess
import tempfile
import time

SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "LeakSanitizer", "runtime error:")
LINK_URL_RE = re.compile(r'<([^>]*)>')
ANY_SORT_CONFIG = '[api]\nsortable = "all"\n'
MAX_LINK_CHECKS = 20000  # per server: a bound, never reached by the suite (see check_links)
START_TIMEOUT = 10.0
STOP_TIMEOUT = 8.0
REQUEST_TIMEOUT = 30.0


def folio_bin():
    """Absolute path of the folio binary under test ($FOLIO_BIN)."""
    path = os.environ.get("FOLIO_BIN")
    if not path:
        raise RuntimeError("FOLIO_BIN is not set: point it at the folio binary")
    path = os.path.abspath(path)
    if not os.access(path, os.X_OK):
        raise RuntimeError(f"FOLIO_BIN={path} is not an executable file")
    return path


def sanitizer_env(extra=None):
    """The environment for a folio child: sanitizer options set when the caller did not."""
    env = dict(os.environ)
    env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
    env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
    if extra:
        env.update(extra)
    return env


def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_secret(path, nbytes=32):
    """Write `nbytes` (>= 32) random bytes to `path` with mode 0600; returns the path."""
    path = str(path)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, secrets.token_bytes(max(32, nbytes)))
    finally:
        os.close(fd)
    os.chmod(path, 0o600)
    return path


def make_demo(path, rows, backend="sqlite"):
    """Create the demo database with `folio demo PATH --rows N`; returns the path. With
    backend "pg", `folio demo` fills a new database of the test PostgreSQL instead
    (`path` unused) and its URL is returned."""
    path = str(path)
    if backend == "pg":
        import folio_pg
        c = folio_pg.cluster()
        path = c.url(c.new_database("demo"))
    proc = subprocess.run([folio_bin(), "demo", path, "--rows", str(rows)],
                          env=sanitizer_env(), capture_output=True, timeout=120)
    stderr = proc.stderr.decode("utf-8", "replace")
    assert proc.returncode == 0, f"folio demo exited {proc.returncode}:\n{stderr}"
    check_sanitizer_output(stderr, "folio demo")
    return path


def make_db(path, sql_script):
    """Create a WAL-mode SQLite file at `path` and run `sql_script` in it; returns the path."""
    path = str(path)
    con = sqlite3.connect(path)
    try:
        con.execute("PRAGMA journal_mode=WAL")
        con.executescript(sql_script)
        con.commit()
    finally:
        con.close()
    return path


def is_pg_target(target):
    """Whether folio would take `target` for PostgreSQL (a URI or key=value conninfo)."""
    t = str(target)
    return t.startswith(("postgresql://", "postgres://")) or ("=" in t and "/" not in t)


def make_target(backend, path, sql_script):
    """make_db(path, sql_script) for `backend` "sqlite"; for "pg" that file is then copied
    into a new database of the test PostgreSQL (folio_pg.mirror_sqlite) and its URL is
    returned. Either way the result is what `folio serve` and connect_db take."""
    return as_backend(backend, make_db(path, sql_script))


def as_backend(backend, path):
    """The SQLite file `path` itself for backend "sqlite"; for "pg" the URL of a new
    database of the test PostgreSQL holding a copy of it (folio_pg.mirror_sqlite)."""
    if backend == "sqlite":
        return str(path)
    assert backend == "pg", backend
    import folio_pg
    return folio_pg.mirror_to_new_database(path)


def connect_db(path):
    """A Python connection to the same database the server reads: sqlite3 for a file (TEXT
    decoded leniently), folio_pg.PgCon (used the same way) for a PostgreSQL URL."""
    if is_pg_target(path):
        import folio_pg
        return folio_pg.PgCon(str(path))
    con = sqlite3.connect(str(path))
    con.text_factory = lambda b: b.decode("utf-8", "replace")
    return con


def db_fixture(path):
    """Body of a connection fixture: `yield from db_fixture(path)` yields connect_db(path)
    and closes it at teardown."""
    con = connect_db(path)
    try:
        yield con
    finally:
        con.close()


def check_sanitizer_output(text, who="folio"):
    for marker in SANITIZER_MARKERS:
        assert marker not in text, f"{who} reported {marker!r}:\n{text[-20000:]}"


def strict_json(body):
    """Parse a body as strict JSON: valid UTF-8, no NaN/Infinity, no duplicate keys."""
    if isinstance(body, (bytes, bytearray)):
        text = bytes(body).decode("utf-8")  # raises on invalid UTF-8
    else:
        text = body

    def no_constants(name):
        raise ValueError(f"non-JSON constant {name} in body")

    def pairs(items):
        keys = [k for k, _ in items]
        dup = {k for k in keys if keys.count(k) > 1}
        if dup:
            raise ValueError(f"duplicate keys {sorted(dup)} in JSON object")
        return dict(items)

    return json.loads(text, parse_constant=no_constants, object_pairs_hook=pairs)


def media_type(headers):
    value = headers.get("Content-Type") or ""
    return value.split(";")[0].strip().lower()


def b64(data):
    return base64.b64encode(bytes(data)).decode("ascii")


class Response:
    """status, headers (case-insensitive mapping) and body bytes; unpacks as a 3-tuple."""

    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def __iter__(self):
        return iter((self.status, self.headers, self.body))

    def json(self):
        return strict_json(self.body)

    def __repr__(self):
        return f"<Response {self.status} {self.headers.get('Content-Type')} {self.body[:300]!r}>"


class FolioServer:
    """One `folio serve` process on 127.0.0.1:<free port>."""

    def __init__(self, db, secret_file=None, extra_args=(), workdir=None, env=None,
                 any_sort=False):
        """any_sort: auto endpoints sort by every column (`[api] sortable = "all"`), not
        only by the columns an index leads (the default); for tests of the page engine
        over arbitrary sorts. Not with --config in extra_args (put it in that file)."""
        self.db = str(db)
        self.workdir = workdir or tempfile.mkdtemp(prefix="folio-srv-")
        if secret_file is None:
            secret_file = make_secret(os.path.join(self.workdir, "secret"))
        self.secret_file = secret_file  # False: start without --secret-file
        self.extra_args = [str(a) for a in extra_args]
        if any_sort:
            assert "--config" not in self.extra_args, "any_sort with --config: use the file"
            path = os.path.join(self.workdir, "any-sort.toml")
            with open(path, "w") as f:
                f.write(ANY_SORT_CONFIG)
            self.extra_args = ["--config", path] + self.extra_args
        self.env = env
        self.proc = None
        self.port = None
        self.stderr_path = None
        self._stderr_file = None
        self._serial = 0
        # "Every link folio emits is accepted by folio": every link of every response is
        # recorded here (Link headers, body links, a problem's cursor link) and requested
        # when the server is stopped; a 4xx fails the test (see check_links).
        self.emitted = {}        # link -> the request that emitted it
        self.requested = set()   # what was requested with a 2xx answer: need not be again
        self.follow_links = True
        self.expiring_cursors = False  # a test that lets cursors expire on purpose says so

    # lifecycle -------------------------------------------------------------------------

    def command(self):
        cmd = [folio_bin(), "serve", self.db, "--listen", f"127.0.0.1:{self.port}"]
        if self.secret_file:
            cmd += ["--secret-file", str(self.secret_file)]
        return cmd + self.extra_args

    def start(self):
        last = ""
        for _attempt in range(3):  # a port taken between probe and bind: try another
            self.port = free_port()
            self._serial += 1
            self.stderr_path = os.path.join(self.workdir, f"stderr-{self.port}-{self._serial}.log")
            self._stderr_file = open(self.stderr_path, "wb")
            self.proc = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL,
                                         stdout=self._stderr_file, stderr=self._stderr_file,
                                         env=sanitizer_env(self.env))
            deadline = time.monotonic() + START_TIMEOUT
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    break
                if self._accepts_http():
                    return self
                time.sleep(0.05)
            if self.proc.poll() is None:
                self._kill()
                raise AssertionError(f"folio serve did not accept HTTP within {START_TIMEOUT}s:"
                                     f"\n{self.stderr_text()}")
            last = self.stderr_text()
            self._stderr_file.close()
            if "in use" not in last.lower():
                break
        raise AssertionError(f"folio serve exited with {self.proc.returncode} during startup "
                             f"({' '.join(self.command())}):\n{last}")

    def _accepts_http(self):
        try:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
            conn.request("GET", "/")
            conn.getresponse().read()
            conn.close()
            return True
        except OSError:
            return False
        except http.client.HTTPException:
            return False

    def stderr_text(self):
        if not self.stderr_path or not os.path.exists(self.stderr_path):
            return ""
        with open(self.stderr_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def _kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)

    # links ---------------------------------------------------------------------------

    def record_links(self, target, resp):
        """Remember every link `resp` (the answer to `target`) hands out."""
        if not isinstance(target, str) or not target.startswith("/"):
            return
        if 200 <= resp.status < 300:
            self.requested.add(target)
        urls = []
        for value in resp.headers.get_all("Link") or []:
            urls += LINK_URL_RE.findall(value)
        if media_type(resp.headers) in ("application/json", "application/problem+json"):
            try:
                body = json.loads(resp.body)
            except ValueError:
                body = None
            if isinstance(body, dict):
                links = body.get("links")
                if isinstance(links, dict):
                    urls += [u for u in links.values() if isinstance(u, str)]
                for key in ("cursor", "next"):  # offset-too-deep problems, file listings
                    if isinstance(body.get(key), str) and body[key].startswith("/"):
                        urls.append(body[key])
        for url in urls:
            if url.startswith("/"):
                self.emitted.setdefault(url, target)

    def check_links(self):
        """Request every recorded link not yet requested with success; returns the
        failures: links answered 4xx (429, the rate limit, is not a refusal of the link;
        an expired cursor only counts where the test did not let cursors expire)."""
        todo = [u for u in self.emitted if u not in self.requested][:MAX_LINK_CHECKS]
        failures = []
        conn = None
        for url in todo:
            for _attempt in range(2):  # a keep-alive connection the server closed: reopen
                try:
                    if conn is None:
                        conn = http.client.HTTPConnection("127.0.0.1", self.port,
                                                          timeout=REQUEST_TIMEOUT)
                    conn.request("GET", url)
                    r = conn.getresponse()
                    resp = Response(r.status, r.msg, r.read())
                    if r.will_close:
                        conn.close()
                        conn = None
                    break
                except (OSError, http.client.HTTPException) as e:
                    if conn is not None:
                        conn.close()
                    conn = None
                    resp = e
            if isinstance(resp, Exception):
                failures.append(f"{url} (emitted by {self.emitted[url]}): {resp!r}")
                continue
            self.requested.add(url)
            if not 400 <= resp.status < 500 or resp.status == 429:
                continue
            if self.expiring_cursors and b"expired-cursor" in resp.body:
                continue
            failures.append(f"{url} (emitted by {self.emitted[url]}): {resp!r}")
        if conn is not None:
            conn.close()
        return failures

    def stop(self, check=True, sig=signal.SIGTERM):
        """Send `sig` (SIGTERM); with check, first request every link the server emitted
        (check_links), then assert exit 0 within STOP_TIMEOUT and a clean stderr."""
        if self.proc is None:
            return
        link_failures = []
        if check and self.follow_links and self.proc.poll() is None:
            link_failures = self.check_links()
        self.emitted.clear()
        proc, self.proc = self.proc, None
        crashed = proc.poll()
        if crashed is None:
            proc.send_signal(sig)
            try:
                rc = proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
                if self._stderr_file:
                    self._stderr_file.close()
                if check:
                    raise AssertionError(f"folio serve did not exit within {STOP_TIMEOUT}s of "
                                         f"{sig.name}:\n{self.stderr_text()}")
                return
        else:
            rc = crashed
        if self._stderr_file:
            self._stderr_file.close()
        if not check:
            return
        text = self.stderr_text()
        check_sanitizer_output(text, "folio serve")
        if crashed is not None:
            raise AssertionError(f"folio serve died before SIGTERM with status {crashed}:\n{text}")
        assert rc == 0, f"folio serve exited {rc} after {sig.name} (want 0):\n{text[-20000:]}"
        assert not link_failures, (f"{len(link_failures)} links folio emitted were refused by "
                                   f"folio:\n" + "\n".join(link_failures[:20]))

    def restart(self):
        """Stop (checked) and start again on a new port with the same arguments."""
        self.stop()
        return self.start()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop(check=exc[0] is None)

    # requests --------------------------------------------------------------------------

    def request(self, method, path, headers=None, body=None, timeout=REQUEST_TIMEOUT):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=dict(headers or {}))
            resp = conn.getresponse()
            data = resp.read()
            out = Response(resp.status, resp.msg, data)
            if method in ("GET", "HEAD"):
                self.record_links(path, out)
            return out
        except (OSError, http.client.HTTPException) as e:
            alive = "alive" if self.alive() else f"DEAD (status {self.proc.poll()})"
            raise AssertionError(f"{method} {path[:300]} failed: {e!r}; server {alive}\n"
                                 f"{self.stderr_text()[-5000:]}") from e
        finally:
            conn.close()

    def get(self, path, headers=None):
        return self.request("GET", path, headers)

    def head(self, path, headers=None):
        return self.request("HEAD", path, headers)

    def get_json(self, path, headers=None, expect=200):
        r = self.get(path, headers)
        assert r.status == expect, f"GET {path}: want {expect}, got {r!r}"
        return r.json()

    def raw(self, target, method=b"GET", timeout=REQUEST_TIMEOUT):
        """Send `method target HTTP/1.1` verbatim (bytes target, no client-side checks);
        returns a Response. A dropped connection or a hang raises AssertionError."""
        if isinstance(target, str):
            target = target.encode("latin-1")
        req = (method + b" " + target + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n"
               b"Connection: close\r\n\r\n")
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=timeout)
        try:
            try:
                sock.sendall(req)
            except OSError:
                pass  # a server may answer and close before reading a huge request
            resp = http.client.HTTPResponse(sock, method=method.decode())
            try:
                resp.begin()
                data = resp.read()
                if method in (b"GET", b"HEAD"):
                    self.record_links(target.decode("latin-1"), Response(resp.status, resp.msg, data))
            except (OSError, http.client.HTTPException) as e:
                alive = "alive" if self.alive() else f"DEAD (status {self.proc.poll()})"
                raise AssertionError(f"raw {method!r} {target[:200]!r}: {e!r}; server {alive}\n"
                                     f"{self.stderr_text()[-5000:]}") from e
            return Response(resp.status, resp.msg, data)
        finally:
            sock.close()
