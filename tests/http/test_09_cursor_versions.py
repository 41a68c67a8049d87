"""Cursors stay accepted across format changes (docs/internals/cursor-format.md).

Two changes made cursors that an older folio handed out differ from the ones it hands out
now: the MAC moved from HMAC-SHA256 (version 1) to keyed BLAKE2b (version 3), and the
implied tiebreaker of a sort now follows the direction of the sort's last key (before, it
was always ascending, and the cursor's fingerprint spelled it so). This module mints
tokens the way the older folio did, from the server's own secret, and follows them."""

import hashlib
import hmac
import os
import time

import pytest

from folio_api import api, assert_page, param

# The fingerprint is of SQLite's schema names; the PostgreSQL copy is the same, but one
# backend is enough for a token format.
pytestmark = pytest.mark.sqlite_only


def b64url(raw):
    import base64
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def unb64url(tok):
    import base64
    return base64.urlsafe_b64decode(tok + "=" * (-len(tok) % 4))


def varint(v):
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def value(v):
    if isinstance(v, int):
        return b"\x01" + varint(((v << 1) ^ (v >> 63)) & (2**64 - 1))
    b = v.encode("utf-8")
    return b"\x03" + varint(len(b)) + b


def subkey(secret, label):
    return hashlib.blake2b(secret, digest_size=32, key=label).digest()


def fingerprint(table, sort):
    return hashlib.blake2b(table.encode() + b"\0" + sort.encode() + b"\0",
                           digest_size=16).digest()[:8]


def mint_v1(secret, key_id, table, sort, keys, flags=0):
    """A version 1 (HMAC-SHA256) token, as folio issued them before version 3."""
    body = (bytes([flags]) + varint(int(time.time()) + 3600) + fingerprint(table, sort)
            + bytes([len(keys)]) + b"".join(value(k) for k in keys))
    head = bytes([1, key_id]) + body
    tag = hmac.new(subkey(secret, b"folio cursor mac v1"), head, hashlib.sha256).digest()[:16]
    return b64url(head + tag)


@pytest.fixture
def server(spawn, demo_db):
    return spawn(demo_db)


def secret_of(server):
    with open(server.secret_file, "rb") as f:
        return f.read()


def key_id_and_check(server, secret):
    """The key id folio signs with, after checking this module's reading of the format
    against a token folio issued (version 3, keyed BLAKE2b-128)."""
    body = assert_page(server.get(api("events", per_page=2)))
    raw = unb64url(param(body["links"]["next"], "after"))
    assert raw[0] == 3, f"folio issues version {raw[0]} tokens, not 3"
    tag = hashlib.blake2b(raw[:-16], digest_size=16,
                          key=subkey(secret, b"folio cursor mac v3")).digest()
    assert tag == raw[-16:], "this test's BLAKE2b key derivation does not match folio's"
    return raw[1]


def test_a_version_1_cursor_still_continues_its_walk(server, demo_con):
    secret = secret_of(server)
    key_id = key_id_and_check(server, secret)
    row = demo_con.execute("SELECT id FROM events ORDER BY id LIMIT 1 OFFSET 99").fetchone()
    tok = mint_v1(secret, key_id, "events", "id", [row[0]])
    body = assert_page(server.get(api("events", per_page=5, after=tok)))
    want = [r[0] for r in demo_con.execute("SELECT id FROM events WHERE id > ? ORDER BY id "
                                           "LIMIT 5", (row[0],))]
    assert [r["id"] for r in body["data"]] == want
    # the links it hands out are version 3, and are accepted too
    assert unb64url(param(body["links"]["next"], "after"))[0] == 3
    assert_page(server.get(body["links"]["next"]))


def test_a_cursor_minted_with_the_ascending_tiebreaker_keeps_its_order(server, demo_con):
    """Before the tiebreaker followed the sort, sort=-created_at meant created_at DESC,
    id ASC, and its cursors carry that order's fingerprint. Such a cursor is still
    accepted, and its walk goes on in its own order to the end: no row skipped or
    repeated, even inside a run of equal timestamps."""
    secret = secret_of(server)
    key_id = key_id_and_check(server, secret)
    # a run of equal timestamps, and a position inside it
    ts = demo_con.execute("SELECT created_at FROM events GROUP BY created_at "
                          "HAVING count(*) >= 4 ORDER BY created_at DESC LIMIT 1").fetchone()[0]
    legacy = [tuple(r) for r in demo_con.execute(
        "SELECT created_at, id FROM events ORDER BY created_at DESC, id ASC")]
    pos = next(i for i, r in enumerate(legacy) if r[0] == ts) + 1  # second row of the run
    tok = mint_v1(secret, key_id, "events", "-created_at,id", list(legacy[pos]))
    url = api("events", sort="-created_at", per_page=7, after=tok)
    seen = []
    for _ in range(len(legacy)):
        body = assert_page(server.get(url))
        seen += [(r["created_at"], r["id"]) for r in body["data"]]
        url = body["links"]["next"]
        if url is None:
            break
    assert seen == legacy[pos + 1:], "the walk from an old cursor left its order"
    # a fresh walk of the same sort uses the new rule: the tiebreaker descends too
    body = assert_page(server.get(api("events", sort="-created_at", per_page=50)))
    fresh = [tuple(r) for r in demo_con.execute(
        "SELECT created_at, id FROM events ORDER BY created_at DESC, id DESC LIMIT 50")]
    assert [(r["created_at"], r["id"]) for r in body["data"]] == fresh


def test_a_forged_version_1_cursor_is_refused(server):
    secret = os.urandom(32)  # not the server's
    tok = mint_v1(secret, 1, "events", "id", [5])
    r = server.get(api("events", per_page=5, after=tok))
    assert r.status == 400
