"""A throwaway PostgreSQL 15 server for the tests, and the helpers that fill it.

PgCluster runs Debian's postgresql-15 binaries (/usr/lib/postgresql/15/bin): initdb into a
temp dir, its own free port on 127.0.0.1 and its unix socket inside the temp dir, fsync off.
initdb and postgres refuse to run as root and CI runs as root: as root they run as the
`postgres` user (`runuser -u postgres --`), started from /tmp, a directory that user can read.

The server is never left running: PgCluster.stop() runs at the end of the pytest session
(the fixture's finalizer), at interpreter exit (atexit) and, should the test process be
killed outright, from a small watchdog process that waits for the test process to go away.

The cluster's default collation is ICU `en-US` (initdb --locale-provider=icu): a collation
that is not "C" (upper and lower case interleave, "a" < "B"), so the tests see PostgreSQL's
own text order. Its TimeZone, DateStyle and extra_float_digits are set to unusual values on
purpose: folio must not depend on a server's defaults.
"""

import atexit
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile

from folio_server import free_port

PG_BIN = os.environ.get("FOLIO_PG_BIN", "/usr/lib/postgresql/15/bin")
PG_USER = "postgres"
START_TIMEOUT = 60
# Settings a server may have that folio must not rely on (see the module comment).
UNUSUAL_SETTINGS = {
    "TimeZone": "'America/St_Johns'",     # UTC-03:30: an offset that is not whole hours
    "DateStyle": "'SQL, DMY'",            # 31/12/2024 instead of ISO
    "IntervalStyle": "'sql_standard'",
    "extra_float_digits": "0",           # 15 significant digits: not round-trip by default
    "lc_monetary": "'C'",
}
BASE_SETTINGS = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "300",
    "shared_buffers": "32MB",
    "max_wal_size": "1GB",
    "listen_addresses": "'127.0.0.1'",
    "log_min_messages": "warning",
    "logging_collector": "off",
    "autovacuum": "on",
}

WATCHDOG = r"""
import os, shutil, subprocess, sys, time
parent, prefix, pg_ctl, data, tmp = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
while True:
    try:
        os.kill(parent, 0)
    except ProcessLookupError:
        break
    except PermissionError:
        pass
    time.sleep(0.5)
cmd = ([prefix, "-u", "postgres", "--"] if prefix else []) + [pg_ctl, "-D", data, "-m", "immediate", "-w", "stop"]
if os.path.exists(os.path.join(data, "postmaster.pid")):
    subprocess.run(cmd, cwd="/tmp", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
shutil.rmtree(tmp, ignore_errors=True)
"""


def pg_available():
    """Whether the PostgreSQL 15 server binaries are installed."""
    return all(os.access(os.path.join(PG_BIN, b), os.X_OK) for b in ("initdb", "pg_ctl", "postgres"))


