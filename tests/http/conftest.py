"""Fixtures for the black-box HTTP tests: a demo database per session, servers on free ports.

Every server a fixture starts is stopped at teardown with SIGTERM; a non-zero exit, a hang
or a sanitizer report in its stderr fails the test that used it (see folio_server.stop)."""

import os
import tempfile

import pytest
from hypothesis.configuration import set_hypothesis_home_dir

# Hypothesis caches (e.g. its character map) go to /tmp, not into the source tree.
set_hypothesis_home_dir(os.path.join(tempfile.gettempdir(), f"folio-hypothesis-{os.getuid()}"))

from folio_server import FolioServer, db_fixture, folio_bin, make_demo, make_secret

DEMO_ROWS = 3000


@pytest.fixture(scope="session")
def folio():
    """Path of the binary under test; fails (not skips) when FOLIO_BIN is missing."""
    try:
        return folio_bin()
    except RuntimeError as e:
        pytest.fail(str(e))


@pytest.fixture(scope="session")
def demo_db(folio, tmp_path_factory):
    """The demo database made by `folio demo --rows 3000`; tests must not write to it."""
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    return make_demo(path, DEMO_ROWS)


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
