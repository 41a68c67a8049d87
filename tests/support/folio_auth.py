"""Helpers for the authentication tests (test_40_*): a multi-tenant database, configs with
[auth], API keys made with `folio keys`, JWTs made with PyJWT (python3-jwt) or by hand (for
the forgeries PyJWT refuses to make), keys and certificates made with openssl."""
import base64
import hashlib
import hmac
import json
import os
import subprocess
import time

import jwt  # python3-jwt

from folio_server import FolioServer, check_sanitizer_output, folio_bin, make_db, sanitizer_env

ISSUER = "https://issuer.test"
AUDIENCE = "folio-tests"
TENANTS = ("acme", "globex", "initech")


def make_tenant_db(path, rows=300):
    """orders(id, tenant, amount, note): row i belongs to TENANTS[i % 3]."""
    values = ",".join(f"({i}, '{TENANTS[i % 3]}', {i * 7 % 101}, 'n{i}')"
                      for i in range(1, rows + 1))
    return make_db(path, "CREATE TABLE orders(id INTEGER PRIMARY KEY, tenant TEXT NOT NULL, "
                         f"amount INTEGER, note TEXT);\nINSERT INTO orders VALUES {values};")


def tenant_ids(tenant, rows=300):
    return [i for i in range(1, rows + 1) if TENANTS[i % 3] == tenant]


def write(path, text, mode=0o600):
    path = str(path)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.write(fd, text.encode() if isinstance(text, str) else text)
    finally:
        os.close(fd)
    os.chmod(path, mode)
    return path


def run_folio(*args, check=True):
    proc = subprocess.run([folio_bin(), *map(str, args)], env=sanitizer_env(),
                          capture_output=True, timeout=60)
    out, err = proc.stdout.decode(), proc.stderr.decode()
    check_sanitizer_output(err, "folio " + str(args[0]))
    if check:
        assert proc.returncode == 0, f"folio {args}: exit {proc.returncode}\n{err}"
    return proc.returncode, out, err


def keys_add(config, name, *options):
    """`folio keys add NAME --config CONFIG OPTIONS...`: the new key (printed once)."""
    _rc, out, _err = run_folio("keys", "add", name, "--config", config, *options)
    key = out.strip()
    assert key.startswith("fk_") and len(key) > 40, out
    return key


def openssl(*args):
    proc = subprocess.run(["openssl", *map(str, args)], capture_output=True, timeout=120)
    assert proc.returncode == 0, proc.stderr.decode()


def rsa_keypair(d, name="rsa"):
    priv, pub = os.path.join(d, f"{name}.pem"), os.path.join(d, f"{name}.pub")
    openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", priv)
    openssl("pkey", "-in", priv, "-pubout", "-out", pub)
    return priv, pub


def ec_keypair(d, name="ec"):
    priv, pub = os.path.join(d, f"{name}.pem"), os.path.join(d, f"{name}.pub")
    openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", priv)
    openssl("pkey", "-in", priv, "-pubout", "-out", pub)
    return priv, pub


def self_signed_cert(d, name="cert"):
    """A self-signed certificate for 127.0.0.1 (subjectAltName IP) and its key."""
    cert, key = os.path.join(d, f"{name}.pem"), os.path.join(d, f"{name}.key")
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
            "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1")
    os.chmod(key, 0o600)
    return cert, key


def claims(tenant=None, **extra):
    now = int(time.time())
    c = {"sub": "user-" + (tenant or "none"), "iss": ISSUER, "aud": AUDIENCE, "iat": now,
         "exp": now + 600}
    if tenant is not None:
        c["tenant"] = tenant
    c.update(extra)
    return {k: v for k, v in c.items() if v is not None}


def hs256(secret_path, kid="hs", **claim_args):
    with open(secret_path, "rb") as f:
        secret = f.read()
    return jwt.encode(claims(**claim_args), secret, algorithm="HS256", headers={"kid": kid})


def signed(private_pem, alg, kid, **claim_args):
    with open(private_pem, "rb") as f:
        key = f.read()
    return jwt.encode(claims(**claim_args), key, algorithm=alg, headers={"kid": kid})


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forged(header, payload, key=None):
    """A token assembled by hand: HMAC-SHA256 over it with `key` (bytes), or no signature."""
    head = b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(payload).encode())
    sig = b"" if key is None else hmac.new(key, head.encode(), hashlib.sha256).digest()
    return head + "." + b64url(sig)


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


class AuthServer(FolioServer):
    """A FolioServer whose links need credentials: the tests follow them with the right
    ones themselves instead of the anonymous check at stop."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.follow_links = False