class PgCluster:
    """One PostgreSQL server in a temp dir. start() once; stop() is idempotent."""

    def __init__(self, settings=None):
        self.settings = dict(BASE_SETTINGS)
        self.settings.update(UNUSUAL_SETTINGS)
        self.settings.update(settings or {})
        self.tmp = None
        self.data = None
        self.sockdir = None
        self.log = None
        self.port = None
        self.running = False
        self._watchdog = None
        self._atexit = False
        self._serial = 0

    # running commands as the postgres user --------------------------------------------

    def _as_pg(self, argv):
        if os.getuid() == 0:
            return ["runuser", "-u", PG_USER, "--"] + argv
        return argv

    def _run(self, argv, timeout=120, check=True):
        proc = subprocess.run(self._as_pg(argv), cwd="/tmp", capture_output=True, timeout=timeout,
                              stdin=subprocess.DEVNULL)
        if check and proc.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} exited {proc.returncode}:\n"
                               f"{proc.stdout.decode(errors='replace')}\n"
                               f"{proc.stderr.decode(errors='replace')}\n{self.log_tail()}")
        return proc

    def log_tail(self, n=4000):
        try:
            with open(self.log, "rb") as f:
                return f.read()[-n:].decode(errors="replace")
        except (OSError, TypeError):
            return ""

    # lifecycle -------------------------------------------------------------------------

    def init(self):
        if not pg_available():
            raise RuntimeError(f"PostgreSQL 15 is not installed in {PG_BIN} "
                               "(tools/deps.sh test installs postgresql-15)")
        self._prepare_dir("folio-pg-")
        self._run([os.path.join(PG_BIN, "initdb"), "-D", self.data, "-U", PG_USER,
                   "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8",
                   "--locale-provider=icu", "--icu-locale=en-US", "--no-sync"])
        with open(os.path.join(self.data, "postgresql.conf"), "a") as f:
            f.write("\n# folio tests\n")
            for k, v in self.settings.items():
                f.write(f"{k} = {v}\n")
            f.write(f"unix_socket_directories = '{self.sockdir}'\n")
        return self

    def _prepare_dir(self, prefix):
        """A fresh data directory owned by the postgres user, the watchdog, and the stop at
        exit."""
        self.tmp = tempfile.mkdtemp(prefix=prefix)
        os.chmod(self.tmp, 0o700)
        if os.getuid() == 0:
            shutil.chown(self.tmp, PG_USER, PG_USER)
        self.data = os.path.join(self.tmp, "data")
        self.sockdir = self.tmp
        self.log = os.path.join(self.tmp, "postgres.log")
        self._start_watchdog()
        if not self._atexit:
            atexit.register(self.stop)
            self._atexit = True

    def _start_watchdog(self):
        prefix = shutil.which("runuser") if os.getuid() == 0 else ""
        self._watchdog = subprocess.Popen(
            [sys.executable, "-c", WATCHDOG, str(os.getpid()), prefix or "",
             os.path.join(PG_BIN, "pg_ctl"), self.data, self.tmp],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True, cwd="/tmp")

    def start(self):
        """Start (or restart after stop_server) on the same port; the first start picks a free
        port, tries another when that one was taken meanwhile."""
        if self.data is None:
            self.init()
        for _attempt in range(3):
            if self.port is None:
                self.port = free_port()
            proc = self._run([os.path.join(PG_BIN, "pg_ctl"), "-D", self.data, "-l", self.log,
                              "-w", "-t", str(START_TIMEOUT), "-o", f"-p {self.port}", "start"],
                             timeout=START_TIMEOUT + 30, check=False)
            if proc.returncode == 0:
                self.running = True
                return self
            if "could not bind" in self.log_tail() or "in use" in self.log_tail():
                self.port = None
                continue
            break
        raise RuntimeError(f"pg_ctl start failed:\n{proc.stderr.decode(errors='replace')}\n"
                           f"{self.log_tail()}")

    def stop_server(self, mode="fast"):
        """Stop the server, keeping the data dir (start() brings it back on the same port)."""
        if self.data and os.path.exists(os.path.join(self.data, "postmaster.pid")):
            self._run([os.path.join(PG_BIN, "pg_ctl"), "-D", self.data, "-m", mode, "-w",
                       "-t", "60", "stop"], timeout=90, check=False)
        self.running = False

    def stop(self):
        """Stop the server and remove its temp dir; safe to call more than once."""
        if self.tmp is None:
            return
        try:
            self.stop_server(mode="immediate")
        finally:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = self.data = None
            if self._watchdog is not None:
                self._watchdog.kill()
                self._watchdog.wait(timeout=10)
                self._watchdog = None

    # databases -------------------------------------------------------------------------

    def url(self, dbname="postgres", **params):
        """A postgresql:// URI over loopback TCP for folio."""
        q = "&".join(f"{k}={v}" for k, v in params.items())
        return f"postgresql://{PG_USER}@127.0.0.1:{self.port}/{dbname}" + (f"?{q}" if q else "")

    def connect(self, dbname="postgres", autocommit=False):
        """A psycopg2 connection over the unix socket."""
        import psycopg2
        con = psycopg2.connect(host=self.sockdir, port=self.port, user=PG_USER, dbname=dbname)
        con.autocommit = autocommit
        return con

    def new_database(self, prefix="t", template=None):
        """CREATE DATABASE <unique name> [TEMPLATE t]; returns its name."""
        self._serial += 1
        name = f"{prefix}_{os.getpid()}_{self._serial}"
        admin = self.connect(autocommit=True)
        try:
            with admin.cursor() as cur:
                tpl = f' TEMPLATE "{template}"' if template else ""
                cur.execute(f'CREATE DATABASE "{name}"{tpl}')
        finally:
            admin.close()
        return name


