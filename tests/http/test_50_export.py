"""Streaming export, black-box: GET /api/{table}/export in NDJSON, CSV and JSON equals the
ORDER BY result with filters and sorts; CSV round-trips tricky values through Python's csv
module; a cut download resumes from its last checkpoint with no row twice; a client that
leaves stops the walk (seen in /metrics); a slow reader keeps the server's memory flat and
a stalled one is cut off; the limits (per-client exports, max_rows, endpoints without
export) answer with problems; `folio export` writes the same bytes and prints the resume
cursor on Ctrl-C."""

import base64
import csv
import http.client
import io
import json
import os
import signal
import socket
import subprocess
import time

import pytest

from folio_api import assert_problem
from folio_ops import parse_metrics, wait_for
from folio_server import (check_sanitizer_output, connect_db, folio_bin, make_db, media_type,
                          sanitizer_env)

ROWS = 2600  # more than two internal batches of 1000

TRICKY = [
    'plain', '', None, 'a "quoted" word', 'comma, inside', 'line\nbreak', 'cr\rlf\r\n',
    '"', ',', '\n', ' lead and trail ', 'ünïcödé ✓ 😀', 'tab\there',
]


def _db_sql():
    rows = []
    for i in range(1, ROWS + 1):
        name = TRICKY[i % len(TRICKY)]
        name_sql = "NULL" if name is None else "'" + name.replace("'", "''") + "'"
        n = "NULL" if i % 7 == 0 else str((i * 37) % 101 - 50)
        r = "NULL" if i % 5 == 0 else repr(i / 8 - 3.3)
        b = "NULL" if i % 3 == 0 else ("x''" if i % 11 == 0 else f"x'{(i * 7919) % 65536:04x}00ff'")
        k = "NULL" if i % 4 == 0 else f"'k{i % 9}'"
        rows.append(f"({i}, {name_sql}, {n}, {r}, {b}, {k})")
    sql = ("CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, n INTEGER, r REAL, b BLOB, k TEXT);"
           "CREATE INDEX t_n ON t(n, id); CREATE INDEX t_k ON t(k, id);"
           f"INSERT INTO t VALUES {', '.join(rows)};"
           # invalid UTF-8 in TEXT: a stray continuation byte, a truncated sequence, 0xff
           "INSERT INTO t VALUES (9001, CAST(x'66ff6f' AS TEXT), 1, 0.5, x'00', 'k1');"
           "INSERT INTO t VALUES (9002, CAST(x'e282' AS TEXT), 2, 1.5, x'01', 'k2');"
           "INSERT INTO t VALUES (9003, CAST(x'2c80222c' AS TEXT), 3, 2.5, x'02', NULL);")
    big = ("CREATE TABLE big(id INTEGER PRIMARY KEY, payload TEXT NOT NULL);"
           "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 40000) "
           "INSERT INTO big SELECT i, hex(randomblob(700)) FROM c;")
    return sql + big


@pytest.fixture(scope="module")
def xdb(tmp_path_factory):
    return make_db(tmp_path_factory.mktemp("export") / "export.db", _db_sql())


@pytest.fixture(scope="module")
def xcon(xdb):
    con = connect_db(xdb)
    yield con
    con.close()


def config(tmp_path, text):
    path = tmp_path / "folio.toml"
    path.write_text(text)
    return ["--config", str(path)]


def metrics(srv):
    return parse_metrics(srv.get("/metrics").body.decode())


COLS = ["id", "name", "n", "r", "b", "k"]


def expected(con, where="", order="id", params=()):
    rows = con.execute(f"SELECT {', '.join(COLS)} FROM t {where} ORDER BY {order}",
                       params).fetchall()
    return [dict(zip(COLS, (base64.b64encode(v).decode() if isinstance(v, bytes) else v
                            for v in row))) for row in rows]


def ndjson_rows(body):
    rows, marks = [], []
    for line in body.decode("utf-8").split("\n"):
        if not line:
            continue
        obj = json.loads(line)
        (marks if "@next" in obj else rows).append(obj)
    return rows, marks


def csv_rows(body):
    text = body.decode("utf-8")
    recs = list(csv.reader(io.StringIO(text, newline="")))
    header, data = recs[0], recs[1:]
    return header, data


def as_csv_text(v):
    """The text folio's CSV holds for a JSON value (NULL and "" both read back as '')."""
    if v is None:
        return ""
    if isinstance(v, float):
        return v  # compared numerically
    return str(v)


