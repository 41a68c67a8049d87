"""Every link folio emits is accepted by folio (issue 10 item 6), cursors from the page
cache keep at least half their ttl (item 7), and the Prefer header is parsed as RFC 7240
says (item 11).

The link rule is also checked for every response of the whole HTTP suite: the test client
(tests/support/folio_server.py) records every link and requests each one when the server
stops. Here it is checked explicitly, on the endpoint shapes that used to break it."""

import http.client
import json
import time

import pytest

from folio_api import assert_page, link_header, param

CONFIG = """
[api]
auto = true

[[endpoint]]
path = "/named"
table = "users"
columns = ["id", "name", "email"]
sortable = ["name"]

[[endpoint]]
path = "/by-email"
table = "users"
sortable = ["email", "name"]
filterable = ["name"]
default_sort = "-email"

[[endpoint]]
path = "/offsets"
table = "users"
modes = ["offset"]
sortable = ["name"]
"""


@pytest.fixture(scope="module")
def server(module_spawn, demo_db, tmp_path_factory):
    path = tmp_path_factory.mktemp("links") / "folio.toml"
    path.write_text(CONFIG + "\n[pagination]\nmax_offset = 200\n")
    return module_spawn(demo_db, extra_args=["--config", str(path)])


def all_links(resp, body):
    links = [u for u in body["links"].values() if u is not None]
    assert sorted(link_header(resp).values()) == sorted(links)
    return links


def test_links_of_an_endpoint_whose_key_is_not_sortable_are_accepted(server):
    # The case: sortable = ["name"], the key `id` not sortable. The links spelled
    # the appended tiebreaker (sort=name,id) and following them gave 400 unknown column.
    for url in ("/named?sort=name&per_page=7", "/named?sort=-name&per_page=7&offset=14",
                "/by-email?sort=name&per_page=5&name=gte.M", "/offsets?sort=-name&page=3"):
        r = server.get(url)
        body = assert_page(r, url)
        for link in all_links(r, body):
            assert param(link, "sort") in ("name", "-name"), link
            assert_page(server.get(link), f"{link} (from {url})")


def test_walking_by_links_across_max_offset_never_meets_a_refusal(server, demo_con):
    # next links beyond max_offset (200) become cursors; `last` beyond it is not linked
    want = [r[0] for r in demo_con.execute("SELECT id FROM users ORDER BY name, id LIMIT 400")]
    got, url = [], "/named?sort=name&per_page=40&page=2&count=exact"
    while len(got) < 360:
        r = server.get(url)
        body = assert_page(r, url)
        for link in all_links(r, body):
            if link != body["links"]["next"]:
                assert_page(server.get(link), f"{link} (from {url})")
        if "pages" in body["meta"]:  # offset pages with a total: `last` only within reach
            assert (body["links"]["last"] is None) == (body["meta"]["pages"] * 40 - 40 > 200)
        got += [row["id"] for row in body["data"]]
        url = body["links"]["next"]
    assert got == want[40:400]


def test_an_offset_only_endpoint_links_its_first_page_on_by_offset(server):
    # the first page (no position) used to link on with a cursor, which the endpoint
    # then refused: "this endpoint serves numbered pages only"
    r = server.get("/offsets?per_page=20")
    body = assert_page(r)
    assert param(body["links"]["next"], "offset") == "20", body["links"]
    assert_page(server.get(body["links"]["next"]))


def test_an_offset_only_endpoint_links_no_next_page_beyond_max_offset(server):
    body = assert_page(server.get("/offsets?offset=180&per_page=20"))
    assert param(body["links"]["next"], "offset") == "200"
    r = server.get("/offsets?offset=200&per_page=20")
    body = r.json()
    assert r.status == 200 and body["meta"]["has_more"] is True, body["meta"]
    assert body["links"]["next"] is None and "next" not in link_header(r), body["links"]


def test_every_recorded_link_of_this_module_is_accepted(server):
    # what the suite-wide hook does at teardown, here as a test of its own
    for url in ("/named?per_page=3", "/named?sort=-name&per_page=3&page=2", "/named?after=x",
                "/by-email?per_page=9&offset=191", "/offsets?page=2&per_page=50&sort=name",
                "/api/users?per_page=5&offset=250", "/api/users?sort=-name&per_page=4"):
        server.get(url)
    assert server.emitted, "no links were recorded"
    assert server.check_links() == []


# --- the page cache and the cursor ttl ------------------------------------------------------

def test_a_cached_page_hands_out_cursors_with_at_least_half_their_ttl(spawn, demo_db):
    # ttl 4 s, the page cache's own lifetime 30 s. Whenever a page is served, cached or
    # not, its cursors must live at least ttl/2 = 2 s more: following a link 1.9 s later
    # works. Before, a page cached at t=0 was served again at t=3.3 with cursors expiring
    # at t<=4 (t<=5 even with whole seconds rounded up), so its next link failed at
    # t=5.2 with 400 "cursor expired".
    srv = spawn(demo_db, extra_args=["--cursor-ttl", "4"])
    srv.expiring_cursors = True  # its links may expire before the teardown requests them
    url = "/api/users?per_page=5"
    first = assert_page(srv.get(url))
    time.sleep(3.3)
    again = assert_page(srv.get(url))  # the page cache must not answer this any more
    prefetched = assert_page(srv.get(first["links"]["next"]))  # fetched at t=0
    time.sleep(1.9)
    for body in (again, prefetched):
        nxt = body["links"]["next"]
        assert_page(srv.get(nxt), f"{nxt}, 1.9 s after it was handed out")


# --- Prefer: count=... (RFC 7240) ------------------------------------------------------------

def get_with_headers(server, path, headers):
    """GET with a list of (name, value) header lines, repeats allowed."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        conn.putrequest("GET", path)
        for name, value in headers:
            conn.putheader(name, value)
        conn.endheaders()
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


@pytest.mark.parametrize("lines, total", [
    ([("Prefer", "count=exact")], True),
    ([("Prefer", "count=exactlyjunk")], False),
    ([("Prefer", "count=exact2")], False),
    ([("Prefer", "count=ex")], False),
    ([("Prefer", 'count="exact"')], True),
    ([("Prefer", "COUNT=exact")], True),            # preference names ignore case
    ([("Prefer", "count=EXACT")], False),           # values do not
    ([("Prefer", "count = exact")], True),          # BWS around "="
    ([("Prefer", "respond-async, count=exact; x=1")], True),
    ([("Prefer", "foo; count=exact")], False),      # a parameter of foo, not a preference
    ([("Prefer", "xcount=exact")], False),
    ([("Prefer", "count=exact, count=none")], True),  # the first instance decides
    ([("Prefer", "count=none, count=exact")], False),
    ([("Prefer", 'a="x, count=exact", b')], False),   # inside a quoted string
    ([("Prefer", "return=minimal"), ("Prefer", "count=exact")], True),  # repeated lines
])
def test_prefer_count_is_parsed_as_rfc_7240_says(server, lines, total):
    # no count unless asked: the total appears exactly when Prefer asks for count=exact
    url = "/api/items?per_page=2&sort=-price"
    assert "total" not in assert_page(server.get(url))["meta"]
    status, raw = get_with_headers(server, url, lines)
    assert status == 200, raw
    meta = json.loads(raw)["meta"]
    assert ("total" in meta) == total, (lines, meta)
    if total:
        assert meta["total_kind"] == "exact", meta
