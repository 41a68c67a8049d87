"""Authentication: API keys (`folio keys`), JWT bearer tokens, 401/403 problems, the keys
file's protection, revocation on SIGHUP, per-key rate limits, /healthz and /metrics."""
import os
import signal
import stat
import time

import pytest

from folio_api import assert_problem
from folio_auth import (AUDIENCE, ISSUER, AuthServer, bearer, ec_keypair, forged, hs256,
                        keys_add, make_tenant_db, rsa_keypair, run_folio, signed, write)
from folio_ops import parse_metrics, wait_for
from folio_server import make_secret

CHALLENGE = 'Bearer realm="folio"'
INVALID = 'Bearer realm="folio", error="invalid_token"'
SCOPE = 'Bearer realm="folio", error="insufficient_scope"'
UNAUTHORIZED_DETAIL = "this resource needs a valid credential: Authorization: Bearer <token>"

CONFIG = f"""
[auth]
mode = "api_key"
keys_file = "keys"
keys_secret_file = "keys.secret"
jwt_issuer = "{ISSUER}"
jwt_audience = "{AUDIENCE}"
jwt_leeway = 5
metrics_token_file = "metrics.token"

[[auth.jwt_keys]]
kid = "hs"
alg = "HS256"
file = "hs.key"

[[auth.jwt_keys]]
kid = "rsa"
alg = "RS256"
file = "rsa.pub"

[[auth.jwt_keys]]
kid = "ec"
alg = "ES256"
file = "ec.pub"

[[endpoint]]
path = "/orders"
table = "orders"

[[endpoint]]
path = "/reports"
table = "orders"

[[endpoint]]
path = "/jwt/orders"
table = "orders"
auth = "jwt"

[[endpoint]]
path = "/public"
table = "orders"
auth = "none"
"""


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    d = tmp_path_factory.mktemp("auth")
    db = make_tenant_db(d / "t.db")
    config = write(d / "folio.toml", CONFIG)
    make_secret(d / "hs.key")
    write(d / "metrics.token", "metrics-token-0123456789\n")
    rsa = rsa_keypair(str(d))
    ec = ec_keypair(str(d))
    keys = {
        "all": keys_add(config, "all"),
        "reports": keys_add(config, "reports-only", "--endpoints", "/reports"),
    }
    srv = AuthServer(db, extra_args=["--config", config], workdir=str(d))
    srv.start()
    yield {"dir": d, "db": db, "config": config, "srv": srv, "keys": keys, "rsa": rsa, "ec": ec}
    srv.stop()


def assert_401(resp, challenge, what=""):
    body = assert_problem(resp, 401, detail=UNAUTHORIZED_DETAIL, what=what)
    assert resp.headers.get("WWW-Authenticate") == challenge, f"{what}: {resp.headers}"
    assert body["type"].endswith("/unauthorized"), body
    return body


def assert_403(resp, what=""):
    body = assert_problem(resp, 403, detail="the credential given may not read this resource",
                          what=what)
    assert resp.headers.get("WWW-Authenticate") == SCOPE, f"{what}: {resp.headers}"
    return body


# --- API keys ------------------------------------------------------------------------


def test_missing_credential_gets_401_with_a_bearer_challenge(env):
    srv = env["srv"]
    for path in ("/orders", "/reports?per_page=1", "/", "/api/orders"):
        assert_401(srv.get(path), CHALLENGE, path)


def test_every_bad_credential_gets_the_same_401(env):
    srv = env["srv"]
    good = env["keys"]["all"]
    bad = {
        "unknown key": "Bearer fk_" + "A" * 43,
        "key with a byte changed": "Bearer " + good[:-1] + ("A" if good[-1] != "A" else "B"),
        "Basic scheme": "Basic " + good,
        "empty bearer": "Bearer ",
        "no space": "Bearer" + good,
        "two tokens": f"Bearer {good} {good}",
        "not token68": "Bearer fk_a\"b",
        "JWT on an API-key endpoint": "Bearer " + hs256(env["dir"] / "hs.key", tenant="acme"),
    }
    bodies = set()
    for what, value in bad.items():
        r = srv.get("/orders", {"Authorization": value})
        body = assert_401(r, INVALID, what)
        bodies.add(r.body)
        assert "key" not in body["detail"].lower().replace("bearer", ""), body
    assert len(bodies) == 1, "a 401 body says which check failed"