def check_csv_equals(body, want, fields=COLS):
    header, data = csv_rows(body)
    assert header == fields
    assert len(data) == len(want)
    for got, exp in zip(data, want):
        for f, g in zip(fields, got):
            e = exp[f]
            if isinstance(e, float):
                assert float(g) == e, (f, g, e)
            else:
                assert g == as_csv_text(e), (f, g, e)


CASES = [
    ("", "", "id", ()),
    ("sort=-n", "", "n DESC, id DESC", ()),  # the tiebreaker (the key) follows the last key
    ("sort=k", "", "k, id", ()),          # SQLite: NULLs first ascending, last descending
    ("sort=-k", "", "k DESC, id DESC", ()),
    ("sort=-k,-id", "", "k DESC, id DESC", ()),
    ("n=gte.10", "WHERE n >= 10", "id", ()),
    ("sort=n&k=in.(k1,k3)", "WHERE k IN ('k1','k3')", "n, id", ()),
    ("name=like.*a*&sort=-id", "WHERE name LIKE '%a%'", "id DESC", ()),
]


@pytest.mark.parametrize("query,where,order,params", CASES)
def test_full_export_equals_the_order_by_result_in_every_format(spawn, xdb, xcon, query, where,
                                                                 order, params):
    srv = spawn(xdb, any_sort=True)
    want = expected(xcon, where, order, params)
    sep = "&" if query else ""
    r = srv.get(f"/api/t/export?{query}")
    assert r.status == 200, r
    assert media_type(r.headers) == "application/x-ndjson"
    rows, marks = ndjson_rows(r.body)
    assert rows == want
    assert marks[-1]["@more"] is False and len(marks) == 1  # 10000 rows between checkpoints
    r = srv.get(f"/api/t/export?{query}{sep}format=json")
    assert r.status == 200 and media_type(r.headers) == "application/json"
    assert json.loads(r.body) == want
    r = srv.get(f"/api/t/export?{query}{sep}format=csv")
    assert r.status == 200
    assert r.headers["Content-Type"].startswith("text/csv") and "header=present" in \
        r.headers["Content-Type"]
    assert 'filename="t.csv"' in r.headers["Content-Disposition"]
    check_csv_equals(r.body, want)


def test_fields_and_snapshot_and_head(spawn, xdb, xcon):
    srv = spawn(xdb)
    want = [{"k": k, "id": i} for i, k in xcon.execute("SELECT id, k FROM t ORDER BY id")]
    r = srv.get("/api/t/export?fields=k,id&snapshot=true")
    assert r.status == 200
    assert ndjson_rows(r.body)[0] == want
    h = srv.head("/api/t/export?format=csv")
    assert h.status == 200 and h.body == b""
    assert h.headers["Content-Type"].startswith("text/csv")


def test_csv_round_trips_tricky_values_through_pythons_csv_module(spawn, xdb, xcon):
    srv = spawn(xdb)
    r = srv.get("/api/t/export?format=csv&fields=id,name")
    assert r.status == 200
    body = r.body
    header, data = csv_rows(body)
    got = {int(row[0]): row[1] for row in data}
    for i, name in xcon.execute("SELECT id, name FROM t"):
        assert got[i] == ("" if name is None else name), i
    # invalid UTF-8 bytes became U+FFFD, as in pages
    assert got[9001] == "f\ufffdo" and got[9002] == "\ufffd" and got[9003] == ',\ufffd",'
    # NULL is an empty field, an empty string is "" (RFC 4180 lines end with CRLF)
    lines = body.split(b"\r\n")
    null_id = next(i for i in range(1, ROWS) if TRICKY[i % len(TRICKY)] is None)
    empty_id = next(i for i in range(1, ROWS) if TRICKY[i % len(TRICKY)] == "")
    assert f"{null_id},".encode() in lines
    assert f'{empty_id},""'.encode() in lines
    quoted_id = next(i for i in range(1, ROWS) if TRICKY[i % len(TRICKY)] == 'a "quoted" word')
    assert f'{quoted_id},"a ""quoted"" word"'.encode() in lines


