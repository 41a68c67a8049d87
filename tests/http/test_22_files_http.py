"""GET /files/{dir} (the tutorial's file pager over HTTP), black-box against `folio serve
--config` with a [files] root built here on the real filesystem.

The reference is Python itself: os.scandir for what is a regular file (following links only
when they stay inside the root), sorted() on the raw bytes of the names for the order, and
the page arithmetic of the spec (pages = max(1, ceil(total / per_page)), page clamped into
1..pages). Traversal attempts are sent as raw request targets (FolioServer.raw) so that no
client library normalises them on the way."""

import http.client
import math
import os
import time
import types
import urllib.parse

import pytest

from folio_api import assert_problem, link_header
from folio_server import Response, make_secret, media_type, strict_json

# File listings and batches: the database beside them is incidental (the demo), so these
# run once, on the SQLite demo.
pytestmark = pytest.mark.sqlite_only

JSON = "application/json"
PROBLEM = "application/problem+json"
BIG = 5000

# names chosen so that bytewise order differs from locale and case-insensitive order
ODD_NAMES = ["B.txt", "a.txt", "_under", "~tilde", "Zeta", "zeta", ".hidden", "10.txt", "9.txt",
             "with space.txt", "per%cent", "hash#mark", "q?mark", "amp&ersand", "plus+sign",
             "caf\u00e9.txt", "\u00e9t\u00e9", "\u65e5\u672c", "emoji-\U0001F600", "-dash",
             "A", "a", "aa", "a.b", "a-b", "a_b"]
NON_UTF8 = [b"caf\xe9.txt", b"\xff\xfe.bin", b"x\x80y", b"\xed\xa0\x80surrogate",
            b"ok.txt", b"\xc3\xa9t\xc3\xa9.txt", b"\xc3", b"z\xf0\x9f\x98"]


def touch(path, data=b""):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def fsnames(directory):
    """The regular files (not symbolic links) of `directory`, as bytes, sorted bytewise:
    the listing of a directory that holds no links."""
    return sorted(os.fsencode(n) for n in os.listdir(directory)
                  if os.path.isfile(os.path.join(directory, n))
                  and not os.path.islink(os.path.join(directory, n)))


def names_of(body):
    return [os.fsencode(n) for n in body["files"]]


def expected(names, page, per_page):
    """The spec's page: pages = max(1, ceil(total/per_page)), page clamped into 1..pages."""
    total = len(names)
    pages = max(1, math.ceil(total / per_page))
    page = min(max(page, 1), pages)
    return {"page": page, "per_page": per_page, "total": total, "pages": pages,
            "files": [os.fsdecode(n) for n in names[(page - 1) * per_page:page * per_page]]}


def after_token(url):
    return urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)["after"][0]


def link_header_of(headers):
    """{rel: url} from the Link header(s) of a response's headers."""
    return link_header(types.SimpleNamespace(headers=headers))


class Client:
    """One keep-alive connection; get() -> (status, headers, parsed JSON body)."""

    def __init__(self, server):
        self.server = server
        self.conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)

    def get(self, path):
        self.conn.request("GET", path)
        r = self.conn.getresponse()
        raw = r.read()
        # every link these pages emit is requested again when the server stops
        self.server.record_links(path, Response(r.status, r.msg, raw))
        return r.status, r.msg, strict_json(raw)

    def page(self, path):
        status, headers, body = self.get(path)
        assert status == 200, f"GET {path}: {status} {body}"
        assert media_type(headers) == JSON
        assert set(body) == {"page", "per_page", "total", "pages", "files", "next"}, body
        return headers, body

    def close(self):
        self.conn.close()


# --- the tree and the server ----------------------------------------------------------------

