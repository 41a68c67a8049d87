"""Errors: bad parameters, cursor forgery and misuse, wrong methods and tables, hostile
requests. Every error is an application/problem+json body with type, title, status, detail
and (when a parameter is at fault) param; nothing a client sends yields a 5xx or a crash."""

import signal
import string
import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
import pytest

from folio_api import (B64URL, CURSOR_RE, api, assert_page, assert_problem, assert_rows,
                       expected_rows, param)
from folio_server import make_secret, media_type

INVALID = "invalid cursor"


def first_cursors(server, table="users", sort=None, per_page=5):
    """(after token of page 1, before token of page 2) for a query."""
    p1 = assert_page(server.get(api(table, sort=sort, per_page=per_page)))
    after = param(p1["links"]["next"], "after")
    p2 = assert_page(server.get(p1["links"]["next"]))
    before = param(p2["links"]["prev"], "before")
    assert after and before, (p1["links"], p2["links"])
    return after, before


@pytest.fixture(scope="module")
def tokens(demo_server):
    after, before = first_cursors(demo_server)
    return {"after": after, "before": before}


# --- parameters -------------------------------------------------------------------------

BAD_INTEGERS = ["abc", "0", "-1", "10x", "+10", "%2010", "10%20", "%0910", "99999999999999999999",
                "", "1.5", "0x10", "1e2", "%D9%A1%D9%A0"]
BAD_PAGES = ["0", "-1", "abc", "1x", "99999999999999999999", "", "+1", "%201", "1.0", "18446744073709551617"]
BAD_OFFSETS = ["-1", "abc", "1x", "99999999999999999999", "", "+0", "%200", "0%20", "-0x1"]


@pytest.mark.parametrize("value", BAD_INTEGERS)
def test_bad_per_page_is_400(demo_server, value):
    assert_problem(demo_server.get(f"/api/users?per_page={value}"), 400, param="per_page",
                   what=f"per_page={value}")


@pytest.mark.parametrize("value", ["abc", "0", "-1", "10x", "+10", "99999999999999999999", ""])
def test_bad_limit_is_400_naming_limit(demo_server, value):
    assert_problem(demo_server.get(f"/api/users?limit={value}"), 400, param="limit",
                   what=f"limit={value}")


@pytest.mark.parametrize("value", BAD_PAGES)
def test_bad_page_is_400(demo_server, value):
    assert_problem(demo_server.get(f"/api/users?page={value}"), 400, param="page",
                   what=f"page={value}")


@pytest.mark.parametrize("value", BAD_OFFSETS)
def test_bad_offset_is_400(demo_server, value):
    assert_problem(demo_server.get(f"/api/users?offset={value}"), 400, param="offset",
                   what=f"offset={value}")


BAD_SORTS = ["nope", "", "id,", ",id", "id,,name", "id,id", "-id,id", "name,-name", "-", "--id",
             "id;drop", "name%20", "%20name", "name)%20--", "na%22me", "-,id",
             "created_at,name,created_at"]


@pytest.mark.parametrize("value", BAD_SORTS)
def test_bad_sort_is_400(demo_server, value):
    assert_problem(demo_server.get(f"/api/users?sort={value}"), 400, param="sort",
                   what=f"sort={value}")


@pytest.mark.parametrize("query,name", [("foo=1", "foo"), ("per_page=5&foo", "foo"),
                                        ("pagee=1", "pagee"), ("after_=x", "after_"),
                                        ("sort=id&order=desc", "order")])
def test_unknown_parameter_is_400_naming_it(demo_server, query, name):
    assert_problem(demo_server.get(f"/api/users?{query}"), 400, param=name, what=query)


def test_conflicting_parameters_are_400(demo_server, tokens):
    a, b = tokens["after"], tokens["before"]
    cases = [
        ("per_page=10&limit=10", ("per_page", "limit")),
        ("page=1&offset=0", ("page", "offset")),
        (f"page=2&after={a}", ("page", "after")),
        (f"page=1&before={b}", ("page", "before")),
        (f"offset=5&after={a}", ("offset", "after")),
        (f"offset=0&before={b}", ("offset", "before")),
        (f"after={a}&before={b}", ("after", "before")),
    ]
    for query, names in cases:
        assert_problem(demo_server.get(f"/api/users?{query}"), 400, param=names, what=query)


# --- methods and routes -----------------------------------------------------------------

@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_methods_other_than_get_and_head_are_405(demo_server, method):
    for path in ("/api/users", "/"):
        r = demo_server.request(method, path, body=b"{}", headers={"Content-Type": "application/json"})
        assert_problem(r, 405, param=..., what=f"{method} {path}")


def test_405_names_the_allowed_methods(demo_server):
    r = demo_server.request("POST", "/api/users", body=b"")
    assert r.status == 405
    allow = {m.strip().upper() for m in (r.headers.get("Allow") or "").split(",")}
    assert {"GET", "HEAD"} <= allow, f"Allow: {r.headers.get('Allow')!r}"


