"""gzip content coding, black-box: pages and exports are compressed when the client accepts
gzip (q=0 and identity honoured) and the body is worth it, with Vary: Accept-Encoding;
decompressed they equal the identity bodies; the page cache keeps the compressed copy, so a
cache hit sends the stored bytes without compressing again (folio_gzip_compressions_total)."""

import gzip
import json

import pytest

from folio_ops import parse_metrics
from folio_server import make_db

GZ = {"Accept-Encoding": "gzip"}


@pytest.fixture(scope="module")
def gdb(tmp_path_factory):
    values = ", ".join(f"({i}, 'row {i} with some text to compress', {i % 13})"
                       for i in range(1, 3001))
    return make_db(tmp_path_factory.mktemp("gzip") / "g.db",
                   "CREATE TABLE t(id INTEGER PRIMARY KEY, s TEXT, n INTEGER);"
                   f"INSERT INTO t VALUES {values};")


def metrics(srv):
    return parse_metrics(srv.get("/metrics").body.decode())


@pytest.mark.parametrize("accept,compressed", [
    ("gzip", True), ("GZIP", True), ("x-gzip", True), ("br, gzip;q=0.5", True), ("*", True),
    ("gzip;q=0", False), ("gzip;q=0.000", False), ("*;q=0", False), ("identity", False),
    ("gzip;q=0, *", False), ("deflate", False), ("", False), (None, False),
    ("identity;q=0, gzip", True),
])
def test_accept_encoding_decides_and_the_bytes_round_trip(spawn, gdb, accept, compressed):
    srv = spawn(gdb, extra_args=["--no-prefetch"])
    plain = srv.get("/api/t?per_page=100")
    assert plain.status == 200 and "Content-Encoding" not in plain.headers
    assert plain.headers["Vary"] == "Accept-Encoding"
    r = srv.get("/api/t?per_page=100", headers={"Accept-Encoding": accept} if accept is not None
                else {})
    assert r.status == 200
    assert "Accept-Encoding" in r.headers.get_all("Vary")
    if compressed:
        assert r.headers["Content-Encoding"] == "gzip"
        assert len(r.body) < len(plain.body) / 3
        # the same page (its links' cursors carry an expiry minted per request)
        assert json.loads(gzip.decompress(r.body))["data"] == json.loads(plain.body)["data"]
    else:
        assert "Content-Encoding" not in r.headers
        assert json.loads(r.body)["data"] == json.loads(plain.body)["data"]


def test_small_bodies_and_problems_are_not_compressed(spawn, gdb):
    srv = spawn(gdb)
    r = srv.get("/api/t?per_page=1", headers=GZ)
    assert r.status == 200 and "Content-Encoding" not in r.headers and "Vary" not in r.headers
    r = srv.get("/api/t?per_page=nope", headers=GZ)
    assert r.status == 400 and "Content-Encoding" not in r.headers


def test_head_gets_the_length_of_the_compressed_get(spawn, gdb):
    srv = spawn(gdb, extra_args=["--no-prefetch"])
    # an offset page: its links carry no cursor, so both answers are the same bytes
    g = srv.get("/api/t?per_page=50&offset=100", headers=GZ)
    h = srv.head("/api/t?per_page=50&offset=100", headers=GZ)
    assert h.headers["Content-Encoding"] == "gzip"
    assert int(h.headers["Content-Length"]) == len(g.body)


def test_an_export_streams_gzip_that_decompresses_to_the_identity_export(spawn, gdb):
    srv = spawn(gdb)
    for fmt in ("ndjson", "csv", "json"):
        plain = srv.get(f"/api/t/export?format={fmt}&fields=id,s")
        z = srv.get(f"/api/t/export?format={fmt}&fields=id,s", headers=GZ)
        assert z.headers["Content-Encoding"] == "gzip"
        assert plain.headers["Vary"] == z.headers["Vary"] == "Accept-Encoding"
        unz = gzip.decompress(z.body)
        if fmt == "ndjson":  # the last line's cursor is minted per response
            unz, plain_body = unz.rsplit(b"\n", 2)[0], plain.body.rsplit(b"\n", 2)[0]
        else:
            plain_body = plain.body
        assert unz == plain_body
        assert len(z.body) < len(plain.body) / 3
    off = srv.get("/api/t/export", headers={"Accept-Encoding": "gzip;q=0"})
    assert "Content-Encoding" not in off.headers


def test_a_cache_hit_serves_the_stored_compressed_bytes(spawn, gdb):
    srv = spawn(gdb)  # prefetch and the page cache on (the default)
    # one page only (no next page to prefetch in the background meanwhile)
    first = srv.get("/api/t?per_page=100&n=eq.3&id=lte.1000", headers=GZ)
    assert first.headers["Content-Encoding"] == "gzip"
    assert first.headers.get("Link", "").count('rel="next"') == 0
    # a page asked for once is not kept; asked again, it is (prefetch.h)
    again = srv.get("/api/t?per_page=100&n=eq.3&id=lte.1000", headers=GZ)
    assert again.body == first.body
    before = metrics(srv)
    hits = [srv.get("/api/t?per_page=100&n=eq.3&id=lte.1000", headers=GZ) for _ in range(5)]
    after = metrics(srv)
    # every one a cache hit (a miss would be counted)
    assert after["folio_prefetch_misses_total"] == before["folio_prefetch_misses_total"] == 2
    assert all(h.body == first.body for h in hits)
    # served from the cache: nothing was compressed again
    assert after["folio_gzip_compressions_total"] == before["folio_gzip_compressions_total"]
    assert after["folio_gzip_responses_total"] == before["folio_gzip_responses_total"] + 5
    # the same entry serves identity to a client without gzip
    plain = srv.get("/api/t?per_page=100&n=eq.3&id=lte.1000")
    assert "Content-Encoding" not in plain.headers
    assert json.loads(gzip.decompress(first.body))["data"] == json.loads(plain.body)["data"]


def test_pages_nobody_asks_compressed_are_never_compressed(spawn, gdb):
    srv = spawn(gdb)  # prefetch and the page cache on (the default)
    url = "/api/t?per_page=100&n=eq.4&id=lte.1000"
    before = metrics(srv)
    plain = [srv.get(url) for _ in range(3)]  # a miss, a miss that is kept, a hit
    assert all(r.status == 200 and "Content-Encoding" not in r.headers for r in plain)
    mid = metrics(srv)
    assert mid["folio_gzip_compressions_total"] == before["folio_gzip_compressions_total"]
    # the first client taking gzip has it compressed once; the copy stays with the page
    zipped = [srv.get(url, headers=GZ) for _ in range(4)]
    after = metrics(srv)
    assert all(r.headers.get("Content-Encoding") == "gzip" for r in zipped)
    assert all(r.body == zipped[0].body for r in zipped)
    assert gzip.decompress(zipped[0].body) == plain[2].body  # the stored page, compressed
    assert after["folio_gzip_compressions_total"] == mid["folio_gzip_compressions_total"] + 1
    assert after["folio_prefetch_misses_total"] == mid["folio_prefetch_misses_total"]


def test_compression_can_be_turned_off(spawn, gdb, tmp_path):
    cfg = tmp_path / "folio.toml"
    cfg.write_text("[compression]\ngzip = false\n")
    srv = spawn(gdb, extra_args=["--config", str(cfg)])
    r = srv.get("/api/t?per_page=100", headers=GZ)
    assert "Content-Encoding" not in r.headers and "Vary" not in r.headers
    r = srv.get("/api/t/export", headers=GZ)
    assert "Content-Encoding" not in r.headers
