// Start the real `folio serve` ($FOLIO_BIN) on a free loopback port for the browser and
// OpenAPI tests, and stop it checking for a clean exit and no sanitizer report.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const SANITIZER = ['ERROR: AddressSanitizer', 'LeakSanitizer', 'runtime error:'];

export function folioBin() {
  const bin = process.env.FOLIO_BIN;
  if (!bin) throw new Error('FOLIO_BIN is not set');
  return bin;
}

export function tempDir(prefix) {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

function env() {
  return { ...process.env, ASAN_OPTIONS: process.env.ASAN_OPTIONS || 'detect_leaks=1' };
}

// The demo database (users, messages, items, events: `rows` each) plus `specimens`, a
// table of every kind of value the UI formats: NULLs, BLOBs, long text, reals; and
// `odd name?#`, a table whose name must be percent-encoded in URLs.
export function makeDb(dir, rows) {
  const db = path.join(dir, 'demo.db');
  const r = spawnSync(folioBin(), ['demo', db, '--rows', String(rows)], { env: env(), encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`folio demo failed: ${r.stderr}`);
  const py = [
    'import sqlite3, sys',
    'c = sqlite3.connect(sys.argv[1])',
    'c.execute("CREATE TABLE specimens(id INTEGER PRIMARY KEY, label TEXT, weight REAL, photo BLOB, notes TEXT)")',
    'c.executemany("INSERT INTO specimens VALUES (?,?,?,?,?)", [',
    '  (i, None if i % 4 == 0 else "specimen %d" % i, None if i % 3 == 0 else i * 1.25,',
    '   None if i % 5 == 0 else bytes(range(256)) * (i % 7 + 1),',
    '   ("a long note about specimen %d " % i) * 8) for i in range(1, 61)])',
    'c.execute(\'CREATE TABLE "odd name?#"(id INTEGER PRIMARY KEY, "a b" TEXT)\')',
    'c.executemany(\'INSERT INTO "odd name?#" VALUES (?, ?)\', [(i, "v%d" % i) for i in range(1, 31)])',
    'c.commit()',
  ].join('\n');
  const p = spawnSync('/usr/bin/python3', ['-c', py, db], { encoding: 'utf8' });
  if (p.status !== 0) throw new Error(`specimens table: ${p.stderr}`);
  return db;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function startFolio(db, { config = null, args = [] } = {}) {
  const dir = tempDir('folio-ui-srv-');
  const secret = path.join(dir, 'secret');
  fs.writeFileSync(secret, Buffer.alloc(32, 7), { mode: 0o600 });
  const extra = [...args];
  if (config !== null) {
    const cfg = path.join(dir, 'folio.toml');
    fs.writeFileSync(cfg, config);
    extra.unshift('--config', cfg);
  }
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const proc = spawn(folioBin(), ['serve', db, '--listen', `127.0.0.1:${port}`, '--secret-file', secret, ...extra],
                       { env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    proc.stdout.on('data', (d) => { log += d; });
    proc.stderr.on('data', (d) => { log += d; });
    let exited = null;
    proc.on('exit', (code) => { exited = code; });
    const base = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 200 && exited === null; i++) {
      try {
        const r = await fetch(`${base}/healthz`);
        await r.arrayBuffer();
        if (r.status === 200) return makeHandle(proc, base, () => log, () => exited);
      } catch { /* not yet listening */ }
      await sleep(50);
    }
    if (exited === null) { proc.kill('SIGKILL'); throw new Error(`folio serve did not start:\n${log}`); }
    if (!/in use/i.test(log)) throw new Error(`folio serve exited ${exited}:\n${log}`);
  }
  throw new Error('no free port');
}

function makeHandle(proc, base, log, exited) {
  return {
    base,
    log,
    async stop() {
      if (exited() === null) {
        proc.kill('SIGTERM');
        for (let i = 0; i < 160 && exited() === null; i++) await sleep(50);
      }
      if (exited() === null) { proc.kill('SIGKILL'); throw new Error(`folio serve did not stop:\n${log()}`); }
      if (exited() !== 0) throw new Error(`folio serve exited ${exited()}:\n${log()}`);
      for (const m of SANITIZER) if (log().includes(m)) throw new Error(`sanitizer report:\n${log()}`);
    },
  };
}

export async function getJson(url, headers = {}) {
  const r = await fetch(url, { headers: { Accept: 'application/json', ...headers } });
  const text = await r.text();
  let body = null;
  try { body = JSON.parse(text); } catch { body = text; }
  return { status: r.status, headers: r.headers, body };
}