@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    base = tmp_path_factory.mktemp("files")
    root, outside = base / "root", base / "outside"
    root.mkdir()
    outside.mkdir()
    touch(outside / "secret.txt", b"outside the root")
    (outside / "inner").mkdir()
    touch(outside / "inner" / "secret2.txt")

    touch(root / "top.txt")
    touch(root / "second.txt")
    (root / "pages").mkdir()
    for i in range(1, 121):
        touch(root / "pages" / f"report-{i:03d}.txt")
    (root / "odd").mkdir()
    for n in ODD_NAMES:
        touch(os.path.join(os.fsencode(root / "odd"), os.fsencode(n)))
    (root / "empty").mkdir()
    (root / "big").mkdir()
    for i in range(BIG):
        touch(root / "big" / f"f{(i * 7919) % 100003:06d}-{i}")

    mixed = root / "mixed"
    mixed.mkdir()
    for n in ("one.txt", "two.txt", "z-last"):
        touch(mixed / n, n.encode())
    (mixed / "sub1").mkdir()
    touch(mixed / "sub1" / "deep.txt")
    (mixed / "sub2").mkdir()
    (mixed / "sub2" / "deeper").mkdir()
    os.mkfifo(mixed / "fifo")
    os.symlink("one.txt", mixed / "link-same-dir")             # inside, regular: listed
    os.symlink("../top.txt", mixed / "link-up-inside")         # inside, regular: listed
    os.symlink("link-same-dir", mixed / "link-chain")          # link to link to file: listed
    os.symlink("sub1", mixed / "link-to-dir")                   # directory: not listed
    os.symlink("missing", mixed / "link-dangling")             # dangling: not listed
    os.symlink("/etc/passwd", mixed / "link-abs-out")           # outside: not listed
    os.symlink("../../outside/secret.txt", mixed / "link-rel-out")  # outside: not listed
    os.symlink(str(outside / "secret.txt"), mixed / "link-abs-out2")
    os.symlink("fifo", mixed / "link-to-fifo")                  # not regular: not listed

    os.symlink("../outside", root / "escape")      # directory link leaving the root
    os.symlink("..", root / "parent")
    os.symlink("/etc", root / "etclink")
    os.symlink("mixed", root / "alias")            # directory link staying inside

    raw_root = os.fsencode(root)
    bad_dir = os.path.join(raw_root, b"bad\xff\xfe")
    os.mkdir(bad_dir)
    for n in NON_UTF8:
        touch(os.path.join(bad_dir, n))
    os.mkdir(os.path.join(bad_dir, b"inner\x80"))
    touch(os.path.join(bad_dir, b"inner\x80", b"deep\xfe"))
    (root / "live").mkdir()  # tests that change files make their own directory in here
    return {"root": root, "outside": outside, "bad_dir": bad_dir}


CONFIG = '[database]\npath = "{db}"\n\n[files]\nroot = "{root}"\n'


def start(spawner, demo_db, directory, root, key):
    cfg = directory / f"folio-{os.path.basename(key)}.toml"
    cfg.write_text(CONFIG.format(db=demo_db, root=root))
    return spawner(demo_db, secret_file=key, extra_args=["--config", str(cfg)])


@pytest.fixture(scope="module")
def server(module_spawn, demo_db, tree, tmp_path_factory):
    d = tmp_path_factory.mktemp("files-cfg")
    return start(module_spawn, demo_db, d, tree["root"], make_secret(d / "one.key"))


@pytest.fixture(scope="module")
def client(server):
    c = Client(server)
    yield c
    c.close()


@pytest.fixture
def live(tree, request):
    """A fresh directory under the root for a test that adds and removes files."""
    d = tree["root"] / "live" / request.node.name[:60].replace("[", "_").replace("]", "_")
    d.mkdir()
    return d


# --- pages and clamping ---------------------------------------------------------------------

def test_root_is_served_at_files_with_its_regular_files_only(client, tree):
    want = fsnames(tree["root"])
    assert want == [b"second.txt", b"top.txt"]
    for url in ("/files", "/files/", "/files/.", "/files/./"):
        _, body = client.page(url)
        assert {k: body[k] for k in body if k != "next"} == expected(want, 1, 50), url
        assert body["next"] is None


def test_default_page_is_the_first_50_names_sorted(client, tree):
    want = fsnames(tree["root"] / "pages")
    _, body = client.page("/files/pages")
    assert {k: v for k, v in body.items() if k != "next"} == expected(want, 1, 50)
    assert body["files"][0] == "report-001.txt" and body["files"][-1] == "report-050.txt"
    assert isinstance(body["next"], str)