class PgReplica(PgCluster):
    """A streaming replica of a running PgCluster, made with `pg_basebackup -R` (as the
    postgres user) into its own temp dir, on its own free port: a hot standby, read-only.
    start()/stop_server()/stop() as for the primary (stop() also runs at exit and from its
    own watchdog)."""

    def __init__(self, primary):
        super().__init__()
        self.primary = primary

    def init(self):
        self._prepare_dir("folio-pg-replica-")
        self._run([os.path.join(PG_BIN, "pg_basebackup"), "-h", "127.0.0.1",
                   "-p", str(self.primary.port), "-U", PG_USER, "-D", self.data, "-R",
                   "-X", "stream", "--no-sync", "-c", "fast"], timeout=300)
        with open(os.path.join(self.data, "postgresql.conf"), "a") as f:
            f.write(f"\n# folio test replica\nunix_socket_directories = '{self.sockdir}'\n"
                    "hot_standby = on\nhot_standby_feedback = on\n")
        return self

    def wait_caught_up(self, timeout=60):
        """Wait until the replica has replayed everything the primary wrote so far."""
        import time
        p = self.primary.connect(autocommit=True)
        r = self.connect(autocommit=True)
        try:
            with p.cursor() as pc:
                pc.execute("SELECT pg_current_wal_insert_lsn()")
                target = pc.fetchone()[0]
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                with r.cursor() as rc:
                    rc.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (target,))
                    if rc.fetchone()[0]:
                        return
                time.sleep(0.05)
            raise RuntimeError("the replica did not catch up in time")
        finally:
            p.close()
            r.close()


def replica_of(primary):
    """A started streaming replica of `primary` (a running PgCluster)."""
    return PgReplica(primary).start()


_cluster = None


def mirror_to_new_database(sqlite_path, prefix="m"):
    """A new database of the test cluster holding a copy of the SQLite file; returns its URL."""
    c = cluster()
    name = c.new_database(prefix)
    con = PgCon(c.url(name))
    try:
        mirror_sqlite(sqlite_path, con)
    finally:
        con.close()
    return c.url(name)


def cluster():
    """The PgCluster of this test process, started on first use and stopped at exit."""
    global _cluster
    if _cluster is None:
        _cluster = PgCluster().start()
    elif not _cluster.running:
        _cluster.start()
    return _cluster


def shutdown():
    global _cluster
    if _cluster is not None:
        _cluster.stop()
        _cluster = None


# --- a DB-API connection that speaks like the tests' sqlite3 connections ----------------

QMARK_RE = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|\?|%")


def qmark_to_pyformat(sql):
    """sqlite3's ? placeholders as psycopg2's %s (and a literal % as %%), outside quotes."""
    def sub(m):
        t = m.group(0)
        return "%s" if t == "?" else "%%" if t == "%" else t
    return QMARK_RE.sub(sub, sql)


class PgCursor:
    """A psycopg2 cursor with sqlite3's lastrowid (the first column an INSERT returned)."""

    def __init__(self, cur, lastrowid=None):
        self._cur = cur
        self.lastrowid = lastrowid

    def __getattr__(self, name):
        return getattr(self._cur, name)

    def __iter__(self):
        return iter(self._cur) if self._cur.description else iter(())

    def fetchone(self):
        return self._cur.fetchone()

    def fetchall(self):
        return self._cur.fetchall()


INSERT_RE = re.compile(r"\s*INSERT\b", re.I)


