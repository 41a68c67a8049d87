"""Tenant scoping: an endpoint's rows, totals, cursors, deep offsets and cached (also
prefetched) pages are the principal's own: from a JWT claim or an API key's value."""
import json

import pytest

from folio_api import assert_problem
from folio_auth import (AUDIENCE, ISSUER, TENANTS, AuthServer, bearer, hs256, keys_add,
                        make_tenant_db, run_folio, tenant_ids, write)
from folio_ops import parse_metrics, wait_for
from folio_server import make_secret

ROWS = 600

CONFIG = f"""
[auth]
mode = "jwt"
jwt_issuer = "{ISSUER}"
jwt_audience = "{AUDIENCE}"
keys_file = "keys"
keys_secret_file = "keys.secret"

[[auth.jwt_keys]]
kid = "hs"
alg = "HS256"
file = "hs.key"

[pagination]
max_offset = 0

[[endpoint]]
path = "/orders"
table = "orders"
filterable = ["tenant", "amount"]
scope = {{ tenant = "claims.tenant" }}
prefetch = true
export = true

[[endpoint]]
path = "/counted"
table = "orders"
count = "exact"
prefetch = false
scope = {{ tenant = "claims.org.id" }}

[[endpoint]]
path = "/by-key"
table = "orders"
auth = "api_key"
scope = {{ tenant = "key.tenant" }}
"""


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    d = tmp_path_factory.mktemp("scope")
    db = make_tenant_db(d / "t.db", rows=ROWS)
    config = write(d / "folio.toml", CONFIG)
    key = make_secret(d / "hs.key")
    keys = {t: keys_add(config, "k-" + t, "--value", f"tenant={t}") for t in TENANTS[:2]}
    keys["none"] = keys_add(config, "k-none")
    srv = AuthServer(db, extra_args=["--config", config], workdir=str(d))
    srv.start()
    tokens = {t: hs256(key, tenant=t, org={"id": t}) for t in TENANTS}
    yield {"srv": srv, "tokens": tokens, "keys": keys, "hs": key, "config": config, "db": db}
    srv.stop()


def walk(srv, headers, path):
    """Every row of a walk by the `next` links, each page with `headers`."""
    ids, url = [], path
    for _ in range(ROWS + 2):
        r = srv.get(url, headers)
        assert r.status == 200, r
        body = r.json()
        ids += [row["id"] for row in body["data"]]
        for row in body["data"]:
            assert set(row) >= {"id", "tenant"}
        url = body["links"]["next"]
        if url is None:
            return ids
    raise AssertionError("the walk did not end")


def test_scoped_walk_visits_exactly_the_tenants_rows(env):
    srv = env["srv"]
    for t in TENANTS:
        assert walk(srv, bearer(env["tokens"][t]), "/orders?per_page=37") == tenant_ids(t, ROWS)
        backward = walk(srv, bearer(env["tokens"][t]), "/orders?per_page=41&sort=-id")
        assert backward == sorted(tenant_ids(t, ROWS), reverse=True)


def test_a_filter_cannot_widen_the_scope(env):
    srv = env["srv"]
    r = srv.get("/orders?tenant=eq.globex", bearer(env["tokens"]["acme"]))
    assert r.status == 200 and r.json()["data"] == [], r
    r = srv.get("/orders?tenant=neq.acme&per_page=5", bearer(env["tokens"]["acme"]))
    assert r.status == 200 and r.json()["data"] == [], r


def test_cursor_minted_for_one_tenant_is_refused_for_another(env):
    srv = env["srv"]
    a, b = bearer(env["tokens"]["acme"]), bearer(env["tokens"]["globex"])
    body = srv.get_json("/orders?per_page=5&sort=amount", a)
    nxt = body["links"]["next"]
    assert srv.get(nxt, a).status == 200
    for url in (nxt, body["links"]["next"].replace("after=", "before=")):
        r = srv.get(url, b)
        assert r.status == 400, r
        if "after=" in url:
            assert_problem(r, 400, param="after", detail_contains="does not belong to this query")
    # The same tenant through an API key on another endpoint of the same table: the same
    # query (table, sort, scope), so the same cursor serves the same rows.
    r = srv.get(nxt.replace("/orders", "/by-key"), bearer(env["keys"]["acme"]))
    assert r.status == 200 and r.json()["data"] == srv.get_json(nxt, a)["data"], r


def test_an_export_streams_only_the_tenants_rows_and_its_cursors_stay_its_own(env):
    srv = env["srv"]
    a, b = bearer(env["tokens"]["acme"]), bearer(env["tokens"]["globex"])
    for t in TENANTS:
        r = srv.get("/orders/export?format=ndjson", bearer(env["tokens"][t]))
        assert r.status == 200, r
        lines = [json.loads(x) for x in r.body.decode().splitlines()]
        assert [x["id"] for x in lines if "id" in x] == tenant_ids(t, ROWS)
        assert lines[-1].get("@more") is False
    r = srv.get("/orders/export?format=csv&tenant=eq.globex", a)
    assert r.status == 200 and r.body.decode().splitlines()[1:] == [], r
    # A checkpoint cursor of acme's export resumes acme's export only.
    r = srv.get("/orders/export?format=ndjson", a)
    cursor = next(json.loads(x)["@next"] for x in r.body.decode().splitlines()
                  if "@next" in json.loads(x))
    assert srv.get(f"/orders/export?after={cursor}", a).status == 200
    assert_problem(srv.get(f"/orders/export?after={cursor}", b), 400, param="after",
                   detail_contains="does not belong to this query")
    assert srv.get("/orders/export").status == 401


