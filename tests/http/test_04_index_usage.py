"""Keyset pages are served from an index, not by sorting the table.

A server started with --debug-plan sends the EXPLAIN QUERY PLAN detail lines of its page
query in the X-Folio-Plan response header, joined by " | ". The index names come from the
demo database itself."""

import pytest

from folio_api import api, assert_page

# SQLite's EXPLAIN QUERY PLAN strings (PostgreSQL's EXPLAIN: test_40_postgresql.py)
pytestmark = pytest.mark.sqlite_only

PLAN_HEADER = "X-Folio-Plan"


@pytest.fixture(scope="module")
def plan_server(module_spawn, demo_db, secret_file):
    return module_spawn(demo_db, secret_file=secret_file, extra_args=["--debug-plan"])


def index_named(con, table, leading):
    """Name of an index on `table` whose leading columns are `leading`."""
    for row in con.execute(f"PRAGMA index_list({table})"):
        name = row[1]
        cols = [r[2] for r in con.execute(f'PRAGMA index_info("{name}")')]
        if cols[:len(leading)] == list(leading):
            return name
    pytest.fail(f"the demo database has no index on {table}({', '.join(leading)}, ...)")


def plan_of(server, url):
    r = server.get(url)
    body = assert_page(r, url)
    plan = r.headers.get(PLAN_HEADER)
    assert plan, f"{url}: no {PLAN_HEADER} header from a --debug-plan server"
    return plan, body


def assert_uses_index(plan, table, index, what):
    assert (f"USING INDEX {index}" in plan or f"USING COVERING INDEX {index}" in plan), \
        f"{what}: plan does not use index {index}: {plan!r}"
    assert "USE TEMP B-TREE" not in plan, f"{what}: plan sorts in a temp b-tree: {plan!r}"
    for line in plan.split(" | "):
        words = line.split()
        if words[:2] == ["SCAN", table] or words[:3] == ["SCAN", "TABLE", table]:
            assert "USING" in line, f"{what}: full table scan {line!r} in {plan!r}"


def cursor_pages(server, table, sort, hops):
    """URLs of the first page, of after= pages `hops` away, and of before= pages."""
    urls = [api(table, sort=sort, per_page=100)]
    body = assert_page(server.get(urls[0]))
    for _ in range(hops):
        urls.append(body["links"]["next"])
        body = assert_page(server.get(urls[-1]))
        urls.append(body["links"]["prev"])
    return urls


@pytest.mark.parametrize("table,sort,leading", [
    ("items", "category,price", ("category", "price")),
    ("events", "created_at", ("created_at",)),
    ("events", "-created_at,-id", ("created_at",)),
    # the tiebreaker follows the last key: walked backwards, no sort of equal timestamps
    ("events", "-created_at", ("created_at",)),
    ("users", "-created_at", ("created_at",)),
])
def test_keyset_pages_use_the_sort_index(plan_server, demo_con, table, sort, leading):
    index = index_named(demo_con, table, leading)
    for url in cursor_pages(plan_server, table, sort, hops=5):
        plan, _ = plan_of(plan_server, url)
        assert_uses_index(plan, table, index, url)


def test_items_index_covers_the_tiebreaker(demo_con):
    index = index_named(demo_con, "items", ("category", "price"))
    cols = [r[2] for r in demo_con.execute(f'PRAGMA index_info("{index}")')]
    assert cols in (["category", "price"], ["category", "price", "id"]), cols


def test_plan_header_is_only_sent_in_debug_mode(demo_server):
    r = demo_server.get("/api/items?sort=category,price")
    assert r.status == 200
    assert r.headers.get(PLAN_HEADER) is None


@pytest.mark.parametrize("table,sort,leading", [
    ("items", "category,price", ("category", "price")),
    ("events", "created_at", ("created_at",)),
    ("events", "-created_at,-id", ("created_at",)),
])
def test_cursor_pages_seek_into_the_index_instead_of_scanning(plan_server, demo_con, table, sort,
                                                              leading):
    """A keyset page costs O(per_page) only if SQLite seeks to the cursor (SEARCH); a SCAN
    that skips rows up to the cursor costs O(distance). Checked for cursors whose sort
    values are all non-NULL, in both directions."""
    index = index_named(demo_con, table, leading)
    body = assert_page(plan_server.get(api(table, sort=sort, per_page=100)))
    checked = 0
    for _ in range(8):
        cursor_row = body["data"][-1]
        url = body["links"]["next"]
        if url is None:
            break
        plan, body = plan_of(plan_server, url)
        if all(cursor_row[c] is not None for c in leading):
            assert f"SEARCH {table} USING" in plan and index in plan, \
                f"{url} (after a row with {[cursor_row[c] for c in leading]}): {plan!r}"
            checked += 1
        first_row = body["data"][0]
        prev_url = body["links"]["prev"]
        plan, _ = plan_of(plan_server, prev_url)
        if all(first_row[c] is not None for c in leading):
            assert f"SEARCH {table} USING" in plan and index in plan, \
                f"{prev_url} (before a row with {[first_row[c] for c in leading]}): {plan!r}"
            checked += 1
    assert checked >= 4, "too few pages with non-NULL cursors to judge"


@pytest.mark.parametrize("table,sort,leading", [
    ("users", "-created_at", ("created_at",)),
    ("events", "-created_at", ("created_at",)),
    ("users", "created_at", ("created_at",)),
])
def test_deep_offset_pages_use_the_sort_index_without_sorting(plan_server, demo_con, table,
                                                              sort, leading):
    """Offset pages, the hybrid jump included: a descending sort with the implied
    tiebreaker reads the index backwards; before the tiebreaker followed the sort, SQLite
    sorted each run of equal values in a temp b-tree, rows skipped by OFFSET too."""
    index = index_named(demo_con, table, leading)
    for page in (1, 37, 149):
        url = api(table, sort=sort, per_page=20, page=page)
        plan, _ = plan_of(plan_server, url)
        assert_uses_index(plan, table, index, url)
