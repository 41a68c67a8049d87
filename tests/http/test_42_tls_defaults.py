"""HTTPS from tls_cert/tls_key (checked with curl --cacert against a certificate the test
makes), renewed certificates picked up on SIGHUP, and the safe defaults off loopback."""
import os
import shutil
import signal
import socket
import subprocess
import time

import pytest

from folio_auth import make_tenant_db, run_folio, self_signed_cert, write
from folio_ops import wait_for
from folio_server import check_sanitizer_output, folio_bin, free_port, make_secret, sanitizer_env

CURL = shutil.which("curl")


def curl(port, cacert, path="/healthz"):
    """(exit status, body) of curl over HTTPS, verifying the chain against `cacert`."""
    proc = subprocess.run([CURL, "-sS", "--max-time", "10", "--cacert", cacert,
                           f"https://127.0.0.1:{port}{path}"], capture_output=True, timeout=30)
    return proc.returncode, proc.stdout.decode("utf-8", "replace")


class Served:
    """`folio serve` started by hand: FolioServer speaks plain HTTP only."""

    def __init__(self, d, db, config):
        self.port = free_port()
        self.log = open(os.path.join(d, f"stderr-{self.port}.log"), "wb")
        self.path = self.log.name
        self.proc = subprocess.Popen(
            [folio_bin(), "serve", db, "--config", config, "--listen", f"127.0.0.1:{self.port}",
             "--secret-file", make_secret(os.path.join(d, "cursor.key"))],
            stdout=self.log, stderr=self.log, stdin=subprocess.DEVNULL, env=sanitizer_env())

    def stderr(self):
        with open(self.path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(timeout=10)
        self.log.close()
        check_sanitizer_output(self.stderr())
        assert rc == 0, self.stderr()


@pytest.mark.skipif(CURL is None, reason="curl is not installed")
def test_https_serves_the_configured_certificate_and_picks_up_a_renewal_on_sighup(tmp_path):
    d = str(tmp_path)
    db = make_tenant_db(tmp_path / "t.db", rows=20)
    old_cert, old_key = self_signed_cert(d, "old")
    new_cert, new_key = self_signed_cert(d, "new")
    shutil.copy(old_cert, tmp_path / "server.pem")
    shutil.copy(old_key, tmp_path / "server.key")
    os.chmod(tmp_path / "server.key", 0o600)
    config = write(tmp_path / "folio.toml",
                   '[server]\ntls_cert = "server.pem"\ntls_key = "server.key"\n')
    srv = Served(d, db, config)
    try:
        wait_for(lambda: curl(srv.port, old_cert)[0] == 0, what="HTTPS to answer")
        rc, body = curl(srv.port, old_cert, "/api/orders?per_page=2")
        assert rc == 0 and '"data":[{"id":1' in body, body
        assert curl(srv.port, new_cert)[0] != 0, "the chain must not verify against another CA"
        # Plain HTTP on the TLS port gets no page.
        with socket.create_connection(("127.0.0.1", srv.port), timeout=5) as s:
            s.sendall(b"GET /api/orders HTTP/1.1\r\nHost: x\r\n\r\n")
            try:
                data = s.recv(4096)
            except OSError:
                data = b""
        assert b'"data"' not in data
        assert "https://127.0.0.1" in srv.stderr()

        shutil.copy(new_cert, tmp_path / "server.pem")
        shutil.copy(new_key, tmp_path / "server.key")
        srv.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: "reloaded" in srv.stderr(), what="the reload")
        wait_for(lambda: curl(srv.port, new_cert)[0] == 0, what="the renewed certificate")
        assert curl(srv.port, old_cert)[0] != 0, "the old certificate is still served"
    finally:
        srv.stop()


def test_tls_key_readable_by_others_is_refused(tmp_path):
    cert, key = self_signed_cert(str(tmp_path))
    os.chmod(key, 0o644)
    config = write(tmp_path / "folio.toml", f'[server]\ntls_cert = "{cert}"\ntls_key = "{key}"\n')
    rc, _out, err = run_folio("check-config", config, make_tenant_db(tmp_path / "t.db", 3),
                              check=False)
    assert rc == 2 and "accessible by other users" in err, err


def serve_off_loopback(tmp_path, config_text):
    """Start folio on 0.0.0.0:P while 127.0.0.1:P is held by the test, so that it can never
    bind (nothing is ever exposed): returns (exit status, stderr)."""
    db = tmp_path / "t.db"
    if not db.exists():
        make_tenant_db(db, rows=3)
    config = write(tmp_path / "folio.toml", config_text)
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen(1)
        port = held.getsockname()[1]
        return run_folio("serve", db, "--config", config, "--listen", f"0.0.0.0:{port}",
                         "--secret-file", make_secret(tmp_path / "k"), check=False)[::2]


def test_open_server_off_loopback_warns(tmp_path):
    rc, err = serve_off_loopback(tmp_path, "")
    assert rc == 1 and "cannot listen" in err, err
    assert "WARNING: serving without authentication on 0.0.0.0" in err, err


def test_require_auth_off_loopback_refuses_to_start_open(tmp_path):
    rc, err = serve_off_loopback(tmp_path, "[server]\nrequire_auth_off_loopback = true\n")
    assert rc == 2, err
    assert "refusing to serve without authentication on 0.0.0.0" in err, err
    assert "cannot listen" not in err, "it must refuse before binding"


def test_authenticated_server_off_loopback_does_not_warn(tmp_path):
    make_secret(tmp_path / "hs.key")
    rc, err = serve_off_loopback(tmp_path, '[server]\nrequire_auth_off_loopback = true\n'
                                           '[auth]\nmode = "jwt"\n[[auth.jwt_keys]]\n'
                                           'alg = "HS256"\nfile = "hs.key"\n')
    assert rc == 1 and "cannot listen" in err, err
    assert "without authentication" not in err, err
    # ... but one endpoint open to anyone is open.
    rc, err = serve_off_loopback(tmp_path, '[server]\nrequire_auth_off_loopback = true\n'
                                           '[auth]\nmode = "jwt"\n[[auth.jwt_keys]]\n'
                                           'alg = "HS256"\nfile = "hs.key"\n[[endpoint]]\n'
                                           'path = "/o"\ntable = "orders"\nauth = "none"\n')
    assert rc == 2 and "refusing" in err, err


def test_loopback_server_without_auth_does_not_warn(tmp_path):
    db = make_tenant_db(tmp_path / "t.db", rows=3)
    config = write(tmp_path / "folio.toml", "[server]\nrequire_auth_off_loopback = true\n")
    srv = Served(str(tmp_path), db, config)
    try:
        wait_for(lambda: "serving" in srv.stderr(), what="the start")
        time.sleep(0.1)
        assert "WARNING" not in srv.stderr()
    finally:
        srv.stop()
