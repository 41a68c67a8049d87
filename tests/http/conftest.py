"""Fixtures for the black-box HTTP tests: a demo database per session, servers on free ports.

Every server a fixture starts is stopped at teardown with SIGTERM; a non-zero exit, a hang
or a sanitizer report in its stderr fails the test that used it (see folio_server.stop).

One suite, two backends: every test that uses the `backend` fixture (directly or through
demo_db, demo_con, demo_server or a module's own database fixture) runs once on SQLite and
once on PostgreSQL (a throwaway server from tests/support/folio_pg.py, one per test process,
stopped at the end of the session). A test marked @pytest.mark.sqlite_only (a SQLite plan
string, rowid tables, SQLite file specifics) runs on SQLite alone. The reference answers
come from the database itself (sqlite3, or psycopg2 through folio_pg.PgCon), so ORDER BY
semantics (NULL placement, collation) are each backend's own."""

import os
import pathlib
import tempfile

import pytest
from hypothesis.configuration import set_hypothesis_home_dir

# Hypothesis caches (e.g. its character map) go to /tmp, not into the source tree.
set_hypothesis_home_dir(os.path.join(tempfile.gettempdir(), f"folio-hypothesis-{os.getuid()}"))

from folio_server import FolioServer, db_fixture, folio_bin, make_demo, make_secret

DEMO_ROWS = 3000
BACKENDS = ("sqlite", "pg")
REPO = pathlib.Path(__file__).resolve().parents[2]
# Until src/db/db_pg.c is merged, `folio serve postgresql://...` cannot work: the pg half
# is skipped, saying so. Once the file exists, nothing is skipped.
PG_BACKEND_MERGED = (REPO / "src" / "db" / "db_pg.c").exists()


def pytest_configure(config):
    config.addinivalue_line("markers", "sqlite_only: the test checks SQLite specifics; it "
                            "runs on the sqlite backend only")


def pytest_generate_tests(metafunc):
    if "backend" in metafunc.fixturenames:
        only = metafunc.definition.get_closest_marker("sqlite_only")
        params = ["sqlite"] if only else list(BACKENDS)
        metafunc.parametrize("backend", params, indirect=True, scope="session")


@pytest.fixture(scope="session")
def pg_cluster():
    """The test process's PostgreSQL server, stopped at the end of the session."""
    import folio_pg
    try:
        yield folio_pg.cluster()
    finally:
        folio_pg.shutdown()


@pytest.fixture(scope="session")
def backend(request):
    """"sqlite" or "pg" (parametrized by pytest_generate_tests)."""
    name = getattr(request, "param", "sqlite")
    if name == "pg":
        if not PG_BACKEND_MERGED:
            pytest.skip("the PostgreSQL backend (src/db/db_pg.c) is not merged yet")
        request.getfixturevalue("pg_cluster")
    return name


@pytest.fixture(scope="session")
def folio():
    """Path of the binary under test; fails (not skips) when FOLIO_BIN is missing."""
    try:
        return folio_bin()
    except RuntimeError as e:
        pytest.fail(str(e))


@pytest.fixture(scope="session")
def demo_db(folio, backend, tmp_path_factory):
    """The demo database made by `folio demo --rows 3000` (a file, or a PostgreSQL URL made
    by `folio demo postgresql://...`); tests must not write to it."""
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    return make_demo(path, DEMO_ROWS, backend)


@pytest.fixture(scope="session")
def demo_con(demo_db):
    yield from db_fixture(demo_db)


@pytest.fixture(scope="session")
def secret_file(tmp_path_factory):
    return make_secret(tmp_path_factory.mktemp("secret") / "secret.key")


class Spawner:
    """Starts servers and stops (and checks) all of them at teardown."""

    def __init__(self, workdir):
        self.workdir = workdir
        self.servers = []

    def __call__(self, db, secret_file=None, extra_args=(), start=True, any_sort=False):
        n = len(self.servers)
        workdir = os.path.join(self.workdir, f"server{n}")
        os.makedirs(workdir, exist_ok=True)
        srv = FolioServer(db, secret_file=secret_file, extra_args=extra_args, workdir=workdir,
                          any_sort=any_sort)
        self.servers.append(srv)
        return srv.start() if start else srv

    def stop_all(self):
        errors = []
        for srv in self.servers:
            try:
                srv.stop()
            except AssertionError as e:
                errors.append(str(e))
        self.servers.clear()
        if errors:
            pytest.fail("\n\n".join(errors), pytrace=False)


@pytest.fixture
def spawn(folio, tmp_path):
    """spawn(db, secret_file=None, extra_args=()) -> started FolioServer, stopped at teardown."""
    sp = Spawner(str(tmp_path))
    yield sp
    sp.stop_all()


@pytest.fixture(scope="module")
def module_spawn(folio, tmp_path_factory):
    sp = Spawner(str(tmp_path_factory.mktemp("servers")))
    yield sp
    sp.stop_all()


@pytest.fixture(scope="module")
def demo_server(module_spawn, demo_db, secret_file):
    """One server on the demo database, shared by the tests of a module. Its auto endpoints
    sort by any column ([api] sortable = "all"): the tests sharing it check the page
    engine over arbitrary sorts; the default (index-led sorts only) is tested in
    test_07_query_limits.py."""
    return module_spawn(demo_db, secret_file=secret_file, any_sort=True)