class PgCon:
    """A psycopg2 connection used like sqlite3's by the tests: execute() returns a cursor,
    ? placeholders, `with con:` is one transaction, an INSERT's cursor has lastrowid (the
    first column of the row, the integer key of the tables the tests write), PRAGMAs are
    ignored. Values come back as PostgreSQL types them (bytea as memoryview)."""

    backend = "pg"

    def __init__(self, url):
        import psycopg2
        self.url = url
        self.raw = psycopg2.connect(url)
        self.raw.autocommit = True
        # the test cluster's extra_float_digits is 0 (15 digits): read doubles exactly
        self.raw.cursor().execute("SET extra_float_digits = 3")

    def execute(self, sql, params=()):
        if sql.lstrip().upper().startswith("PRAGMA"):
            sql, params = "SELECT 1 WHERE false", ()
        returning = INSERT_RE.match(sql) and "RETURNING" not in sql.upper()
        if returning:
            sql = sql.rstrip().rstrip(";") + " RETURNING *"
        cur = self.raw.cursor()
        cur.execute(qmark_to_pyformat(sql) if params else sql, tuple(params) if params else None)
        lastrowid = None
        if returning:
            row = cur.fetchone()
            lastrowid = row[0] if row else None
        return PgCursor(cur, lastrowid)

    def executemany(self, sql, seq):
        cur = self.raw.cursor()
        cur.executemany(qmark_to_pyformat(sql), [tuple(p) for p in seq])
        return PgCursor(cur)

    def executescript(self, sql):
        cur = self.raw.cursor()
        cur.execute(sql)
        return PgCursor(cur)

    def __enter__(self):
        self.raw.autocommit = False
        return self

    def __exit__(self, exc_type, *_):
        try:
            if exc_type is None:
                self.raw.commit()
            else:
                self.raw.rollback()
        finally:
            self.raw.autocommit = True
        return False

    def commit(self):
        if not self.raw.autocommit:
            self.raw.commit()

    def rollback(self):
        if not self.raw.autocommit:
            self.raw.rollback()

    def close(self):
        self.raw.close()

    def columns(self, table):
        """[(name, type)] in table order (pg_catalog's format_type)."""
        return [tuple(r) for r in self.execute(
            "SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
            "WHERE a.attrelid = to_regclass(?) AND a.attnum > 0 AND NOT a.attisdropped "
            "ORDER BY a.attnum", (quote_ident(table),))]

    def primary_key(self, table):
        """The primary key columns in key order ([] for none)."""
        return [r[0] for r in self.execute(
            "SELECT a.attname FROM pg_index i JOIN LATERAL unnest(i.indkey) WITH ORDINALITY "
            "AS k(attnum, n) ON true JOIN pg_attribute a ON a.attrelid = i.indrelid "
            "AND a.attnum = k.attnum WHERE i.indrelid = to_regclass(?) AND i.indisprimary "
            "ORDER BY k.n", (quote_ident(table),))]


def quote_ident(name):
    return '"' + name.replace('"', '""') + '"'


# --- mirroring a SQLite database into PostgreSQL ----------------------------------------

def pg_type(declared):
    """The PostgreSQL column type for a SQLite declared type (SQLite's affinity rules)."""
    t = (declared or "").upper()
    if "INT" in t:
        return "bigint"
    if "CHAR" in t or "CLOB" in t or "TEXT" in t:
        return "text"
    if "BLOB" in t or not t:
        return "bytea" if "BLOB" in t else "text"
    if "REAL" in t or "FLOA" in t or "DOUB" in t:
        return "double precision"
    if "BOOL" in t:
        return "boolean"
    return "numeric"


def _text(v):
    if isinstance(v, (bytes, bytearray)):
        v = bytes(v).decode("utf-8", "replace")
    return str(v).replace("\x00", "\ufffd")  # PostgreSQL text cannot hold NUL


def _bytes(v):
    return bytes(v) if isinstance(v, (bytes, bytearray)) else str(v).encode()


CONVERT = {"bigint": int, "text": _text, "bytea": _bytes, "double precision": float,
           "boolean": bool, "numeric": lambda v: v}