@pytest.mark.parametrize("page, per_page, served", [
    (1, 50, 1), (2, 50, 2), (3, 50, 3), (4, 50, 3), (0, 50, 1), (-3, 50, 1),
    (-9223372036854775808, 50, 1), (9223372036854775807, 50, 3), (1000, 7, 18), (18, 7, 18),
    (17, 7, 17), (1, 120, 1), (2, 120, 1), (1, 121, 1), (2, 119, 2), (5, 1, 5),
    (120, 1, 120), (121, 1, 120), (1, 1000, 1),
])
def test_pages_are_exact_and_page_numbers_clamp_into_range(client, tree, page, per_page,
                                                           served):
    want = fsnames(tree["root"] / "pages")
    _, body = client.page(f"/files/pages?page={page}&per_page={per_page}")
    exp = expected(want, page, per_page)
    assert exp["page"] == served
    assert {k: v for k, v in body.items() if k != "next"} == exp
    assert (body["next"] is None) == (served == exp["pages"])


def test_page_numbers_beyond_64_bits_still_clamp(client, tree):
    want = fsnames(tree["root"] / "pages")
    for page, served in (("99999999999999999999999", 3), ("-99999999999999999999999", 1)):
        _, body = client.page(f"/files/pages?page={page}")
        assert body["page"] == served and names_of(body) == want[(served - 1) * 50:served * 50]


def test_an_empty_directory_has_one_empty_page(client):
    for url in ("/files/empty", "/files/empty?page=0", "/files/empty?page=9&per_page=3"):
        _, body = client.page(url)
        per_page = 3 if "per_page" in url else 50
        assert body == {"page": 1, "per_page": per_page, "total": 0, "pages": 1, "files": [],
                        "next": None}


@pytest.mark.parametrize("query", ["page=x", "page=1.5", "page=", "page=2x", "per_page=x",
                                   "per_page="])
def test_garbage_numbers_are_400_problems(server, query):
    r = server.get(f"/files/pages?{query}")
    body = assert_problem(r, 400, param=query.split("=")[0])
    assert body["type"].endswith("/invalid-parameter"), body


@pytest.mark.parametrize("per_page", [1, 7, 50, 120, 1000])
def test_numbered_pages_cover_every_name_once_in_bytewise_order(client, tree, per_page):
    want = fsnames(tree["root"] / "pages")
    seen, pages = [], None
    page = 1
    while pages is None or page <= pages:
        _, body = client.page(f"/files/pages?page={page}&per_page={per_page}")
        pages = body["pages"]
        assert body["page"] == page
        seen += names_of(body)
        page += 1
    assert seen == want


def test_names_sort_bytewise_not_by_locale_or_case(client, tree):
    _, body = client.page("/files/odd?per_page=1000")
    raw = sorted(os.fsencode(n) for n in ODD_NAMES)
    assert names_of(body) == raw
    assert body["files"] == [n.decode("utf-8") for n in raw]  # valid UTF-8 stays readable


# --- the Link header --------------------------------------------------------------------------

def test_link_header_has_first_next_prev_last_that_lead_to_those_pages(client, tree):
    want = fsnames(tree["root"] / "pages")
    headers, body = client.page("/files/pages?page=2&per_page=25")
    links = link_header_of(headers)
    assert set(links) == {"first", "next", "prev", "last"}, links
    assert links["next"] == body["next"]
    for rel, page in (("first", 1), ("prev", 1), ("last", 5)):
        _, b = client.page(links[rel])
        assert b["page"] == page and names_of(b) == want[(page - 1) * 25:page * 25], rel
    _, b = client.page(links["next"])
    assert names_of(b) == want[50:75]


def test_first_page_has_no_prev_and_last_page_has_no_next(client):
    first, _ = client.page("/files/pages?per_page=60")
    assert set(link_header_of(first)) == {"first", "next", "last"}
    last, body = client.page("/files/pages?per_page=60&page=2")
    assert set(link_header_of(last)) == {"first", "prev", "last"}
    assert body["next"] is None
    only, _ = client.page("/files/empty")
    assert set(link_header_of(only)) == {"first", "last"}


# --- symbolic links, directories and other entries -------------------------------------------

def test_directories_fifos_dangling_and_escaping_links_are_not_listed(client):
    _, body = client.page("/files/mixed")
    names = set(body["files"])
    for never in ("sub1", "sub2", "fifo", "link-to-dir", "link-dangling", "link-abs-out",
                  "link-rel-out", "link-abs-out2", "link-to-fifo"):
        assert never not in names, f"{never} must not be listed: {body['files']}"
    assert {"one.txt", "two.txt", "z-last"} <= names


