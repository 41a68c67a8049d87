"""Checks shared by the HTTP tests: page and problem shapes, links, and the reference
answers computed with stdlib sqlite3 on the same database file the server reads."""

import base64
import math
import re
import urllib.parse

from folio_server import media_type

LINK_RE = re.compile(r'<([^>]*)>\s*;\s*rel\s*=\s*"?([^";,\s]+)"?')
CURSOR_RE = re.compile(r"^[A-Za-z0-9_-]+$")
B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


# --- URLs and links --------------------------------------------------------------------

def api(table, **params):
    """/api/<table>?<params> with params in the given order (None values skipped)."""
    q = urllib.parse.urlencode([(k, v) for k, v in params.items() if v is not None])
    return f"/api/{table}" + (f"?{q}" if q else "")


def query_params(url):
    """The query of a relative URL as {name: [values]} (blank values kept)."""
    return urllib.parse.parse_qs(urllib.parse.urlsplit(url).query, keep_blank_values=True)


def param(url, name):
    values = query_params(url).get(name)
    if not values:
        return None
    assert len(values) == 1, f"{name} repeated in {url}"
    return values[0]


def parse_link_header(value):
    """RFC 8288 Link header -> {rel: url}; a rel given twice is an error."""
    out = {}
    for url, rel in LINK_RE.findall(value or ""):
        assert rel not in out, f"rel={rel} twice in Link header {value!r}"
        out[rel] = url
    return out


def link_header(resp):
    values = resp.headers.get_all("Link") or []
    return parse_link_header(", ".join(values))


def assert_relative(url):
    assert isinstance(url, str) and url.startswith("/"), f"link is not a relative URL: {url!r}"
    parts = urllib.parse.urlsplit(url)
    assert not parts.scheme and not parts.netloc, f"link is not relative: {url!r}"


# --- responses -------------------------------------------------------------------------

def assert_page(resp, what=""):
    """A 200 application/json page with data/meta/links; returns the parsed body."""
    assert resp.status == 200, f"{what}: want 200, got {resp!r}"
    assert media_type(resp.headers) == "application/json", f"{what}: {resp!r}"
    body = resp.json()
    assert isinstance(body, dict), body
    for key in ("data", "meta", "links"):
        assert key in body, f"{what}: no {key!r} in {str(body)[:500]}"
    assert isinstance(body["data"], list)
    meta, links = body["meta"], body["links"]
    assert isinstance(meta.get("per_page"), int) and not isinstance(meta["per_page"], bool)
    assert isinstance(meta.get("has_more"), bool), meta
    assert isinstance(meta.get("has_prev"), bool), meta
    for rel in ("self", "first", "next", "prev"):
        assert rel in links, f"{what}: links has no {rel!r}: {links}"
    assert isinstance(links["self"], str) and isinstance(links["first"], str), links
    for rel in ("self", "first", "next", "prev"):
        if links[rel] is not None:
            assert_relative(links[rel])
    assert (links["next"] is not None) == meta["has_more"], f"{what}: next vs has_more: {body['meta']} {links}"
    assert (links["prev"] is not None) == meta["has_prev"], f"{what}: prev vs has_prev: {body['meta']} {links}"
    assert len(body["data"]) <= meta["per_page"], f"{what}: more rows than per_page"
    expected_header = {rel: url for rel, url in links.items() if url is not None}
    assert link_header(resp) == expected_header, (
        f"{what}: Link header {resp.headers.get_all('Link')} != links {links}")
    return body


def assert_problem(resp, status, param=None, detail=None, detail_contains=None, what=""):
    """An application/problem+json error with the RFC 9457 members; returns the body.
    `param` may be a name, a tuple of acceptable names, or ... to skip the check."""
    assert resp.status == status, f"{what}: want {status}, got {resp!r}"
    assert media_type(resp.headers) == "application/problem+json", f"{what}: {resp!r}"
    body = resp.json()
    assert isinstance(body, dict), body
    assert isinstance(body.get("type"), str) and body["type"], f"{what}: type: {body}"
    ref = urllib.parse.urlsplit(body["type"])
    assert " " not in body["type"] and (ref.scheme or ref.path or body["type"] == "about:blank"), body
    assert isinstance(body.get("title"), str) and body["title"].strip(), f"{what}: title: {body}"
    assert status == 500 or body["title"] != "Internal Server Error", f"{what}: title: {body}"
    assert body.get("status") == status and isinstance(body["status"], int), f"{what}: {body}"
    assert isinstance(body.get("detail"), str) and body["detail"].strip(), f"{what}: detail: {body}"
    if detail is not None:
        assert body["detail"] == detail, f"{what}: detail {body['detail']!r} != {detail!r}"
    if detail_contains is not None:
        assert detail_contains in body["detail"], f"{what}: {detail_contains!r} not in {body}"
    if param is not ...:
        if param is None:
            pass
        elif isinstance(param, tuple):
            assert body.get("param") in param, f"{what}: param {body.get('param')!r} not in {param}"
        else:
            assert body.get("param") == param, f"{what}: param {body.get('param')!r} != {param!r}"
    return body