def test_every_page_cursor_and_checkpoint_cursor_is_accepted(spawn, xdb, xcon, tmp_path):
    srv = spawn(xdb, extra_args=config(tmp_path, "[export]\ncheckpoint_every = 500\n"))
    rows, marks = ndjson_rows(srv.get("/api/t/export?sort=-k").body)
    assert [m for m in marks[:-1] if set(m) != {"@next"}] == []
    assert len(marks) == len(rows) // 500 + 1
    # a page's next cursor resumes an export of the same query, and the other way round
    page = srv.get_json("/api/t?sort=-k&per_page=7")
    nxt = page["links"]["next"].split("after=")[1]
    resumed, _ = ndjson_rows(srv.get(f"/api/t/export?sort=-k&after={nxt}").body)
    assert resumed == rows[7:]
    p2 = srv.get_json(f"/api/t?sort=-k&per_page=3&after={marks[0]['@next']}")
    assert [d["id"] for d in p2["data"]] == [d["id"] for d in rows[500:503]]
    # a cursor of another query is refused
    r = srv.get(f"/api/t/export?sort=k&after={marks[0]['@next']}")
    assert_problem(r, 400, "after")


def _open_export(srv, target, headers=()):
    sock = socket.create_connection(("127.0.0.1", srv.port), timeout=30)
    extra = "".join(f"{k}: {v}\r\n" for k, v in headers)
    sock.sendall(f"GET {target} HTTP/1.1\r\nHost: x\r\n{extra}\r\n".encode())
    return sock


def _dechunk_prefix(raw):
    """The body bytes of a (possibly cut) chunked response."""
    end = raw.index(b"\r\n\r\n")
    head, pos, parts = raw[:end], end + 4, []
    while True:
        eol = raw.find(b"\r\n", pos)
        if eol < 0:
            break
        size = int(raw[pos:eol].split(b";")[0], 16)
        if size == 0:
            break
        parts.append(raw[eol + 2:eol + 2 + size])
        pos = eol + 2 + size + 2
    return head, b"".join(parts)


def test_resume_after_a_cut_gives_every_row_exactly_once(spawn, xdb, tmp_path):
    srv = spawn(xdb, extra_args=config(tmp_path, "[export]\ncheckpoint_every = 1000\n"))
    full = srv.get("/api/big/export?fields=id").body
    full_rows, _ = ndjson_rows(full)
    sock = _open_export(srv, "/api/big/export?fields=id")
    raw = b""
    while raw.count(b'"@next"') < 3:
        chunk = sock.recv(65536)
        assert chunk
        raw += chunk
    sock.close()  # cut mid-stream
    _, body = _dechunk_prefix(raw)
    lines = body.split(b"\n")[:-1]  # the last line may be cut
    last_mark = max(i for i, line in enumerate(lines) if line.startswith(b'{"@next"'))
    before = [json.loads(line) for line in lines[:last_mark] if not line.startswith(b'{"@')]
    cursor = json.loads(lines[last_mark])["@next"]
    after, marks = ndjson_rows(srv.get(f"/api/big/export?fields=id&after={cursor}").body)
    assert marks[-1]["@more"] is False
    assert before + after == full_rows
    assert len({r["id"] for r in before + after}) == len(full_rows)


def test_a_client_that_disconnects_stops_the_walk(spawn, xdb, tmp_path):
    srv = spawn(xdb, extra_args=["--access-log", str(tmp_path / "access.log")])
    sock = _open_export(srv, "/api/big/export")
    got = 0
    while got < 200_000:
        chunk = sock.recv(65536)
        assert chunk
        got += len(chunk)
    sock.close()
    m = wait_for(lambda: (lambda m: m if m["folio_exports_running"] == 0 else None)(metrics(srv)),
                 what="the export to stop")
    assert m["folio_exports_aborted_total"] == 1
    assert m["folio_exports_completed_total"] == 0
    assert m["folio_export_rows_total"] < 40000  # stopped long before the end
    log = wait_for(lambda: (tmp_path / "access.log").read_text()
                   if "EXPORT" in (tmp_path / "access.log").read_text() else None)
    assert " aborted rows=" in log


def _vm_hwm_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise AssertionError("no VmHWM")


def test_a_slow_reader_keeps_the_servers_memory_bounded(spawn, xdb):
    srv = spawn(xdb)
    srv.get("/api/big?per_page=5")  # warm up the workers
    base = _vm_hwm_kb(srv.proc.pid)
    sock = _open_export(srv, "/api/big/export?format=csv")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    total = 0
    while True:
        chunk = sock.recv(32768)
        if not chunk:
            break
        total += len(chunk)
        time.sleep(0.002)
    sock.close()
    assert total > 50_000_000  # the export is far larger than the bound below
    grown_mb = (_vm_hwm_kb(srv.proc.pid) - base) / 1024
    assert grown_mb < 24, f"server memory grew {grown_mb:.1f} MB during a {total >> 20} MB export"


