"""Every table shape SQLite allows walks every row exactly once (issue 10 item 5).

folio must decide which key is unique and never NULL the way SQLite does: a column is
the rowid only when it is declared INTEGER PRIMARY KEY (type spelled "INTEGER", not the
column form "PRIMARY KEY DESC", which is an ordinary key that may hold any number of
NULLs); WITHOUT ROWID tables have no rowid but a NOT NULL key; other rowid tables'
keys may hold NULLs; columns (generated ones included) named rowid/_rowid_/oid shadow
those names. Here every shape is walked forward by next links, backward by prev links,
and by offset pages (hybrid index pages from offset 100 on), and each walk must be the
ORDER BY result exactly: the same sort-key sequence, the same rows, each once."""

import collections
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from folio_api import assert_page, json_value, param, parse_sort, table_columns
from folio_server import connect_db, db_fixture, make_db

# rowid, WITHOUT ROWID and generated-column shapes are SQLite's
pytestmark = pytest.mark.sqlite_only

ROWS = 160  # beyond one hybrid stride (100): offset pages from 100 on go through the index

# name -> (CREATE TABLE, column generators for the inserted columns)
SHAPES = {
    # INTEGER PRIMARY KEY DESC in the column form is NOT the rowid: many NULL ids
    "desc_pk": ("CREATE TABLE desc_pk(id INTEGER PRIMARY KEY DESC, v TEXT, n INTEGER)",
                ("id_null", "text", "int")),
    # the table-constraint form PRIMARY KEY(id DESC) is a rowid alias
    "desc_alias": ("CREATE TABLE desc_alias(id INTEGER, v TEXT, n INTEGER, "
                   "PRIMARY KEY(id DESC))", ("id_unique", "text", "int")),
    "lower_alias": ("CREATE TABLE lower_alias(id integer primary key asc, v TEXT, n INTEGER)",
                    ("id_unique", "text", "int")),
    # INT is not INTEGER: an ordinary key of a rowid table, NULLs allowed
    "int_pk": ("CREATE TABLE int_pk(id INT PRIMARY KEY, v TEXT, n INTEGER)",
               ("id_unique_null", "text", "int")),
    "composite": ("CREATE TABLE composite(a TEXT, b INTEGER, v TEXT, n INTEGER, "
                  "PRIMARY KEY(a, b))", ("small_text", "id_unique_null", "text", "int")),
    "wr_composite": ("CREATE TABLE wr_composite(a TEXT, b INTEGER, v TEXT, n INTEGER, "
                     "PRIMARY KEY(a, b)) WITHOUT ROWID",
                     ("small_text_nn", "id_unique", "text", "int")),
    "wr_integer": ("CREATE TABLE wr_integer(id INTEGER PRIMARY KEY, v TEXT, n INTEGER) "
                   "WITHOUT ROWID", ("id_unique", "text", "int")),
    "no_pk": ("CREATE TABLE no_pk(v TEXT, n INTEGER)", ("text", "int")),
    # a column named rowid: the rowid is reached as _rowid_
    "rowid_col": ('CREATE TABLE rowid_col("rowid" TEXT, v TEXT, n INTEGER)',
                  ("small_text", "text", "int")),
    # all three names shadowed, but an INTEGER PRIMARY KEY is the rowid itself
    "shadow_alias": ('CREATE TABLE shadow_alias(k INTEGER PRIMARY KEY, "rowid" INTEGER, '
                     '"_rowid_" INTEGER, "oid" INTEGER, v TEXT, n INTEGER)',
                     ("id_unique", "int", "int", "int", "text", "int")),
    # all three shadowed, a NOT NULL key: still unique
    "shadow_notnull": ('CREATE TABLE shadow_notnull("rowid" INTEGER, "_rowid_" INTEGER, '
                       '"oid" INTEGER, k TEXT NOT NULL PRIMARY KEY, v TEXT, n INTEGER)',
                       ("int", "int", "int", "key_text", "text", "int")),
    # a generated column named rowid shadows the name too (table_info does not list it)
    "generated": ('CREATE TABLE generated(x INTEGER, v TEXT, n INTEGER, '
                  '"rowid" INTEGER AS (x % 3), s INTEGER AS (n + 1) STORED)',
                  ("int", "text", "int")),
}
INSERT_COLUMNS = {
    "desc_pk": "id, v, n", "desc_alias": "id, v, n", "lower_alias": "id, v, n",
    "int_pk": "id, v, n", "composite": "a, b, v, n", "wr_composite": "a, b, v, n",
    "wr_integer": "id, v, n", "no_pk": "v, n", "rowid_col": '"rowid", v, n',
    "shadow_alias": 'k, "rowid", "_rowid_", "oid", v, n',
    "shadow_notnull": '"rowid", "_rowid_", "oid", k, v, n', "generated": "x, v, n",
}
# The columns a sort may name, per table (every visible column).
SORT_COLUMNS = {}