def test_valid_key_reads_and_anonymous_endpoint_stays_open(env):
    srv = env["srv"]
    r = srv.get("/orders?per_page=3", bearer(env["keys"]["all"]))
    assert r.status == 200, r
    assert [row["id"] for row in r.json()["data"]] == [1, 2, 3]
    r = srv.get("/public?per_page=2")
    assert r.status == 200, r


def test_key_outside_its_endpoints_gets_403(env):
    srv = env["srv"]
    key = env["keys"]["reports"]
    assert srv.get("/reports?per_page=1", bearer(key)).status == 200
    assert_403(srv.get("/orders?per_page=1", bearer(key)), "a key limited to /reports")
    assert_403(srv.get("/api/orders", bearer(key)), "an automatic endpoint")


def test_keys_file_holds_only_keyed_hashes_with_mode_0600(env):
    d = env["dir"]
    text = (d / "keys").read_text()
    for key in env["keys"].values():
        assert key not in text and key[3:] not in text
    assert stat.S_IMODE(os.stat(d / "keys").st_mode) == 0o600
    assert stat.S_IMODE(os.stat(d / "keys.secret").st_mode) == 0o600
    _rc, out, _err = run_folio("keys", "list", "--config", env["config"])
    assert out.splitlines() == ["all\tendpoints=*", "reports-only\tendpoints=/reports"]
    for key in env["keys"].values():
        assert key not in out


def test_keys_file_readable_by_group_is_refused(tmp_path):
    db = make_tenant_db(tmp_path / "t.db", rows=10)
    config = write(tmp_path / "folio.toml", '[auth]\nmode = "api_key"\nkeys_file = "keys"\n'
                                             'keys_secret_file = "keys.secret"\n')
    keys_add(config, "k1")
    os.chmod(tmp_path / "keys", 0o640)
    rc, _out, err = run_folio("serve", db, "--config", config, "--listen", "127.0.0.1:1",
                              check=False)
    assert rc == 2, err
    assert "accessible by group or others" in err and "chmod 600" in err, err


def test_revoked_key_stops_working_after_sighup(tmp_path):
    db = make_tenant_db(tmp_path / "t.db", rows=10)
    config = write(tmp_path / "folio.toml", '[auth]\nmode = "api_key"\nkeys_file = "keys"\n'
                                             'keys_secret_file = "keys.secret"\n')
    keep, gone = keys_add(config, "keep"), keys_add(config, "gone")
    srv = AuthServer(db, extra_args=["--config", config], workdir=str(tmp_path))
    with srv:
        assert srv.get("/api/orders", bearer(gone)).status == 200
        run_folio("keys", "revoke", "gone", "--config", config)
        assert srv.get("/api/orders", bearer(gone)).status == 200, "read before the SIGHUP"
        srv.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: "reloaded" in srv.stderr_text(), what="the reload")
        assert_401(srv.get("/api/orders", bearer(gone)), INVALID, "a revoked key")
        assert srv.get("/api/orders", bearer(keep)).status == 200
        added = keys_add(config, "added")
        assert_401(srv.get("/api/orders", bearer(added)), INVALID, "not yet reloaded")
        srv.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: srv.stderr_text().count("reloaded") >= 2, what="the second reload")
        assert srv.get("/api/orders", bearer(added)).status == 200


def test_each_key_has_its_own_rate_bucket(tmp_path):
    db = make_tenant_db(tmp_path / "t.db", rows=10)
    config = write(tmp_path / "folio.toml", '[auth]\nmode = "api_key"\nkeys_file = "keys"\n'
                                             'keys_secret_file = "keys.secret"\n'
                                             '[rate_limit]\nrate = 0.001\nburst = 3\n')
    slow = keys_add(config, "slow", "--rate", "0.001", "--burst", "2")
    other = keys_add(config, "other")
    srv = AuthServer(db, extra_args=["--config", config], workdir=str(tmp_path))
    with srv:
        got = [srv.get("/api/orders", bearer(slow)) for _ in range(3)]
        assert [r.status for r in got] == [200, 200, 429], got
        assert got[0].headers["RateLimit-Limit"] == "2"
        assert_problem(got[2], 429)
        # Same address, another key: its own bucket (the server's limit, 3).
        got = [srv.get("/api/orders", bearer(other)) for _ in range(4)]
        assert [r.status for r in got] == [200, 200, 200, 429], got
        # The address's bucket (3) was spent by neither key: only by the start-up probe
        # (GET /) and this request.
        r = srv.get("/api/orders")
        assert_401(r, CHALLENGE)
        assert r.headers["RateLimit-Remaining"] == "1", r.headers