def mirror_sqlite(sqlite_path, pgcon, tables=None):
    """Copy the tables (and their indexes and primary keys) of a SQLite file into the
    PostgreSQL database of `pgcon`; returns the tables copied. SQLite-only shapes (WITHOUT
    ROWID, generated columns, mixed storage classes in a column) are not for this."""
    src = sqlite3.connect(str(sqlite_path))
    src.text_factory = lambda b: b.decode("utf-8", "replace")
    try:
        names = [r[0] for r in src.execute(
            "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "ORDER BY rowid")]
        if tables is not None:
            names = [n for n in names if n in tables]
        for t in names:
            info = list(src.execute(f"PRAGMA table_info({quote_ident(t)})"))
            cols = [(r[1], pg_type(r[2]), bool(r[3]), r[5]) for r in info]
            pk = [c for c, _, _, k in sorted(cols, key=lambda c: c[3]) if k]
            # a lone INTEGER PRIMARY KEY is SQLite's rowid: numbered by default, as here
            rowid_alias = len(pk) == 1 and [r[2].upper() for r in info if r[1] == pk[0]] == ["INTEGER"]
            defs = [f"{quote_ident(c)} {ty}" + (" NOT NULL" if nn else "") +
                    (" GENERATED BY DEFAULT AS IDENTITY" if rowid_alias and c == pk[0] else "")
                    for c, ty, nn, _ in cols]
            if pk:
                defs.append("PRIMARY KEY (" + ", ".join(map(quote_ident, pk)) + ")")
            pgcon.execute(f"CREATE TABLE {quote_ident(t)} ({', '.join(defs)})")
            sel = ", ".join(quote_ident(c) for c, *_ in cols)
            rows = src.execute(f"SELECT {sel} FROM {quote_ident(t)}").fetchall()
            if rows:
                conv = [CONVERT[ty] for _, ty, _, _ in cols]
                rows = [tuple(None if v is None else f(v) for f, v in zip(conv, r)) for r in rows]
                copy_rows(pgcon, t, [c for c, *_ in cols], rows)
            if rowid_alias:
                pgcon.execute(f"SELECT setval(pg_get_serial_sequence(?, ?), "
                              f"(SELECT coalesce(max({quote_ident(pk[0])}), 0) + 1 "
                              f"FROM {quote_ident(t)}), false)", (quote_ident(t), pk[0]))
            for (iname, unique, origin) in [(r[1], r[2], r[3]) for r in
                                            src.execute(f"PRAGMA index_list({quote_ident(t)})")]:
                if origin == "pk":
                    continue
                icols = [(r[2], bool(r[3])) for r in
                         src.execute(f"PRAGMA index_xinfo({quote_ident(iname)})") if r[5]]
                spec = ", ".join(quote_ident(c) + (" DESC" if d else "") for c, d in icols)
                pgcon.execute(f"CREATE {'UNIQUE ' if unique else ''}INDEX {quote_ident(iname)} "
                              f"ON {quote_ident(t)} ({spec})")
        pgcon.execute("ANALYZE")
        return names
    finally:
        src.close()


def copy_rows(pgcon, table, cols, rows, page=1000):
    """INSERT the rows in batches (psycopg2.extras.execute_values)."""
    from psycopg2.extras import execute_values
    cur = pgcon.raw.cursor()
    sql = (f"INSERT INTO {quote_ident(table)} ({', '.join(map(quote_ident, cols))}) "
           "VALUES %s")
    execute_values(cur, sql, [tuple(r) for r in rows], page_size=page)
    if not pgcon.raw.autocommit:
        pgcon.raw.commit()


def terminate_backends(pgcon_or_cluster, dbname):
    """Close every other session of `dbname` (e.g. before DROP DATABASE)."""
    c = pgcon_or_cluster
    admin = c.connect(autocommit=True) if isinstance(c, PgCluster) else c.cluster.connect(autocommit=True)
    try:
        with admin.cursor() as cur:
            cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = %s AND pid <> pg_backend_pid()", (dbname,))
    finally:
        admin.close()


def _on_signal(signum, _frame):
    shutdown()
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


for _sig in (signal.SIGTERM, signal.SIGHUP):
    if signal.getsignal(_sig) in (signal.SIG_DFL, None):
        signal.signal(_sig, _on_signal)