def value(rng, kind, i, ids):
    if kind == "id_null":  # many NULLs: a UNIQUE key that is not the rowid allows them
        return None if rng.random() < 0.3 else ids[i]
    if kind == "id_unique":
        return ids[i]
    if kind == "id_unique_null":  # NULLs are distinct in a UNIQUE key: many allowed
        return None if rng.random() < 0.2 else ids[i]
    if kind == "small_text":
        return rng.choice([None, "a", "b", "c"])
    if kind == "small_text_nn":
        return rng.choice(["a", "b", "c", "d"])
    if kind == "key_text":
        return f"k{ids[i]:05d}"
    if kind == "text":
        return rng.choice([None, None, "", "x", "y", "Y", "yy", "z"])
    return rng.choice([None, None, 0, 1, 1, 2, -3, 7])


def fill(con, name, kinds, rng):
    ids = rng.sample(range(-500, 5000), ROWS)
    rows = [tuple(value(rng, k, i, ids) for k in kinds) for i in range(ROWS)]
    if name == "composite":  # keep (a, b) unique where both are non-NULL
        rows = [(a, b if b is None else b * 10 + j % 10, v, n)
                for j, (a, b, v, n) in enumerate(rows)]
    marks = ", ".join("?" * len(kinds))
    con.executemany(f"INSERT INTO {name}({INSERT_COLUMNS[name]}) VALUES ({marks})", rows)


@pytest.fixture(scope="module")
def shapes_db(tmp_path_factory):
    path = make_db(tmp_path_factory.mktemp("shapes") / "shapes.db",
                   ";\n".join(ddl for ddl, _ in SHAPES.values()) + ";\n"
                   'CREATE TABLE unusable("rowid" INTEGER, "_rowid_" INTEGER, "oid" INTEGER, '
                   "v TEXT);\nINSERT INTO unusable VALUES (1, 2, 3, 'a');\n"
                   "CREATE VIEW a_view AS SELECT v, n FROM no_pk;\n")
    con = connect_db(path)
    rng = random.Random(10)
    for name, (_, kinds) in SHAPES.items():
        fill(con, name, kinds, rng)
    con.commit()
    for name in SHAPES:
        SORT_COLUMNS[name] = [c for c, _ in table_columns(con, name)]
    con.close()
    return path


@pytest.fixture(scope="module")
def shapes_con(shapes_db):
    yield from db_fixture(shapes_db)


@pytest.fixture(scope="module")
def shapes_server(module_spawn, shapes_db):
    # every column sortable: the shapes are under test, not the sort policy
    return module_spawn(shapes_db, any_sort=True)


# --- the reference and the walks ---------------------------------------------------------

def reference(con, table, sort):
    """All rows in ORDER BY sort (ties in any order), as folio renders them."""
    cols = [c for c, _ in table_columns(con, table)]
    sel = ", ".join(f'"{c}"' for c in cols)
    order = ", ".join(f'"{c}" {d}' for c, d in parse_sort(sort)) if sort else None
    sql = f'SELECT {sel} FROM "{table}"' + (f" ORDER BY {order}" if order else "")
    return [dict(zip(cols, map(json_value, row))) for row in con.execute(sql)]


def keys_of(rows, sort):
    names = [c for c, _ in parse_sort(sort)] if sort else []
    return [tuple(r[c] for c in names) for r in rows]


def as_multiset(rows):
    return collections.Counter(tuple(sorted(r.items(), key=lambda kv: kv[0])) for r in rows)


def assert_walk_is_order_by(got, want, sort, what):
    assert len(got) == len(want), f"{what}: {len(got)} rows, want {len(want)}"
    assert keys_of(got, sort) == keys_of(want, sort), f"{what}: sort keys out of order"
    assert as_multiset(got) == as_multiset(want), f"{what}: not the same rows"


def url(table, **params):
    q = "&".join(f"{k}={v}" for k, v in params.items() if v is not None)
    return f"/api/{table}?{q}"