@pytest.mark.parametrize("path", ["/api/nope", "/api/Users_", "/api/users;",
                                  "/nope", "/api/%2e%2e"])
def test_unknown_table_is_404(demo_server, path):
    assert_problem(demo_server.get(path), 404, param=..., what=path)


# --- cursors ----------------------------------------------------------------------------

def assert_invalid(server, query, what, name="after"):
    assert_problem(server.get(f"/api/users?{query}"), 400, param=name, detail=INVALID, what=what)


def test_cursor_is_short_unpadded_base64url(tokens):
    for token in tokens.values():
        assert CURSOR_RE.match(token), token
        assert len(token) < 100, f"cursor for an integer key is {len(token)} chars"


def test_cursor_accepts_another_per_page(demo_server, demo_con, tokens):
    body = assert_page(demo_server.get(f"/api/users?per_page=12&after={tokens['after']}"))
    assert_rows(body["data"], expected_rows(demo_con, "users", limit=12, offset=5))
    body = assert_page(demo_server.get(f"/api/users?per_page=3&before={tokens['before']}"))
    assert_rows(body["data"], expected_rows(demo_con, "users", limit=3, offset=2))


def test_every_changed_character_makes_an_invalid_cursor(demo_server, tokens):
    for kind, token in tokens.items():
        for i, ch in enumerate(token):
            idx = B64URL.index(ch)
            for alt in {B64URL[idx ^ 32], B64URL[idx ^ 1]}:
                forged = token[:i] + alt + token[i + 1:]
                assert_invalid(demo_server, f"{kind}={forged}", f"{kind} pos {i} {ch}->{alt}", kind)


def test_every_other_value_of_the_last_character_is_invalid(demo_server, tokens):
    # the last character also carries padding bits: a lax decoder would ignore them
    token = tokens["after"]
    for alt in B64URL:
        if alt != token[-1]:
            assert_invalid(demo_server, f"after={token[:-1]}{alt}", f"last char -> {alt}")


def test_truncated_cursors_are_invalid(demo_server, tokens):
    for kind, token in tokens.items():
        for n in range(1, len(token)):
            assert_invalid(demo_server, f"{kind}={token[:n]}", f"{kind} truncated to {n}", kind)
        body = assert_problem(demo_server.get(f"/api/users?{kind}="), 400, param=kind,
                              what="empty cursor")
        # an empty cursor is a cursor that does not verify, like any other (issue 10 item 11)
        assert body["type"].endswith("/invalid-cursor"), body


def test_padded_and_garbage_cursors_are_invalid(demo_server, tokens):
    t = tokens["after"]
    variants = [t + "=", t + "==", t + "%3D", "%3D" + t, t + "A", "A" + t, t + t,
                t.replace("-", "%2B").replace("_", "%2F") if ("-" in t or "_" in t) else t + "%2F",
                "%20" + t, t + "%0A", "garbage", "AAAA", "A" * 99, "_" * 50,
                "%FF%FE", "%C3%A9", "-", "....", "A" * 5000]
    for v in variants:
        assert_invalid(demo_server, f"after={v}", f"after={v[:80]}")


def test_cursor_signed_with_another_secret_is_invalid(spawn, demo_server, demo_db, tmp_path, tokens):
    other = spawn(demo_db, secret_file=make_secret(tmp_path / "other.key"))
    after, before = first_cursors(other)
    assert_invalid(demo_server, f"after={after}", "other server's after cursor")
    assert_invalid(demo_server, f"before={before}", "other server's before cursor", "before")
    assert_invalid(other, f"after={tokens['after']}", "first server's cursor at the other")


def test_cursor_from_another_table_does_not_belong(demo_server, tokens):
    for kind, token in tokens.items():
        for table in ("messages", "items", "events"):
            r = demo_server.get(f"/api/{table}?{kind}={token}")
            assert_problem(r, 400, param=kind, detail_contains="does not belong",
                           what=f"users cursor on {table}")


def test_cursor_from_another_sort_does_not_belong(demo_server, tokens):
    for sort in ("-id", "name", "created_at,id", "-created_at"):
        r = demo_server.get(f"/api/users?sort={sort}&after={tokens['after']}")
        assert_problem(r, 400, param="after", detail_contains="does not belong",
                       what=f"default-sort cursor with sort={sort}")
    after, _ = first_cursors(demo_server, sort="name")
    for sort in (None, "-name", "name,-id", "email"):
        r = demo_server.get(api("users", sort=sort, after=after))
        assert_problem(r, 400, param="after", detail_contains="does not belong",
                       what=f"sort=name cursor with sort={sort}")


