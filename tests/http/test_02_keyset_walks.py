"""Keyset pagination walks: following next and prev links visits every row once, in the
order SQLite's ORDER BY gives (NULLs first ascending, last descending, pk tiebreaker)."""

import random
import threading

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
import pytest

from folio_api import (api, assert_link_sort, assert_page, assert_rows, expected_rows, param,
                       primary_key)
from folio_server import FolioServer, as_backend, connect_db, db_fixture, make_db
from folio_writer import LIVE_INSERT, WriterThread, live_row, make_live_db

WALK_SETTINGS = settings(deadline=None, max_examples=25, derandomize=True, database=None,
                         suppress_health_check=[HealthCheck.too_slow])


# --- walking helpers --------------------------------------------------------------------

def get_page(server, url):
    return assert_page(server.get(url), url)


def walk_next(server, url, limit, between=None):
    """Pages from `url` following next links until null (at most `limit` pages).
    `between`, when given, runs after each page (e.g. to let a writer act)."""
    pages = []
    while url:
        pages.append(get_page(server, url))
        url = pages[-1]["links"]["next"]
        assert len(pages) <= limit, f"next links do not end after {limit} pages"
        if between:
            between()
    return pages


def walk_prev(server, url, limit, between=None):
    """Pages from `url` following prev links until null; returned in walk order."""
    pages = []
    while url:
        pages.append(get_page(server, url))
        url = pages[-1]["links"]["prev"]
        assert len(pages) <= limit, f"prev links do not end after {limit} pages"
        if between:
            between()
    return pages