def test_healthz_and_metrics_spend_no_tokens(tmp_path):
    db = make_tenant_db(tmp_path / "t.db", rows=10)
    # burst 2: the start-up probe (GET /) spends one
    srv = AuthServer(db, extra_args=["--rate", "0.001", "--burst", "2"], workdir=str(tmp_path))
    with srv:
        for _ in range(5):
            assert srv.get("/healthz").status == 200
            assert srv.get("/metrics").status == 200
        assert srv.get("/api/orders").status == 200, "the client's one token is still there"
        assert srv.get("/api/orders").status == 429


# --- /metrics ----------------------------------------------------------------------------


def test_metrics_wants_its_own_token(env):
    srv = env["srv"]
    assert_401(srv.get("/metrics"), CHALLENGE, "no token")
    assert_401(srv.get("/metrics", bearer(env["keys"]["all"])), INVALID, "an API key")
    r = srv.get("/metrics", bearer("metrics-token-0123456789"))
    assert r.status == 200, r
    assert "folio_http_requests_total" in r.body.decode()
    assert srv.get("/healthz").status == 200, "/healthz stays open"


def test_metrics_listen_serves_metrics_apart(tmp_path):
    from folio_server import free_port
    db = make_tenant_db(tmp_path / "t.db", rows=10)
    port = free_port()
    config = write(tmp_path / "folio.toml", f'[server]\nmetrics_listen = "127.0.0.1:{port}"\n')
    srv = AuthServer(db, extra_args=["--config", config], workdir=str(tmp_path))
    with srv:
        assert_problem(srv.get("/metrics"), 404)
        import http.client
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", "/metrics")
        r = conn.getresponse()
        text = r.read().decode()
        conn.close()
        assert r.status == 200
        counts = parse_metrics(text)
        assert sum(v for k, v in counts.items() if k.startswith("folio_http_requests_total")) >= 2
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", "/api/orders")
        r = conn.getresponse()
        r.read()
        conn.close()
        assert r.status == 404, "only /metrics and /healthz there"


# --- JWT -------------------------------------------------------------------------------


def jwt_get(env, token, path="/jwt/orders?per_page=2"):
    return env["srv"].get(path, bearer(token))


def test_jwt_signed_with_each_configured_key_is_accepted(env):
    d = env["dir"]
    for what, token in {
        "HS256": hs256(d / "hs.key"),
        "RS256": signed(env["rsa"][0], "RS256", "rsa"),
        "ES256": signed(env["ec"][0], "ES256", "ec"),
        "aud as a list": hs256(d / "hs.key", aud=["other", AUDIENCE]),
        "expired within the leeway": hs256(d / "hs.key", exp=int(time.time()) - 2),
    }.items():
        r = jwt_get(env, token)
        assert r.status == 200, f"{what}: {r!r}"


def test_every_refused_jwt_gets_the_same_401(env):
    d = env["dir"]
    now = int(time.time())
    with open(env["rsa"][1], "rb") as f:
        rsa_pub = f.read()
    with open(d / "hs.key", "rb") as f:
        hs_secret = f.read()
    payload = {"sub": "x", "iss": ISSUER, "aud": AUDIENCE, "exp": now + 600}
    token = hs256(d / "hs.key")
    head, body, sig = token.split(".")
    refused = {
        "expired": hs256(d / "hs.key", exp=now - 60),
        "not yet valid": hs256(d / "hs.key", nbf=now + 60),
        "wrong audience": hs256(d / "hs.key", aud="someone-else"),
        "wrong issuer": hs256(d / "hs.key", iss="https://evil.test"),
        "no exp": hs256(d / "hs.key", exp=None),
        "bad signature": f"{head}.{body}.{sig[:-4]}AAAA",
        "payload swapped": f"{head}.{hs256(d / 'hs.key', sub='admin').split('.')[1]}x.{sig}",
        "alg none": forged({"alg": "none", "kid": "hs"}, payload),
        "alg none, no kid": forged({"alg": "none"}, payload),
        "HS256 against the RSA key": forged({"alg": "HS256", "kid": "rsa"}, payload, rsa_pub),
        "RS256 token under the HS256 kid": signed(env["rsa"][0], "RS256", "hs"),
        "unknown kid": forged({"alg": "HS256", "kid": "nope"}, payload, hs_secret),
        "no kid with several keys": forged({"alg": "HS256"}, payload, hs_secret),
        "crit header": forged({"alg": "HS256", "kid": "hs", "crit": ["x"]}, payload, hs_secret),
        "two segments": f"{head}.{body}",
        "four segments": f"{token}.{sig}",
        "an API key": env["keys"]["all"],
    }
    bodies = set()
    for what, tok in refused.items():
        r = jwt_get(env, tok)
        assert_401(r, INVALID, what)
        bodies.add(r.body)
    assert len(bodies) == 1
    # The forgery above is a correct HMAC: only the pinned algorithm stops it.
    good = forged({"alg": "HS256", "kid": "hs"}, payload, hs_secret)
    assert jwt_get(env, good).status == 200