def test_cursor_direction_cannot_be_swapped(demo_server, tokens):
    r = demo_server.get(f"/api/users?before={tokens['after']}")
    assert_problem(r, 400, param=("before", "after"), what="after cursor given as before")
    r = demo_server.get(f"/api/users?after={tokens['before']}")
    assert_problem(r, 400, param=("before", "after"), what="before cursor given as after")


def test_cursor_survives_a_restart_with_the_same_secret(spawn, demo_db, tmp_path):
    server = spawn(demo_db, secret_file=make_secret(tmp_path / "keep.key"))
    after, before = first_cursors(server, table="events", sort="-created_at")
    page_after = assert_page(server.get(api("events", sort="-created_at", per_page=5, after=after)))
    page_before = assert_page(server.get(api("events", sort="-created_at", per_page=5, before=before)))
    server.restart()
    assert assert_page(server.get(api("events", sort="-created_at", per_page=5, after=after)))["data"] \
        == page_after["data"]
    assert assert_page(server.get(api("events", sort="-created_at", per_page=5, before=before)))["data"] \
        == page_before["data"]


def test_expired_cursor_is_400_and_ttl_0_never_expires(spawn, demo_db, secret_file):
    short = spawn(demo_db, secret_file=secret_file, extra_args=["--cursor-ttl", "1"])
    short.expiring_cursors = True  # its links expire on purpose (see check_links)
    forever = spawn(demo_db, secret_file=secret_file, extra_args=["--cursor-ttl", "0"])
    for _ in range(3):  # a token minted at the end of a clock second may expire quickly
        after, before = first_cursors(short)
        r = short.get(f"/api/users?after={after}")
        if r.status == 200:
            break
    assert_page(r, "fresh cursor on a --cursor-ttl 1 server")
    kept_after, kept_before = first_cursors(forever)
    time.sleep(2.6)
    for kind, token in (("after", after), ("before", before)):
        r = short.get(f"/api/users?{kind}={token}")
        assert_problem(r, 400, param=kind, detail_contains="expired", what=f"expired {kind}")
    for kind, token in (("after", kept_after), ("before", kept_before)):
        assert_page(forever.get(f"/api/users?{kind}={token}"), f"--cursor-ttl 0 {kind}")
    # the signature is checked before the expiry: a forged old cursor is just invalid
    forged = after[:3] + B64URL[B64URL.index(after[3]) ^ 32] + after[4:]
    assert_invalid(short, f"after={forged}", "forged expired cursor")


# --- hostile requests -------------------------------------------------------------------

LONG_TARGETS = {
    "long sort": "/api/users?sort=" + "a" * 100_000,
    "many parameters": "/api/users?" + "a=1&" * 25_000,
    "5000 parameters": "/api/users?" + "&".join(["a=1"] * 5000),
    "long per_page": "/api/users?per_page=" + "0" * 100_000 + "1",
    "long cursor": "/api/users?after=" + "A" * 100_000,
    "long path": "/api/" + "u" * 100_000,
}


@pytest.mark.parametrize("name", list(LONG_TARGETS))
def test_very_long_requests_get_a_prompt_414(demo_server, name):
    """Every one of these targets is over 5,000 bytes: URI Too Long, whichever part is long."""
    r = demo_server.raw(LONG_TARGETS[name], timeout=10)
    assert r.status == 414, f"{name}: want 414, got {r!r}"
    assert_page(demo_server.get("/api/users?per_page=1"), f"after {name}")


def test_nul_bytes_in_parameters_are_rejected(demo_server, tokens):
    """A %00 must not cut a value short: "10\0junk" is not the integer 10."""
    cases = [("per_page=10%00", "per_page"), ("per_page=10%00x", "per_page"),
             ("page=1%00", "page"), ("offset=0%00", "offset"), ("sort=id%00", "sort"),
             ("sort=name%00,-id", "sort"), (f"after={tokens['after']}%00", "after"),
             ("per_page%00=5", ...), ("per_page%00x=5", ...)]
    failures = []
    for query, name in cases:
        r = demo_server.get(f"/api/users?{query}")
        if r.status != 400:
            failures.append(f"{query}: {r.status}")
        else:
            assert_problem(r, 400, param=name, what=query)
    r = demo_server.get("/api/users%00")
    if r.status != 404:
        failures.append(f"/api/users%00: {r.status}")
    assert not failures, "values cut at a NUL byte were accepted: " + "; ".join(failures)


@pytest.mark.parametrize("times", [2, 64, 65, 500])
@pytest.mark.parametrize("key,value", [("per_page", "5"), ("sort", "id"), ("after", "AAAA")])
def test_a_parameter_given_many_times_is_400_naming_it(demo_server, key, value, times):
    """README: "a parameter given twice: 400", also past the 64-parameter cap (which once let
    500 repeats through as a generic too-many-parameters answer)."""
    r = demo_server.raw("/api/users?" + "&".join([f"{key}={value}"] * times))
    body = assert_problem(r, 400, param=key, detail=f"parameter '{key}' is given more than once",
                          what=f"{key} x{times}")
    assert body["type"].endswith("/invalid-parameter"), body