# --- the reference answer --------------------------------------------------------------

def table_columns(con, table):
    """[(name, declared type)] in table order."""
    if getattr(con, "backend", "sqlite") == "pg":
        return con.columns(table)
    return [(r[1], r[2]) for r in con.execute(f'PRAGMA table_info("{table}")')]


def primary_key(con, table):
    """The single primary key column name, or 'rowid' when the table has none."""
    if getattr(con, "backend", "sqlite") == "pg":
        pk = con.primary_key(table)
        assert len(pk) == 1, f"{table}: want one primary key column, got {pk}"
        return pk[0]
    pk = [(r[5], r[1]) for r in con.execute(f'PRAGMA table_info("{table}")') if r[5]]
    if not pk:
        return "rowid"
    assert len(pk) == 1, "composite keys are not covered here"
    return pk[0][1]


def parse_sort(spec):
    """'-a,b' -> [('a', 'DESC'), ('b', 'ASC')]."""
    out = []
    for item in spec.split(","):
        if item.startswith("-"):
            out.append((item[1:], "DESC"))
        else:
            out.append((item, "ASC"))
    return out


def order_by(con, table, sort=None):
    """The ORDER BY clause folio must follow: the sort plus the primary key tiebreaker,
    which goes the direction of the sort's last key (ascending without a sort)."""
    pk = primary_key(con, table)
    keys = parse_sort(sort) if sort else []
    if pk not in [k for k, _ in keys]:
        keys.append((pk, keys[-1][1] if keys else "ASC"))
    return ", ".join(f'"{c}" {d}' for c, d in keys)


def json_value(v):
    """How folio must render one SQLite value (or one value of the PostgreSQL types the
    mirrored test tables use) in JSON."""
    if isinstance(v, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(v)).decode("ascii")
    return v


def expected_rows(con, table, sort=None, limit=-1, offset=0, where=None):
    cols = [c for c, _ in table_columns(con, table)]
    sel = ", ".join(f'"{c}"' for c in cols)
    sql = f'SELECT {sel} FROM "{table}"'
    if where:
        sql += f" WHERE {where}"
    sql += f" ORDER BY {order_by(con, table, sort)} LIMIT ? OFFSET ?"
    if limit is not None and limit < 0 and getattr(con, "backend", "sqlite") == "pg":
        limit = None  # LIMIT NULL: no limit
    return [dict(zip(cols, (json_value(v) for v in row)))
            for row in con.execute(sql, (limit, offset))]


def same_value(got, want):
    if isinstance(want, float):
        return (isinstance(got, (int, float)) and not isinstance(got, bool)
                and (got == want or (math.isnan(want) and math.isnan(got))))
    if isinstance(want, int) and not isinstance(want, bool):
        return isinstance(got, int) and not isinstance(got, bool) and got == want
    return type(got) is type(want) and got == want


def assert_rows(got, want, what=""):
    """Rows equal, key order included (every column, in table order), values typed."""
    assert len(got) == len(want), f"{what}: {len(got)} rows, want {len(want)}\n" \
        f"got  {[r for r in got][:5]}...\nwant {want[:5]}..."
    for i, (g, w) in enumerate(zip(got, want)):
        assert list(g.keys()) == list(w.keys()), f"{what}: row {i} keys {list(g)} != {list(w)}"
        for k in w:
            assert same_value(g[k], w[k]), f"{what}: row {i} column {k}: got {g[k]!r}, want {w[k]!r}\n" \
                f"got row {g}\nwant row {w}"


def row_ids(rows, key="id"):
    return [r[key] for r in rows]


def assert_link_sort(url, asked, pk="id", what=""):
    """A link keeps the requested sort; spelling out the implicit pk tiebreaker is allowed."""
    got = param(url, "sort")
    allowed = {asked}
    if asked is None:
        allowed |= {pk}
    elif pk not in [c for c, _ in parse_sort(asked)]:
        allowed.add(f"{asked},{pk}")
    assert got in allowed, f"{what}: link {url} has sort={got!r}, want one of {sorted(map(str, allowed))}"