def test_config_refuses_a_private_key_and_unknown_algorithm(tmp_path):
    priv, _pub = rsa_keypair(str(tmp_path))
    for text, want in [
        (f'[[auth.jwt_keys]]\nalg = "RS256"\nfile = "{priv}"\n', "private key"),
        ('[[auth.jwt_keys]]\nalg = "none"\nfile = "x"\n', "HS256"),
        ('[auth]\nmode = "jwt"\n', "jwt_keys"),
        ('[auth]\nmode = "api_key"\n', "keys_file"),
    ]:
        config = write(tmp_path / "bad.toml", text)
        rc, _out, err = run_folio("check-config", config, check=False)
        assert rc == 2 and want in err, (text, err)


def test_check_config_writes_the_auth_settings_without_secrets_and_reads_them_back(env):
    _rc, first, _err = run_folio("check-config", env["config"], env["db"])
    for line in ('mode = "api_key"', 'jwt_audience = "folio-tests"', 'alg = "ES256"',
                 'auth = "jwt"', 'auth = "none"', "require_auth_off_loopback = false"):
        assert line + "\n" in first, line
    with open(env["dir"] / "hs.key", "rb") as f:
        assert f.read().hex() not in first.encode().hex()
    for key in env["keys"].values():
        assert key not in first
    again = write(env["dir"] / "effective.toml", first)
    _rc, second, _err = run_folio("check-config", again, env["db"])
    assert first.split("\n", 1)[1] == second.split("\n", 1)[1]


def test_binary_secrets_ending_in_a_newline_byte_are_used_whole(tmp_path):
    """One random secret in 256 ends in 0x0a: HS256 and the keys secret must still match
    what the token issuer and `folio keys` used."""
    db = make_tenant_db(tmp_path / "t.db", rows=5)
    write(tmp_path / "hs.key", os.urandom(40) + b"\n")
    write(tmp_path / "keys.secret", os.urandom(31) + b"\n")
    config = write(tmp_path / "folio.toml",
                   '[auth]\nmode = "jwt"\nkeys_file = "keys"\nkeys_secret_file = "keys.secret"\n'
                   '[[auth.jwt_keys]]\nkid = "hs"\nalg = "HS256"\nfile = "hs.key"\n'
                   '[[endpoint]]\npath = "/k"\ntable = "orders"\nauth = "api_key"\n'
                   '[[endpoint]]\npath = "/j"\ntable = "orders"\n')
    key = keys_add(config, "k")
    srv = AuthServer(db, extra_args=["--config", config], workdir=str(tmp_path))
    with srv:
        assert srv.get("/k", bearer(key)).status == 200
        assert srv.get("/j", bearer(hs256(tmp_path / "hs.key"))).status == 200


def test_a_token_verified_before_is_still_refused_once_it_expires(tmp_path):
    """Verified signatures are remembered (docs/security.md); exp never is."""
    db = make_tenant_db(tmp_path / "t.db", rows=5)
    make_secret(tmp_path / "hs.key")
    config = write(tmp_path / "folio.toml",
                   '[auth]\nmode = "jwt"\njwt_leeway = 0\n'
                   '[[auth.jwt_keys]]\nkid = "hs"\nalg = "HS256"\nfile = "hs.key"\n')
    srv = AuthServer(db, extra_args=["--config", config], workdir=str(tmp_path))
    with srv:
        exp = int(time.time()) + 2
        token = hs256(tmp_path / "hs.key", exp=exp)
        assert srv.get("/api/orders", bearer(token)).status == 200
        assert srv.get("/api/orders", bearer(token)).status == 200
        while time.time() < exp + 0.2:
            time.sleep(0.1)
        assert_401(srv.get("/api/orders", bearer(token)), INVALID, "expired since")