def walk_forward(server, start, limit):
    rows, pages, link = [], [], start
    while link is not None and len(pages) < limit:
        body = assert_page(server.get(link), link)
        rows += body["data"]
        pages.append(body)
        link = body["links"]["next"]
    assert link is None, f"{start}: no end after {limit} pages"
    return rows, pages


def walk_backward(server, last_page, limit):
    """From the last page of a forward walk back to the start by prev links."""
    chunks, link, n = [last_page["data"]], last_page["links"]["prev"], 0
    while link is not None and n < limit:
        body = assert_page(server.get(link), link)
        chunks.append(body["data"])
        link = body["links"]["prev"]
        n += 1
    assert link is None, "no start after {limit} pages"
    return [row for chunk in reversed(chunks) for row in chunk]


def walk_offsets(server, table, sort, per_page):
    rows, offset = [], 0
    while offset <= ROWS:
        body = assert_page(server.get(url(table, sort=sort, per_page=per_page, offset=offset)))
        rows += body["data"]
        offset += per_page
    return rows


def check_every_walk(server, con, table, sort, per_page):
    want = reference(con, table, sort)
    assert len(want) == ROWS
    limit = ROWS // per_page + 3
    fwd, pages = walk_forward(server, url(table, sort=sort, per_page=per_page), limit)
    assert_walk_is_order_by(fwd, want, sort, f"{table} sort={sort} forward")
    back = walk_backward(server, pages[-1], limit)
    assert back == fwd, f"{table} sort={sort}: the backward walk differs from the forward one"
    offs = walk_offsets(server, table, sort, per_page)
    assert offs == fwd, f"{table} sort={sort} per_page={per_page}: offset pages differ"
    # the pages at offset 100 and beyond come from the boundary index: again, alone
    deep = assert_page(server.get(url(table, sort=sort, per_page=30, offset=100)))["data"]
    assert deep == fwd[100:130], f"{table} sort={sort}: hybrid page at offset 100 differs"


# --- tests -------------------------------------------------------------------------------

def test_integer_primary_key_desc_table_walks_its_null_and_duplicate_ids(shapes_server,
                                                                         shapes_con):
    # The case: sort=-id walked 123 of 146 rows, the NULL ids were missing.
    nulls = shapes_con.execute("SELECT count(*) FROM desc_pk WHERE id IS NULL").fetchone()[0]
    assert nulls > 20, "the fixture must hold many NULL ids"
    for sort in ("-id", "id", None):
        check_every_walk(shapes_server, shapes_con, "desc_pk", sort, 20)


def test_a_generated_column_named_rowid_does_not_stand_for_the_rowid(shapes_server,
                                                                     shapes_con):
    check_every_walk(shapes_server, shapes_con, "generated", "-n", 20)
    check_every_walk(shapes_server, shapes_con, "generated", None, 7)


def test_a_table_without_any_usable_key_is_not_served(shapes_server):
    # rowid, _rowid_ and oid are all columns and no NOT NULL key exists: no unique key
    # can be addressed, so the table is left out rather than paged wrongly
    r = shapes_server.get("/api/unusable")
    assert r.status == 404, r
    assert shapes_server.get("/api/shadow_notnull").status == 200
    # a view has no key at all: not served either
    assert shapes_server.get("/api/a_view").status == 404


@st.composite
def table_sorts(draw):
    table = draw(st.sampled_from(sorted(SHAPES)))
    cols = SORT_COLUMNS[table]
    names = draw(st.lists(st.sampled_from(cols), min_size=0, max_size=3, unique=True))
    sort = ",".join(("-" if draw(st.booleans()) else "") + n for n in names) or None
    return table, sort


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow])
@given(case=table_sorts(), per_page=st.sampled_from([7, 20, 33, 100]))
def test_every_table_shape_walks_every_row_once_in_order_by_order(shapes_server, shapes_con,
                                                                  case, per_page):
    table, sort = case
    check_every_walk(shapes_server, shapes_con, table, sort, per_page)


def test_links_of_these_shapes_never_spell_the_hidden_rowid(shapes_server):
    for table in ("no_pk", "rowid_col", "desc_pk", "composite"):
        body = assert_page(shapes_server.get(url(table, sort="-n", per_page=5)))
        for link in body["links"].values():
            if link is not None:
                assert param(link, "sort") == "-n", link