def test_links_to_regular_files_inside_the_root_are_listed(client):
    _, body = client.page("/files/mixed")
    assert body["files"] == sorted(["one.txt", "two.txt", "z-last", "link-same-dir",
                                    "link-up-inside", "link-chain"]), body["files"]
    assert body["total"] == 6


def test_subdirectories_are_reachable_by_their_path(client):
    _, body = client.page("/files/mixed/sub1")
    assert body["files"] == ["deep.txt"]
    _, body = client.page("/files/mixed/sub2")
    assert body["files"] == [] and body["total"] == 0
    _, body = client.page("/files/mixed/sub2/deeper")
    assert body["total"] == 0


def test_a_directory_link_that_stays_inside_lists_its_target(client):
    _, via_link = client.page("/files/alias")
    _, direct = client.page("/files/mixed")
    assert via_link["files"] == direct["files"]


# --- never leaving the root -------------------------------------------------------------------

# {out}: the absolute path of a real directory beside the root; {enc}: it percent-encoded
TRAVERSALS = [
    "/files/..", "/files/../", "/files/../outside", "/files/mixed/../..",
    "/files/mixed/../../outside", "/files/mixed/sub1/../../../outside", "/files/./../outside",
    "/files/..//outside", "//files/../outside",
    "/files//etc", "/files///etc/", "/files/{out}", "/files/{out}/inner", "/files//{out}",
    "/files/%2e%2e", "/files/%2E%2E/outside", "/files/.%2e", "/files/%2e.",
    "/files/%2e%2e%2foutside", "/files/mixed%2f..%2f..%2foutside", "/files/%2f%2e%2e%2foutside",
    "/files/%2fetc", "/files/{enc}", "/files/%2F{enc}", "/files/%252e%252e", "/files/..%5c..",
    "/files/%2e%2e%5c",
    "/files/escape", "/files/escape/", "/files/escape/inner", "/files/parent",
    "/files/parent/outside", "/files/parent/root", "/files/etclink", "/files/etclink/ssl",
    "/files/mixed/link-to-dir/../..",
    "/files/mixed%00", "/files/mixed%00/../..", "/files/%00", "/files/%00%2e%2e",
    "/files/mixed/..%00", "/files/..%00/outside",
    "/files/top.txt", "/files/mixed/link-abs-out",
]


def traversal_answer(target):
    """The one answer a traversal attempt gets, and why:
    - a NUL byte anywhere in the path, or a path outside /files: the path names nothing
      (404 "no such resource", the server-wide rule, as for /api/users%00);
    - a ".." component once percent-decoded (libmicrohttpd decodes the path once, so %2e%2e
      is "..", %252e%252e is not): malformed whatever the filesystem holds (400
      invalid-path);
    - anything else is a well-formed relative path (leading slashes do not make it
      absolute: /files//etc is etc below the root) that names no directory we may list:
      missing, a file, or a link leading outside the root (404 "no such directory")."""
    if "%00" in target or not target.startswith("/files"):
        return 404, "not-found", "no such resource"
    if ".." in urllib.parse.unquote(target).split("/"):
        return 400, "invalid-path", "the path must be a relative directory below the root"
    return 404, "not-found", "no such directory"


@pytest.mark.parametrize("template", TRAVERSALS)
def test_paths_that_leave_the_root_are_400_when_malformed_else_404(server, tree, template):
    outside = str(tree["outside"])
    target = template.format(out=outside,
                             enc=urllib.parse.quote(outside, safe="").removeprefix("%2F"))
    r = server.raw(target)
    status, slug, detail = traversal_answer(target)
    body = assert_problem(r, status, param=None, detail=detail, what=target)
    assert body["type"].endswith("/" + slug) and "param" not in body, f"{target}: {body}"
    for leaked in (b"secret", b"passwd", b"hosts", b"report-", b"top.txt"):
        assert leaked not in r.body, f"{target} leaked {leaked}: {r.body[:300]!r}"


