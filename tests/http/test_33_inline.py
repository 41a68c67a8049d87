"""Pages answered on the I/O thread that read the request ([server] inline_budget; server.c,
route_inline): a page within the budget is answered there (folio_inline_pages_total), one
past it is stopped, dropped and answered by a database worker instead
(folio_inline_handovers_total), with the same rows. A walk whose attempts are stopped over
and over (a budget of one microsecond) still returns every row exactly once and never an
error. PostgreSQL pages always go to the workers."""

import sqlite3
import subprocess
import urllib.parse

import pytest

from folio_ops import parse_metrics
from folio_server import make_target

ROWS = 3000


@pytest.fixture(scope="module")
def idb(backend, tmp_path_factory):
    values = ", ".join(f"({i}, 'row {i}', {i * 7919 % 1009}, {i % 5})" for i in range(1, ROWS + 1))
    return make_target(backend, tmp_path_factory.mktemp("inline") / "i.db",
                       "CREATE TABLE t(id INTEGER PRIMARY KEY, s TEXT, n INTEGER, g INTEGER);"
                       "CREATE INDEX t_n ON t(n);"
                       f"INSERT INTO t VALUES {values};")


def metrics(srv):
    return parse_metrics(srv.get("/metrics").body.decode())


def server(spawn, db, tmp_path, budget, name):
    cfg = tmp_path / f"{name}.toml"
    cfg.write_text(f"[server]\ninline_budget = {budget}\n\n[prefetch]\nenabled = false\n\n"
                   "[api]\nsortable = \"all\"\n\n[pagination]\nmax_offset = 0\n")
    return spawn(db, extra_args=["--config", str(cfg)])


def walk(srv, path):
    """Follow links.next from `path` to the end: the ids in order, every status 200."""
    ids = []
    while path is not None:
        r = srv.get(path)
        assert r.status == 200, (path, r)
        body = r.json()
        ids += [row["id"] for row in body["data"]]
        nxt = body["links"].get("next")
        if nxt:
            u = urllib.parse.urlsplit(nxt)
            path = u.path + ("?" + u.query if u.query else "")
        else:
            path = None
    return ids


def test_pages_are_answered_inline_on_sqlite_and_by_the_workers_on_postgresql(
        spawn, idb, backend, tmp_path):
    on = server(spawn, idb, tmp_path, 0.5, "on")
    off = server(spawn, idb, tmp_path, 0, "off")
    for path in ("/api/t?per_page=10", "/api/t?per_page=10&sort=-n&g=eq.3",
                 "/api/t?per_page=10&page=7", "/api/t?per_page=10&count=exact"):
        a, b = on.get(path), off.get(path)
        assert a.status == b.status == 200, (path, a, b)
        assert a.json()["data"] == b.json()["data"], path
    m_on, m_off = metrics(on), metrics(off)
    assert m_off["folio_inline_pages_total"] == 0
    assert m_off["folio_inline_handovers_total"] == 0
    if backend == "sqlite":
        assert m_on["folio_inline_pages_total"] == 4
    else:  # no statement of a database server can be stopped at once: never inline
        assert m_on["folio_inline_pages_total"] == 0
        assert m_on["folio_inline_handovers_total"] == 0


@pytest.mark.sqlite_only
def test_a_page_past_the_budget_is_answered_by_a_worker_with_the_same_rows(
        spawn, idb, tmp_path):
    # A sort no index serves, at a deep offset: the whole table is sorted, many times the
    # budget of 20 microseconds.
    srv = server(spawn, idb, tmp_path, 0.00002, "tight")
    before = metrics(srv)
    path = "/api/t?per_page=5&sort=s,id&offset=2500"
    r = srv.get(path)
    assert r.status == 200, r
    con = sqlite3.connect(idb)
    want = [row[0] for row in con.execute("SELECT id FROM t ORDER BY s, id LIMIT 5 OFFSET 2500")]
    con.close()
    assert [row["id"] for row in r.json()["data"]] == want
    after = metrics(srv)
    assert after["folio_inline_handovers_total"] == before["folio_inline_handovers_total"] + 1
    assert after["folio_inline_pages_total"] == before["folio_inline_pages_total"]


@pytest.mark.sqlite_only
@pytest.mark.parametrize("query,order", [
    ("", "id"),
    ("sort=-n", "n DESC, id DESC"),
    ("sort=n&g=in.(1,3)", "n, id"),
])
def test_a_walk_whose_attempts_are_stopped_over_and_over_returns_every_row_once(
        spawn, idb, tmp_path, query, order):
    # One microsecond: nearly every attempt that reaches a progress check is stopped (some
    # in BEGIN or COMMIT: SQLite checks there too, now and then), handed over, and the next
    # request on the same connection must find it clean.
    srv = server(spawn, idb, tmp_path, 0.000001, "stopped")
    con = sqlite3.connect(idb)
    where = " WHERE g IN (1, 3)" if "g=" in query else ""
    want = [row[0] for row in con.execute(f"SELECT id FROM t{where} ORDER BY {order}")]
    con.close()
    sep = "&" if query else ""
    got = walk(srv, f"/api/t?per_page=2{sep}{query}")
    assert got == want
    m = metrics(srv)
    assert m["folio_inline_handovers_total"] > 0
    assert m["folio_inline_pages_total"] + m["folio_inline_handovers_total"] >= len(want) // 2


def test_check_config_shows_the_budget_and_the_io_threads(tmp_path, folio):
    cfg = tmp_path / "c.toml"
    cfg.write_text("[server]\ninline_budget = 0.0025\nio_threads = 0\n")
    out = subprocess.run([folio, "check-config", str(cfg)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "inline_budget = 0.002500\n" in out.stdout
    assert "io_threads = 0 # one per CPU folio may run on: " in out.stdout
    bad = tmp_path / "bad.toml"
    bad.write_text("[server]\ninline_budget = 2\n")
    out = subprocess.run([folio, "check-config", str(bad)], capture_output=True, text=True)
    assert out.returncode != 0
    assert "inline_budget" in out.stderr