def test_a_stalled_reader_is_cut_off_after_request_timeout(spawn, xdb, tmp_path):
    srv = spawn(xdb, extra_args=config(tmp_path, "[server]\nrequest_timeout = 1\n"))
    sock = _open_export(srv, "/api/big/export")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.recv(1000)  # the export started; now read nothing more
    m = wait_for(lambda: (lambda m: m if m["folio_exports_running"] == 0 else None)(metrics(srv)),
                 timeout=20, what="the stalled export to be cut off")
    assert m["folio_exports_aborted_total"] == 1
    sock.close()


def test_per_client_export_limit_answers_429(spawn, xdb, tmp_path):
    srv = spawn(xdb, extra_args=config(tmp_path, "[export]\nper_client = 1\n"))
    sock = _open_export(srv, "/api/big/export")
    sock.recv(1000)
    r = srv.get("/api/t/export")
    body = assert_problem(r, 429)
    assert "too-many-exports" in body["type"] and r.headers["Retry-After"]
    sock.close()
    wait_for(lambda: metrics(srv)["folio_exports_running"] == 0)
    assert srv.get("/api/t/export").status == 200


def test_max_rows_ends_ndjson_with_more_and_cuts_csv(spawn, xdb, xcon, tmp_path):
    srv = spawn(xdb, extra_args=config(tmp_path, "[export]\nmax_rows = 250\n"))
    rows, marks = ndjson_rows(srv.get("/api/t/export?fields=id").body)
    assert [r["id"] for r in rows] == [i for (i,) in xcon.execute("SELECT id FROM t ORDER BY id")][:250]
    assert marks[-1]["@more"] is True
    rows2, marks2 = ndjson_rows(srv.get(f"/api/t/export?fields=id&after={marks[-1]['@next']}").body)
    assert rows2[0]["id"] == rows[-1]["id"] + 1 and len(rows2) == 250
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30)
    conn.request("GET", "/api/t/export?format=csv")
    resp = conn.getresponse()
    assert resp.status == 200
    with pytest.raises(http.client.IncompleteRead):
        resp.read()  # never a complete-looking file
    conn.close()


def test_configured_endpoints_export_only_when_they_say_so(spawn, xdb, tmp_path):
    cfg = config(tmp_path, '[api]\nauto = false\n'
                           '[[endpoint]]\npath = "/a"\ntable = "t"\n'
                           '[[endpoint]]\npath = "/b"\ntable = "t"\nexport = true\n')
    srv = spawn(xdb, extra_args=cfg)
    body = assert_problem(srv.get("/a/export"), 403)
    assert "export-not-allowed" in body["type"]
    assert srv.get("/b/export").status == 200
    assert_problem(srv.get("/b/export?format=xml"), 400, "format")
    assert_problem(srv.get("/b/export?per_page=3"), 400, "per_page")
    assert_problem(srv.get("/b/export?nosuch=1"), 400, "nosuch")


def test_rate_limits_apply_to_exports(spawn, xdb, tmp_path):
    srv = spawn(xdb, extra_args=config(tmp_path, "[rate_limit]\nrate = 0.01\nburst = 2\n"))
    # the spawner's start-up probe spent one token
    assert srv.get("/api/t/export").status == 200
    assert_problem(srv.get("/api/t/export"), 429)


def _run_cli(args, **kw):
    return subprocess.run([folio_bin(), "export"] + args, env=sanitizer_env(),
                          capture_output=True, timeout=120, **kw)


def test_cli_export_writes_what_http_serves_and_resumes_its_cursors(spawn, xdb, tmp_path):
    secret = tmp_path / "secret"
    secret.write_bytes(os.urandom(32))
    os.chmod(secret, 0o600)
    srv = spawn(xdb, secret_file=str(secret), any_sort=True)
    for fmt in ("csv", "ndjson", "json"):
        p = _run_cli([xdb, "t", "--format", fmt, "--sort", "-n", "--filter", "n=lte.20",
                      "--secret-file", str(secret), "-o", str(tmp_path / f"out.{fmt}")])
        check_sanitizer_output(p.stderr.decode(), "folio export")
        assert p.returncode == 0, p.stderr
        http_body = srv.get(f"/api/t/export?format={fmt}&sort=-n&n=lte.20").body
        cli_body = (tmp_path / f"out.{fmt}").read_bytes()
        if fmt == "ndjson":  # the last line's cursor differs (its expiry is minted anew)
            http_body, cli_body = http_body.rsplit(b"\n", 2)[0], cli_body.rsplit(b"\n", 2)[0]
        assert cli_body == http_body
    # an HTTP checkpoint resumes on the command line
    rows, marks = ndjson_rows(srv.get("/api/t/export?fields=id&sort=-n").body)
    page = srv.get_json("/api/t?sort=-n&per_page=10")
    nxt = page["links"]["next"].split("after=")[1]
    p = _run_cli([xdb, "t", "--sort", "-n", "--fields", "id", "--after", nxt,
                  "--secret-file", str(secret)])
    assert p.returncode == 0, p.stderr
    assert ndjson_rows(p.stdout)[0] == rows[10:]
    p = _run_cli([xdb, "t", "--format", "xml", "--secret-file", str(secret)])
    assert p.returncode == 2 and b"format" in p.stderr