def test_a_raw_nul_byte_in_the_target_is_refused(server):
    # A raw NUL is no request target at all (RFC 9112): 400, like every malformed request
    # line (docs/http.md), whatever the path would have named.
    r = server.raw(b"/files/mixed\x00/../..")
    body = assert_problem(r, 400, param=None)
    assert body["type"].endswith("/invalid-request") and b"one.txt" not in r.body


# --- names that are not UTF-8 -----------------------------------------------------------------

def test_non_utf8_names_are_listed_as_surrogate_escapes_and_round_trip(server, client, tree):
    for path in ("/files/bad%FF%FE", "/files/bad%ff%fe"):
        r = server.raw(path)
        assert r.status == 200, r
        body = strict_json(r.body)
        assert names_of(body) == sorted(NON_UTF8), body["files"]
        assert b"\\udcff\\udcfe.bin" in r.body and b"caf\\udce9.txt" in r.body
        assert b"\\udced\\udca0\\udc80surrogate" in r.body  # encoded surrogates are not UTF-8
        assert "\u00e9t\u00e9.txt" in body["files"]  # valid UTF-8 is not escaped
    # the names are exactly what the filesystem holds
    assert sorted(os.listdir(tree["bad_dir"])) == sorted(NON_UTF8 + [b"inner\x80"])


def test_a_directory_with_a_non_utf8_name_is_reachable_and_its_links_work(client, tree):
    headers, body = client.page("/files/bad%FF%FE/inner%80")
    assert names_of(body) == [b"deep\xfe"]
    headers, body = client.page("/files/bad%FF%FE?per_page=3")
    links = link_header_of(headers)
    for rel in ("first", "next", "last"):
        assert links[rel].startswith("/files/bad%FF%FE?"), links
    seen, url = names_of(body), body["next"]
    while url is not None:
        _, b = client.page(url)
        seen += names_of(b)
        url = b["next"]
    assert seen == sorted(NON_UTF8)
    _, last = client.page(links["last"])
    assert names_of(last) == sorted(NON_UTF8)[6:]


# --- after= cursors -----------------------------------------------------------------------------

def walk_after(client, url):
    seen, pages = [], 0
    while url is not None:
        headers, body = client.page(url)
        seen += names_of(body)
        pages += 1
        assert link_header_of(headers).get("next") == body["next"]
        url = body["next"]
        assert pages <= BIG + 2, "the walk does not end"
    return seen, pages


@pytest.mark.parametrize("per_page", [1000, 50, 7])
def test_after_walk_over_5000_files_lists_each_once_in_order(client, tree, per_page):
    want = fsnames(tree["root"] / "big")
    assert len(want) == BIG
    seen, pages = walk_after(client, f"/files/big?per_page={per_page}")
    assert seen == want
    assert pages == math.ceil(BIG / per_page)


def test_after_walk_follows_the_link_header_too(client, tree):
    want = fsnames(tree["root"] / "big")
    seen, url = [], "/files/big?per_page=333"
    while url is not None:
        headers, body = client.page(url)
        seen += names_of(body)
        url = link_header_of(headers).get("next")
    assert seen == want


@pytest.mark.parametrize("spelling", ["/files/pages/", "/files/./pages", "/files/pages//",
                                      "/files//pages", "/files/pages/."])
def test_next_links_work_from_any_spelling_of_the_directory(client, tree, spelling):
    want = fsnames(tree["root"] / "pages")
    _, body = client.page(f"{spelling}?per_page=40")
    assert names_of(body) == want[:40]
    status, _, second = client.get(body["next"])
    assert status == 200, f"the next link {body['next']} issued for {spelling}: {second}"
    assert names_of(second) == want[40:80]


def test_after_walk_sees_changes_made_during_the_walk_without_repeats(client, live):
    for i in range(0, 100, 2):
        touch(live / f"n{i:03d}")
    base = f"/files/live/{live.name}"
    _, body = client.page(f"{base}?per_page=10")
    seen = names_of(body)
    assert seen[-1] == b"n018"
    os.unlink(live / "n030")      # not yet seen: must not appear
    touch(live / "n031")          # after the position: must appear
    touch(live / "n001")          # before the position: must not appear
    os.unlink(live / "n004")      # already seen: no effect on the rest
    url = body["next"]
    while url is not None:
        _, b = client.page(url)
        seen += names_of(b)
        url = b["next"]
    want_rest = sorted([f"n{i:03d}".encode() for i in range(20, 100, 2) if i != 30] + [b"n031"])
    assert seen[10:] == want_rest
    assert len(seen) == len(set(seen))