def test_more_than_64_distinct_parameters_are_400_too_many_parameters(demo_server):
    for query in ("&".join(f"name=eq.{i}" for i in range(65)), "&".join(["a=1"] * 500)):
        r = demo_server.raw("/api/users?" + query)
        body = assert_problem(r, 400, param=None, detail="the query string has too many parameters",
                              what=query[:40])
        assert body["type"].endswith("/too-many-parameters") and "param" not in body, body
    # 64 parameters are still read as a request (here: more filters than allowed)
    r = demo_server.raw("/api/users?" + "&".join(f"name=neq.x{i}" for i in range(64)))
    assert_problem(r, 400, param="name", detail="too many filters (at most 16)")


def test_many_repeated_sort_columns_are_400(demo_server):
    r = demo_server.raw("/api/users?sort=" + ",".join(["id"] * 2000))
    assert_problem(r, 400, param="sort", what="sort=id,id,...")


URI_CHARS = string.ascii_letters + string.digits + "-._~!$'()*+,;=:@/?%&"
KNOWN_KEYS = ["per_page", "limit", "page", "offset", "after", "before", "sort", "", "x",
              "PAGE", "per_page[]", "%70age", "a%00b", "%", "sort%00"]
KNOWN_VALUES = ["1", "0", "-1", "20", "100", "101", "99999999999999999999", "", "%", "%zz", "%0",
                "%00", "%FF", "%C3%A9", "%ED%A0%80", "-id", "id,id", "name,-created_at", "+",
                "%2B1", "1e3", "TOKEN", "TOKEN%3D", "-created_at,-id", ",", "9223372036854775807",
                "-9223372036854775808", "%25", "%%", "1%", "id%2C-name"]
KEYS = st.sampled_from(KNOWN_KEYS) | st.text(alphabet=URI_CHARS, max_size=12)
VALUES = st.sampled_from(KNOWN_VALUES) | st.text(alphabet=URI_CHARS, max_size=30)
PAIRS = st.lists(st.tuples(KEYS, st.booleans(), VALUES), max_size=6)
PATHS = st.sampled_from(["/api/users", "/api/items", "/api/events", "/api/messages", "/api/nope",
                         "/", "/api/users/", "/api", "/api/%75sers", "//api/users"])


@settings(deadline=None, max_examples=300, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(path=PATHS, pairs=PAIRS, sep=st.sampled_from(["&", "&", "&", ";", "&&"]))
def test_garbage_query_strings_get_200_or_a_problem(demo_server, tokens, path, pairs, sep):
    query = sep.join(k + ("=" + v if eq else "") for k, eq, v in pairs)
    query = query.replace("TOKEN", tokens["after"])
    target = path + ("?" + query if pairs else "")
    r = demo_server.raw(target)
    if r.status == 200:
        assert media_type(r.headers) == "application/json", (target, r)
        body = r.json()
        if path != "/":
            assert_page(r, target)
        else:
            assert "tables" in body
    elif path in ("/api/nope", "/api/users/", "/api", "//api/users"):
        # no such resource; only a NUL byte in the query is refused before routing
        if r.status == 400:
            assert_problem(r, 400, detail="a query parameter contains a NUL byte", what=target)
        else:
            assert_problem(r, 404, param=None, detail="no such resource", what=target)
    else:
        # a real endpoint refuses bad input with a 400 that names the parameter (a parameter
        # with an empty name has no "param" member: struct folio_error cannot tell "" apart)
        body = assert_problem(r, 400, param=..., what=target)
        empty_key = "" in [seg.split("=")[0] for seg in query.split("&")]
        assert isinstance(body.get("param"), str) or empty_key, f"{target!r}: {body}"


def test_server_is_healthy_after_the_garbage(demo_server, demo_con):
    body = assert_page(demo_server.get("/api/users?per_page=3&page=2"))
    assert_rows(body["data"], expected_rows(demo_con, "users", limit=3, offset=3))
    assert demo_server.alive()


def test_sigint_shuts_the_server_down_cleanly(spawn, demo_db):
    server = spawn(demo_db)
    assert_page(server.get("/api/users?per_page=2"))
    server.stop(sig=signal.SIGINT)  # exit 0, no sanitizer report


def test_sigterm_with_an_idle_keep_alive_connection_still_exits(spawn, demo_db):
    import http.client
    server = spawn(demo_db)
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.request("GET", "/api/users?per_page=2")
    conn.getresponse().read()  # the connection stays open, idle
    try:
        server.stop()  # must still exit 0 within a few seconds
    finally:
        conn.close()