def check_full_walk(server, con, table, sort, per_page):
    """Forward from the first page, back from the last, and a before= walk with another
    per_page from the last page's prev cursor; every step against sqlite's ORDER BY."""
    what = f"{table} sort={sort} per_page={per_page}"
    want = expected_rows(con, table, sort)
    pk = primary_key(con, table)
    first_url = api(table, sort=sort, per_page=per_page)
    npages = max(1, -(-len(want) // per_page))
    chunks = [want[i:i + per_page] for i in range(0, len(want), per_page)] or [[]]

    fwd = walk_next(server, first_url, npages + 2)
    got = [row for p in fwd for row in p["data"]]
    assert_rows(got, want, f"{what}: forward walk")
    assert len(fwd) == npages, f"{what}: {len(fwd)} pages forward, want {npages}"
    for i, page in enumerate(fwd):
        assert_rows(page["data"], chunks[i], f"{what}: forward page {i}")
        assert page["meta"]["per_page"] == per_page
        assert page["meta"]["has_prev"] is (i > 0), f"{what}: page {i} meta {page['meta']}"
        assert page["meta"]["has_more"] is (i < npages - 1), f"{what}: page {i} meta {page['meta']}"
        for rel in ("next", "prev"):
            if page["links"][rel]:
                assert_link_sort(page["links"][rel], sort, pk, f"{what}: {rel}")
                assert param(page["links"][rel], "per_page") == str(per_page), page["links"]

    if npages == 1:
        return
    back = walk_prev(server, fwd[-1]["links"]["prev"], npages + 1)
    assert len(back) == npages - 1, f"{what}: {len(back)} pages back, want {npages - 1}"
    for j, page in enumerate(back):
        i = npages - 2 - j
        assert_rows(page["data"], chunks[i], f"{what}: backward page {i}")
        assert page["meta"]["has_more"] is True, f"{what}: backward page {i} {page['meta']}"
        assert page["meta"]["has_prev"] is (i > 0), f"{what}: backward page {i} {page['meta']}"

    # before= from the end with another page size: pages aligned to the end, not the start
    cursor = param(fwd[-1]["links"]["prev"], "before")
    assert cursor, fwd[-1]["links"]
    end = (npages - 1) * per_page  # rows before the last page's first row
    other = per_page * 2 + 1 if per_page < 30 else max(1, per_page // 3)
    url = api(table, sort=sort, per_page=other, before=cursor)
    pages = walk_prev(server, url, end // other + 3)
    for k, page in enumerate(pages):
        hi = end - k * other
        lo = max(0, hi - other)
        assert_rows(page["data"], want[lo:hi], f"{what}: before= walk per_page={other} step {k}")
        assert page["meta"]["has_more"] is True, page["meta"]
        assert page["meta"]["has_prev"] is (lo > 0), f"{what}: before= step {k}: {page['meta']}"
    assert len(pages) == -(-end // other), f"{what}: {len(pages)} before= pages for {end} rows"
    after = get_page(server, pages[0]["links"]["next"])
    assert_rows(after["data"], want[end:end + other], f"{what}: next of a before= page")
    assert after["meta"]["has_prev"] is True


# --- a table full of duplicates and NULLs -----------------------------------------------

WALK_COLUMNS = ["t", "n", "r", "s", "bl", "id"]


def build_walk_db(path):
    """200 rows with sparse (and negative) ids; t, n, r and bl are NULL-heavy and full of
    duplicates; m mixes storage classes (1 and 1.0 compare equal); a few t values are not
    valid UTF-8 and one is long enough to make a long cursor."""
    rng = random.Random(20240611)
    make_db(path, "CREATE TABLE walk(id INTEGER PRIMARY KEY, t TEXT, n INTEGER, r REAL, "
                  "s TEXT NOT NULL, bl BLOB, m);")
    texts = [None, None, "", "a", "a", "B", "b", "é", "a b", "zz", "o'q", "a,b", "ä" * 40,
             "L" * 600]
    ints = [None, None, -5, 0, 1, 1, 2, 9223372036854775807, -9223372036854775808]
    reals = [None, None, -2.5, 0.0, 0.1, 0.1, 1e300, 1.0, 3.14159, -1e-300, 1 / 3]
    blobs = [None, None, b"", b"\x00", b"\x00\x00", b"\xff", b"a", b"a\x00b"]
    mixed = [None, 1, 1.0, 2, 2.5, -1, "1", "a", "", b"\x01", b"a", 0.1]
    ids = sorted(rng.sample(range(-20, 2000), 200))
    rows = [(i, rng.choice(texts), rng.choice(ints), rng.choice(reals), rng.choice("xyz"),
             rng.choice(blobs), rng.choice(mixed)) for i in ids]
    con = connect_db(path)
    con.executemany("INSERT INTO walk VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    for i, raw in enumerate(("ff61", "61ff", "fe", "ff61")):
        con.execute(f"UPDATE walk SET t = CAST(x'{raw}' AS TEXT) WHERE id = ?", (ids[17 + 41 * i],))
    con.commit()
    con.close()
    return path


@pytest.fixture(scope="module")
def walk_db(backend, tmp_path_factory):
    """walk in SQLite, or its PostgreSQL copy (m there is text: the storage classes are
    SQLite's; invalid UTF-8 arrives as U+FFFD)."""
    return as_backend(backend, build_walk_db(tmp_path_factory.mktemp("walk") / "walk.db"))


@pytest.fixture(scope="module")
def walk_con(walk_db):
    yield from db_fixture(walk_db)


@pytest.fixture
def walk_server(spawn, walk_db):
    """A fresh server per test, so a crash is blamed on the test that caused it. The walks
    sort by unindexed columns on purpose (any_sort): the engine is under test here, not
    the default sort policy (test_07_query_limits.py)."""
    return spawn(walk_db, extra_args=["--threads", "4"], any_sort=True)


@st.composite
def sort_specs(draw):
    names = draw(st.lists(st.sampled_from(WALK_COLUMNS), min_size=1, max_size=3, unique=True))
    return ",".join(("-" if draw(st.booleans()) else "") + n for n in names)


PER_PAGE = st.sampled_from([1, 2, 3, 5, 7, 10, 16, 20, 33, 50, 64, 100])


@WALK_SETTINGS
@given(sort=sort_specs(), per_page=PER_PAGE)
def test_walks_visit_every_row_once_in_sqlite_order(walk_db, walk_con, secret_file, sort, per_page):
    # one server per example: a crash is pinned on the example that caused it
    with FolioServer(walk_db, secret_file=secret_file, any_sort=True) as server:
        check_full_walk(server, walk_con, "walk", sort, per_page)


@pytest.mark.parametrize("sort", ["t", "-t", "n,-r", "-r,t,-n", "s,t,n,r", "bl,-t", "-bl"])
def test_walks_over_null_heavy_columns(walk_server, walk_con, sort):
    check_full_walk(walk_server, walk_con, "walk", sort, 9)


@pytest.mark.sqlite_only  # storage classes mixed in one column are SQLite's
@pytest.mark.parametrize("sort", ["m", "-m", "m,-s", "-s,m,-id"])
def test_walks_over_a_sqlite_column_of_mixed_storage_classes(walk_server, walk_con, sort):
    check_full_walk(walk_server, walk_con, "walk", sort, 8)


def test_parallel_clients_see_the_same_pages(walk_server, walk_db):
    """Eight clients walking at once (the server has worker threads) each get exact pages."""
    sorts = ["t,-n", "-r", "s,m", "-t,r", "n", "-id", "m", "-s,n"]
    errors = []

    def walker(sort):
        con = connect_db(walk_db)
        try:
            want = expected_rows(con, "walk", sort)
            for _ in range(2):
                pages = walk_next(walk_server, api("walk", sort=sort, per_page=9), 40)
                assert_rows([row for p in pages for row in p["data"]], want, sort)
        except BaseException as e:  # reported below
            errors.append(f"{sort}: {e}")
        finally:
            con.close()

    threads = [threading.Thread(target=walker, args=(sort,)) for sort in sorts]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    hung = [sort for sort, t in zip(sorts, threads) if t.is_alive()]
    assert not hung, f"walkers still running after 120 s: {hung}"
    assert not errors, "\n".join(errors)


def test_demo_events_walk_with_many_equal_timestamps(demo_server, demo_con):
    for sort in ("created_at", "-created_at,-id", "kind,-created_at"):
        check_full_walk(demo_server, demo_con, "events", sort, 100)


def test_demo_items_walk_with_null_categories(demo_server, demo_con):
    for sort in ("category,price", "-category,name"):
        check_full_walk(demo_server, demo_con, "items", sort, 100)


# --- other primary keys ----------------------------------------------------------------

@pytest.fixture(scope="module")
def keys_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("keys") / "keys.db"
    make_db(path, """
        CREATE TABLE plain(x TEXT, y INTEGER);
        CREATE TABLE coded(code TEXT PRIMARY KEY, n INTEGER, note TEXT);
        CREATE TABLE compact(code TEXT PRIMARY KEY, n INTEGER) WITHOUT ROWID;
    """)
    rng = random.Random(7)
    con = connect_db(path)
    con.executemany("INSERT INTO plain VALUES (?, ?)",
                    [(rng.choice([None, "p", "q", "r"]), rng.choice([None, 1, 2, 3]))
                     for _ in range(180)])
    con.execute("DELETE FROM plain WHERE rowid % 7 = 3")  # gaps in the rowids
    codes = set()
    alphabet = ["a", "A", "b", " ", "é", "z", "0", "-", "~", "\u4e2d", "\U0001f600", ",", "="]
    while len(codes) < 150:
        n = rng.choice([1, 2, 3, 8, 60])
        codes.add("".join(rng.choice(alphabet) for _ in range(n)))
    codes = sorted(codes)
    rng.shuffle(codes)  # rowid order differs from primary key order
    for table in ("coded", "compact"):
        for code in codes:
            n = rng.choice([None, 1, 2, 3])
            if table == "coded":
                con.execute("INSERT INTO coded VALUES (?, ?, ?)", (code, n, rng.choice([None, "u", "v"])))
            else:
                con.execute("INSERT INTO compact VALUES (?, ?)", (code, n))
    con.commit()
    con.close()
    return path


@pytest.fixture(scope="module")
def keys_con(keys_db):
    yield from db_fixture(keys_db)


@pytest.fixture(scope="module")
def keys_server(module_spawn, keys_db):
    return module_spawn(keys_db, any_sort=True)  # unindexed sorts on purpose


@pytest.mark.parametrize("sort", [None, "x", "-y,x", "-x,-y"])
def test_rowid_table_without_primary_key_walks_in_rowid_order(keys_server, keys_con, sort):
    check_full_walk(keys_server, keys_con, "plain", sort, 11)


@pytest.mark.parametrize("sort", [None, "-code", "n", "-n,note", "note,-n,code"])
def test_text_primary_key_table_walks(keys_server, keys_con, sort):
    check_full_walk(keys_server, keys_con, "coded", sort, 12)


@pytest.mark.parametrize("sort", [None, "-code", "n", "-n"])
def test_without_rowid_table_walks(keys_server, keys_con, sort):
    check_full_walk(keys_server, keys_con, "compact", sort, 13)


# --- a walk during concurrent writes ----------------------------------------------------

class Writer(WriterThread):
    """Inserts and deletes rows (never updates) on its own WAL connection until stopped."""

    def __init__(self, path, original_ids):
        super().__init__(path, seed=99, pause=0.002)
        self.alive_ids = list(original_ids)
        self.deleted = set()

    def step(self, con, rng):
        with con:
            for _ in range(rng.randint(1, 3)):
                cur = con.execute(LIVE_INSERT, live_row(rng))
                self.alive_ids.append(cur.lastrowid)
            victim = self.alive_ids.pop(rng.randrange(len(self.alive_ids)))
            con.execute("DELETE FROM live WHERE id = ?", (victim,))
        # recorded only after the commit (and before ops counts it), so `deleted` never
        # misses a gone row
        self.deleted.add(victim)


@pytest.fixture
def live_db(backend, tmp_path):
    return make_live_db(tmp_path / "live.db",
                        "CREATE TABLE live(id INTEGER PRIMARY KEY AUTOINCREMENT, "
                        "grp INTEGER NOT NULL, label TEXT);", rows=600, seed=3, backend=backend)


def ids_of(pages):
    return [row["id"] for p in pages for row in p["data"]]


@pytest.mark.parametrize("sort", [None, "grp", "-grp,label"])
def test_walk_during_writes_returns_every_surviving_row_once(spawn, live_db, sort):
    server = spawn(live_db, any_sort=True)  # unindexed sorts on purpose
    original = list(range(1, 601))
    writer = Writer(str(live_db), original)
    writer.start()
    try:
        writer.wait_for_ops(5)
        ops_before = writer.ops
        let_writer_act = writer.wait_for_next_commit
        forward = walk_next(server, api("live", sort=sort, per_page=17), 500, let_writer_act)
        last = forward[-1]
        backward = ([last] + walk_prev(server, last["links"]["prev"], 500, let_writer_act)
                    if last["links"]["prev"] else [last])
        ops_during = writer.ops - ops_before
    finally:
        writer.stop()
    assert writer.error is None, f"writer failed: {writer.error!r}"
    assert ops_during > 0, "the writer made no change during the walk; the test proves nothing"
    survivors = set(original) - writer.deleted
    for name, pages in (("forward", forward), ("backward", backward)):
        ids = ids_of(pages)
        dups = sorted({i for i in ids if ids.count(i) > 1})
        assert not dups, f"{name} walk (sort={sort}) returned ids twice: {dups[:20]}"
        missing = sorted(survivors - set(ids))
        assert not missing, f"{name} walk (sort={sort}) skipped rows that were never deleted: {missing[:20]}"