def test_cursor_after_the_last_name_gives_an_empty_page(client, live):
    for n in ("a", "b", "c"):
        touch(live / n)
    base = f"/files/live/{live.name}"
    _, body = client.page(f"{base}?per_page=2")
    token = after_token(body["next"])
    os.unlink(live / "c")
    _, b = client.page(f"{base}?per_page=2&after={token}")
    assert b["files"] == [] and b["next"] is None and b["total"] == 2


@pytest.fixture(scope="module")
def stranger(module_spawn, demo_db, tree, tmp_path_factory):
    d = tmp_path_factory.mktemp("stranger")
    return start(module_spawn, demo_db, d, tree["root"], make_secret(d / "other.key"))


def flip(token, i):
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    return token[:i] + alphabet[(alphabet.index(token[i]) + 29) % 64] + token[i + 1:]


def test_tampered_truncated_and_foreign_after_cursors_are_400_problems(server, client,
                                                                       stranger):
    _, body = client.page("/files/pages?per_page=10")
    token = after_token(body["next"])
    assert client.page(f"/files/pages?per_page=10&after={token}")[1]["files"][0] == \
        "report-011.txt"
    bad = [flip(token, i) for i in range(len(token))]
    bad += [token[:-1], token[:-3], token[:8], token + "A", token[1:], "", "x", "%00",
            "A" * 300]
    _, other_dir = client.page("/files/big?per_page=10")
    foreign = after_token(other_dir["next"])  # signed by this server, for another directory
    other = Client(stranger)
    _, elsewhere = other.page("/files/pages?per_page=10")
    other.close()
    bad.append(after_token(elsewhere["next"]))  # the same listing, another server's key
    for tok in bad + [foreign]:
        r = server.get(f"/files/pages?per_page=10&after={tok}")
        body = assert_problem(r, 400, param="after", what=f"after={tok!r}")
        # one answer for every forgery (no oracle), its own for a real cursor of another
        # directory, and the server-wide one for a NUL byte
        want = ("foreign-cursor" if tok == foreign else
                "invalid-parameter" if tok == "%00" else "invalid-cursor")
        assert body["type"].endswith("/" + want), f"after={tok!r}: {body}"


# --- cache invalidation -----------------------------------------------------------------------

def age(directory, seconds=3600):
    old = time.time() - seconds
    os.utime(directory, (old, old))


def test_listing_changes_as_soon_as_a_file_is_added_removed_or_renamed(client, live):
    for n in ("a", "b", "c"):
        touch(live / n)
    age(live)  # older than folio's 2 s racy window: the listing is cached
    url = f"/files/live/{live.name}"
    assert client.page(url)[1]["files"] == ["a", "b", "c"]
    assert client.page(url)[1]["files"] == ["a", "b", "c"]
    touch(live / "d")
    assert client.page(url)[1]["files"] == ["a", "b", "c", "d"]
    age(live)
    assert client.page(url)[1]["files"] == ["a", "b", "c", "d"]
    os.unlink(live / "a")
    _, body = client.page(url)
    assert body["files"] == ["b", "c", "d"] and body["total"] == 3
    age(live)
    client.page(url)
    os.rename(live / "b", live / "e")
    assert client.page(url)[1]["files"] == ["c", "d", "e"]


def test_a_change_hidden_behind_a_restored_mtime_is_still_seen(client, live):
    for n in ("a", "b"):
        touch(live / n)
    age(live)
    url = f"/files/live/{live.name}"
    assert client.page(url)[1]["files"] == ["a", "b"]
    stamp = os.stat(live)
    touch(live / "c")
    os.utime(live, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))  # mtime back; ctime moved
    assert client.page(url)[1]["files"] == ["a", "b", "c"]


def test_a_file_turning_into_a_directory_leaves_the_listing(client, live):
    for n in ("a", "b"):
        touch(live / n)
    age(live)
    url = f"/files/live/{live.name}"
    assert client.page(url)[1]["files"] == ["a", "b"]
    os.unlink(live / "b")
    os.mkdir(live / "b")
    assert client.page(url)[1]["files"] == ["a"]