def test_cli_ctrl_c_prints_the_resume_cursor(xdb, tmp_path):
    secret = tmp_path / "secret"
    secret.write_bytes(os.urandom(32))
    os.chmod(secret, 0o600)
    full = _run_cli([xdb, "big", "--secret-file", str(secret)])
    assert full.returncode == 0
    full_rows, _ = ndjson_rows(full.stdout)
    proc = subprocess.Popen([folio_bin(), "export", xdb, "big",
                             "--secret-file", str(secret)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=sanitizer_env())
    first = proc.stdout.read(4096)  # it runs; the pipe is full, so it waits mid-export
    proc.send_signal(signal.SIGINT)
    rest = proc.stdout.read()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=30) == 130, err
    check_sanitizer_output(err, "folio export")
    assert "--after " in err and "not a tty" not in err
    cursor = err.split("--after ")[1].split()[0]
    got = (first + rest).split(b"\n")
    before = [json.loads(line) for line in got if line and not line.startswith(b'{"@')]
    resumed = _run_cli([xdb, "big", "--after", cursor,
                        "--secret-file", str(secret)])
    assert resumed.returncode == 0
    after, _ = ndjson_rows(resumed.stdout)
    assert 0 < len(before) < len(full_rows)
    assert before + after == full_rows
    assert "\r" not in err  # no progress bar when stderr is not a terminal


@pytest.mark.parametrize("snapshot", [True, False])
def test_snapshot_true_exports_one_point_in_time(spawn, tmp_path, snapshot):
    db = make_db(tmp_path / "snap.db",
                 "CREATE TABLE s(id INTEGER PRIMARY KEY, payload TEXT NOT NULL);"
                 "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 20000)"
                 " INSERT INTO s SELECT i, hex(randomblob(500)) FROM c;")
    srv = spawn(db)
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.settimeout(30)
    sock.connect(("127.0.0.1", srv.port))
    # 20 MB of rows: far more than the server holds ahead of a reader this slow
    sock.sendall(f"GET /api/s/export?snapshot={str(snapshot).lower()} HTTP/1.1\r\n"
                 f"Host: x\r\nConnection: close\r\n\r\n".encode())
    raw = bytearray(sock.recv(8192))
    assert raw.startswith(b"HTTP/1.1 200")
    # The point in time is the walk's first read: wait for a row (the headers may come
    # before it), so that the write below lands after it.
    while b'"id"' not in raw:
        chunk = sock.recv(8192)
        assert chunk, raw
        raw += chunk
    con = connect_db(db)
    con.execute("INSERT INTO s VALUES (20001, 'new')")
    con.execute("DELETE FROM s WHERE id = 19999")
    con.commit()
    con.close()
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            break
        raw += chunk
    sock.close()
    _, body = _dechunk_prefix(bytes(raw))
    ids = [r["id"] for r in ndjson_rows(body)[0]]
    if snapshot:
        assert ids == list(range(1, 20001)), (len(ids), ids[-4:])
    else:
        # each batch is its own read: rows ahead of the walk changed, and it shows
        assert ids == [i for i in range(1, 20001) if i != 19999] + [20001]


def test_cli_shows_progress_only_on_a_terminal(xdb, tmp_path):
    secret = tmp_path / "secret"
    secret.write_bytes(os.urandom(32))
    os.chmod(secret, 0o600)
    master, slave = os.openpty()
    try:
        proc = subprocess.run([folio_bin(), "export", xdb, "big", "--secret-file", str(secret),
                               "-o", str(tmp_path / "big.ndjson")], stderr=slave,
                              env=sanitizer_env(), timeout=120)
        os.close(slave)
        slave = None
        out = b""
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the terminal's other side is closed
                break
            if not chunk:
                break
            out += chunk
    finally:
        if slave is not None:
            os.close(slave)
        os.close(master)
    assert proc.returncode == 0, out
    text = out.decode("utf-8", "replace")
    assert "rows/s" in text and "40.0k/~40.0k rows" in text and "100%" in text
    assert "ETA" in text