def test_missing_scope_claim_or_value_is_403(env):
    srv = env["srv"]
    r = srv.get("/orders", bearer(hs256(env["hs"])))
    assert_problem(r, 403)
    r = srv.get("/counted", bearer(hs256(env["hs"], tenant="acme", org={"id": ["acme"]})))
    assert_problem(r, 403)
    r = srv.get("/by-key", bearer(env["keys"]["none"]))
    assert_problem(r, 403)


def test_api_key_values_scope_the_rows(env):
    srv = env["srv"]
    for t in TENANTS[:2]:
        assert walk(srv, bearer(env["keys"][t]), "/by-key?per_page=50") == tenant_ids(t, ROWS)


def test_totals_are_counted_per_tenant(env):
    srv = env["srv"]
    for _ in range(2):  # the second time from the totals cache
        for t in TENANTS:
            r = srv.get("/counted?per_page=3&page=2", bearer(env["tokens"][t]))
            assert r.status == 200, r
            assert r.headers["X-Total-Count"] == str(len(tenant_ids(t, ROWS)))
            assert [row["id"] for row in r.json()["data"]] == tenant_ids(t, ROWS)[3:6]


def test_deep_offsets_through_the_hybrid_index_stay_in_scope(env):
    srv = env["srv"]
    for _ in range(2):  # the second time through the boundary index built the first
        for t in TENANTS:
            ids = tenant_ids(t, ROWS)
            r = srv.get("/counted?per_page=10&offset=150", bearer(env["tokens"][t]))
            assert r.status == 200, r
            assert [row["id"] for row in r.json()["data"]] == ids[150:160]


def prefetched(srv, before):
    m = parse_metrics(srv.get("/metrics").body.decode())
    return m["folio_prefetch_started_total"] > before and m["folio_prefetch_cache_bytes"] > 0


def test_pages_cached_or_prefetched_for_one_tenant_are_never_served_to_another(env):
    srv = env["srv"]
    a, b = bearer(env["tokens"]["acme"]), bearer(env["tokens"]["globex"])
    # Numbered pages: the very same URL for both tenants.
    started = parse_metrics(srv.get("/metrics").body.decode())["folio_prefetch_started_total"]
    first = srv.get_json("/orders?per_page=20&page=1", a)
    assert first["links"]["next"] == "/orders?per_page=20&page=2"
    wait_for(lambda: prefetched(srv, started), what="the prefetch of acme's next page")
    hits = parse_metrics(srv.get("/metrics").body.decode())["folio_prefetch_hits_total"]
    got_a = srv.get_json("/orders?per_page=20&page=2", a)
    m = parse_metrics(srv.get("/metrics").body.decode())
    assert m["folio_prefetch_hits_total"] == hits + 1, "acme's page 2 came from the prefetch"
    assert [row["id"] for row in got_a["data"]] == tenant_ids("acme", ROWS)[20:40]
    for t in ("globex", "initech"):
        got = srv.get_json("/orders?per_page=20&page=2", bearer(env["tokens"][t]))
        assert [row["id"] for row in got["data"]] == tenant_ids(t, ROWS)[20:40], t
    # ... and a page cached for acme by its own request (page 1) is acme's only.
    got_b = srv.get_json("/orders?per_page=20&page=1", b)
    assert [row["id"] for row in got_b["data"]] == tenant_ids("globex", ROWS)[:20]
    # Cursor pages: the next page prefetched for acme, then its URL replayed by globex.
    started = parse_metrics(srv.get("/metrics").body.decode())["folio_prefetch_started_total"]
    nxt = srv.get_json("/orders?per_page=25&sort=-amount", a)["links"]["next"]
    wait_for(lambda: prefetched(srv, started), what="the prefetch of acme's cursor page")
    r = srv.get(nxt, b)
    assert_problem(r, 400, param="after", detail_contains="does not belong to this query")
    assert srv.get(nxt, a).status == 200


def test_scope_is_checked_against_the_schema(tmp_path):
    db = make_tenant_db(tmp_path / "t.db", rows=5)
    make_secret(tmp_path / "hs.key")
    base = '[auth]\nmode = "jwt"\n[[auth.jwt_keys]]\nalg = "HS256"\nfile = "hs.key"\n'
    for endpoint, want in [
        ('scope = { nope = "claims.tenant" }', "unknown column 'nope'"),
        ('scope = { tenant = "key.tenant" }', "claims.PATH"),
        ('scope = { tenant = "tenant" }', "expected \"claims.PATH\""),
        ('scope = { tenant = "claims.tenant" }\nauth = "none"', "needs a principal"),
        ('scope = { tenant = "claims.tenant" }\nstyle = "tutorial-offset"', "style \"folio\""),
    ]:
        config = write(tmp_path / "bad.toml",
                       base + f'[[endpoint]]\npath = "/o"\ntable = "orders"\n{endpoint}\n')
        rc, _out, err = run_folio("check-config", config, db, check=False)
        assert rc == 2 and want in err, (endpoint, err)
