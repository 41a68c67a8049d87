"""The browser UI's HTTP side, black-box: embedded assets with strong ETags, 304 on
If-None-Match, gzip when accepted (Vary: Accept-Encoding), immutable versioned names;
`/` sends browsers to /ui/ and keeps JSON for API clients; problem types are relative
`/problems/{slug}` URIs that resolve to HTML or JSON pages, one for every slug the source
uses. The browser itself is driven by tests/e2e (playwright-core)."""

import gzip
import json
import os
import re

import pytest

from folio_server import FolioServer, make_demo, media_type, strict_json

SRC = os.path.join(os.path.dirname(__file__), "..", "..", "src")
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    db = make_demo(tmp_path_factory.mktemp("ui") / "demo.db", 300)
    with FolioServer(db) as srv:
        yield srv


def asset_urls(html):
    return re.findall(r'(?:href|src)="(/ui/[^"]+\.[0-9a-f]{16}\.[a-z]+)"', html)


def test_ui_page_and_versioned_assets_have_strong_etags_and_cache_rules(server):
    r = server.get("/ui/")
    assert r.status == 200 and media_type(r.headers) == "text/html", r
    etag = r.headers["ETag"]
    assert re.fullmatch(r'"[0-9a-f]{16}"', etag), etag  # strong: no W/
    assert r.headers["Cache-Control"] == "no-cache"
    assert "default-src 'self'" in r.headers["Content-Security-Policy"]
    urls = asset_urls(r.body.decode())
    assert {u.rsplit(".", 1)[1] for u in urls} >= {"css", "js", "svg"}, urls
    for url in urls:
        a = server.get(url)
        assert a.status == 200, (url, a)
        assert a.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        digest = url.rsplit(".", 2)[1]
        assert a.headers["ETag"] == f'"{digest}"', (url, a.headers["ETag"])
        assert "Accept-Encoding" in a.headers["Vary"]
    # An unknown or stale versioned name is a 404 problem, not some other file.
    r = server.get("/ui/app.0000000000000000.js")
    assert r.status == 404 and media_type(r.headers) == "application/problem+json"


def test_if_none_match_gets_304_without_a_body(server):
    r = server.get("/ui/")
    etag = r.headers["ETag"]
    again = server.get("/ui/", {"If-None-Match": etag})
    assert again.status == 304 and again.body == b"", again
    assert again.headers["ETag"] == etag
    # RFC 9110 section 8.6: a 304's Content-Length, if any, is the 200's.
    assert again.headers.get("Content-Length") in (None, str(len(r.body))), again.headers
    listed = server.get("/ui/", {"If-None-Match": f'"nope", W/{etag}'})
    assert listed.status == 304
    other = server.get("/ui/", {"If-None-Match": '"0000000000000000"'})
    assert other.status == 200 and other.body == r.body


def test_gzip_only_when_accepted_with_its_own_etag(server):
    plain = server.get("/ui/")
    assert "Content-Encoding" not in plain.headers
    z = server.get("/ui/", {"Accept-Encoding": "br, gzip;q=0.8"})
    assert z.headers["Content-Encoding"] == "gzip" and z.headers["Vary"] == "Accept-Encoding"
    assert gzip.decompress(z.body) == plain.body
    assert z.headers["ETag"] == plain.headers["ETag"][:-1] + '-gz"'
    assert server.get("/ui/", {"If-None-Match": z.headers["ETag"],
                               "Accept-Encoding": "gzip"}).status == 304
    refused = server.get("/ui/", {"Accept-Encoding": "gzip;q=0, identity"})
    assert "Content-Encoding" not in refused.headers and refused.body == plain.body
    head = server.head("/ui/", {"Accept-Encoding": "gzip"})
    assert head.status == 200 and head.body == b""
    assert int(head.headers["Content-Length"]) == len(z.body)


def test_root_redirects_browsers_to_the_ui_and_keeps_json_for_api_clients(server):
    r = server.get("/", {"Accept": BROWSER_ACCEPT})
    assert r.status == 303 and r.headers["Location"] == "/ui/", r
    assert "Accept" in r.headers["Vary"]
    for accept in (None, "application/json", "*/*", "application/json, text/html;q=0.5",
                   "text/html, application/json", "text/html;q=0"):
        r = server.get("/", {"Accept": accept} if accept else {})
        assert r.status == 200 and media_type(r.headers) == "application/json", (accept, r)
        doc = r.json()
        assert doc["links"]["openapi"] == "/openapi.json" and doc["tables"], doc
        assert {t["style"] for t in doc["tables"]} == {"folio"}


def test_problem_types_are_relative_uris_that_resolve(server):
    body = server.get("/api/users?per_page=abc").json()
    assert body["type"] == "/problems/invalid-parameter", body
    page = server.get(body["type"])
    assert page.status == 200 and media_type(page.headers) == "application/json"
    doc = page.json()
    assert doc["status"] == 400 and doc["title"] == "Invalid parameter" and doc["todo"]
    html = server.get(body["type"], {"Accept": BROWSER_ACCEPT})
    assert media_type(html.headers) == "text/html"
    text = html.body.decode()
    assert "<h1>400 Invalid parameter</h1>" in text and "What to do" in text
    missing = server.get("/problems/no-such-thing")
    assert missing.status == 404 and missing.json()["type"] == "/problems/not-found"


def test_every_problem_slug_in_the_source_has_a_page_and_an_openapi_entry(server):
    slugs = set()
    for root, _dirs, files in os.walk(SRC):
        for name in files:
            if not name.endswith(".c"):
                continue
            with open(os.path.join(root, name), encoding="utf-8") as f:
                text = f.read()
            slugs |= set(re.findall(r'folio__problem(?:_ext)?\(\s*[a-z&>.-]+,\s*[^,]+,\s*"([a-z-]+)"', text))
            slugs |= set(re.findall(r'slug = "([a-z-]+)"', text))
            slugs |= set(re.findall(r'"/problems/([a-z-]+)\\?"', text))
    assert len(slugs) >= 20, slugs
    listed = {t["type"] for t in server.get_json("/problems")}
    documented = {t["type"]: t["status"] for t in server.get_json("/openapi.json")["x-problem-types"]}
    for slug in sorted(slugs):
        assert f"/problems/{slug}" in listed, slug
        assert f"/problems/{slug}" in documented, slug
        r = server.get(f"/problems/{slug}")
        assert r.status == 200 and r.json()["status"] == documented[f"/problems/{slug}"], slug


def test_ui_paths_cannot_be_taken_by_a_configured_endpoint(server, tmp_path):
    cfg = tmp_path / "ui.toml"
    cfg.write_text('[[endpoint]]\npath = "/ui/users"\ntable = "users"\n')
    import subprocess
    from folio_server import folio_bin, sanitizer_env
    proc = subprocess.run([folio_bin(), "check-config", str(cfg), server.db],
                          env=sanitizer_env(), capture_output=True, timeout=60)
    assert proc.returncode == 2 and b"reserved" in proc.stderr, proc.stderr


def test_openapi_document_is_strict_json_for_every_endpoint_style(tmp_path):
    """No duplicate keys (JSON.parse would hide them), with the tutorial styles too."""
    db = make_demo(tmp_path / "demo.db", 50)
    cfg = tmp_path / "folio.toml"
    cfg.write_text('[api]\nauto = true\n'
                   '[[endpoint]]\npath = "/users"\ntable = "users"\nstyle = "tutorial-offset"\n'
                   '[[endpoint]]\npath = "/messages"\ntable = "messages"\nstyle = "tutorial-keyset"\n'
                   '[[endpoint]]\npath = "/items"\ntable = "items"\nstyle = "tutorial-signed"\n')
    with FolioServer(db, extra_args=["--config", str(cfg)]) as srv:
        r = srv.get("/openapi.json")
        assert r.status == 200
        doc = strict_json(r.body)
        for path in ("/users", "/messages", "/items", "/api/users"):
            assert "200" in doc["paths"][path]["get"]["responses"], path
        for slug in ("/problems", "/", "/problems/invalid-cursor"):
            strict_json(srv.get(slug).body)
