// The browser UI in a real browser: playwright-core driving Debian's /usr/bin/chromium
// headless (never a downloaded browser) against a real `folio serve`. Every view is
// checked against what the API itself answers for the same request.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { chromium } from 'playwright-core';

import { getJson, makeDb, startFolio, tempDir } from './folio.mjs';

const ROWS = 5000;
const DOM_BOUND = 150; // the UI's SCROLL_MAX_DOM_ROWS: rows in the DOM in infinite scroll
const ARTIFACTS = process.env.UI_ARTIFACTS || tempDir('folio-ui-artifacts-');
const CONFIG = `
[api]
auto = true
sortable = "all"

[pagination]
max_offset = 2000
count_limit = 1000
`;

let srv;
let limited;
let expiring;
let browser;

before(async () => {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const db = makeDb(tempDir('folio-ui-'), ROWS);
  srv = await startFolio(db, { config: CONFIG });
  limited = await startFolio(db, { args: ['--rate', '0.2', '--burst', '12'] });
  expiring = await startFolio(db, { args: ['--cursor-ttl', '1'] });
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true });
});

after(async () => {
  if (browser) await browser.close();
  if (srv) await srv.stop();
  if (limited) await limited.stop();
  if (expiring) await expiring.stop();
});

async function open(hash, { base = srv.base, width = 1280, height = 800 } = {}) {
  const page = await browser.newPage({ viewport: { width, height } });
  page.setDefaultTimeout(60000); // a bound for a loaded machine, not a speed claim
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.errors = errors;
  await page.goto(`${base}/ui/${hash}`);
  await settle(page);
  return page;
}

// Wait until the view has answered (rows, "No rows", or an error).
async function settle(page) {
  await page.waitForFunction(() => {
    const s = document.getElementById('summary').textContent;
    return (s && s !== 'Loading…') || !document.getElementById('error').hidden;
  }, null, { timeout: 60000 });
}

async function ids(page) {
  return page.$$eval('#grid tbody tr[data-i]', (trs) => trs.map((tr) => Number(tr.cells[0].textContent)));
}

async function apiIds(url) {
  const r = await getJson(`${srv.base}${url}`);
  assert.equal(r.status, 200, `${url}: ${JSON.stringify(r.body)}`);
  return { ids: r.body.data.map((row) => row.id), body: r.body };
}

const hashUrl = (page) => decodeURIComponent(new URL(page.url()).hash.slice(1));

async function navigate(page, action) {
  const before = page.url();
  await action();
  await page.waitForFunction((u) => location.href !== u, before, { timeout: 60000 });
  await settle(page);
}

test('a browser opening / lands on the UI', async () => {
  const page = await browser.newPage();
  await page.goto(`${srv.base}/`);
  await settle(page);
  assert.match(page.url(), /\/ui\/#\/api\//);
  assert.ok((await ids(page)).length > 0);
  assert.deepEqual(page.errors || [], []);
  await page.close();
});

test('a table whose name needs percent-encoding is browsed through its links', async () => {
  const page = await open('#/api/users?per_page=10');
  await navigate(page, () => page.selectOption('#endpoint', { label: '/api/odd name?#' }));
  assert.equal(new URL(page.url()).hash, '#/api/odd%20name%3F%23');
  assert.deepEqual(await ids(page), Array.from({ length: 20 }, (_, i) => i + 1));
  await navigate(page, () => page.click('#next'));
  assert.deepEqual(await ids(page), Array.from({ length: 10 }, (_, i) => i + 21));
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('sort: click ascending, again descending, shift-click adds a key', async () => {
  const page = await open('#/api/users?per_page=10');
  const header = (col) => page.locator(`#grid thead th[data-col="${col}"] button`);
  await navigate(page, () => header('name').click());
  assert.match(hashUrl(page), /sort=name(&|$)/);
  assert.equal(await page.getAttribute('th[data-col="name"]', 'aria-sort'), 'ascending');
  assert.deepEqual(await ids(page), (await apiIds('/api/users?per_page=10&sort=name')).ids);
  await navigate(page, () => header('name').click());
  assert.equal(await page.getAttribute('th[data-col="name"]', 'aria-sort'), 'descending');
  assert.deepEqual(await ids(page), (await apiIds('/api/users?per_page=10&sort=-name')).ids);
  await navigate(page, () => header('created_at').click({ modifiers: ['Shift'] }));
  assert.match(hashUrl(page), /sort=-name,created_at/);
  assert.equal(await page.getAttribute('th[data-col="created_at"]', 'aria-sort'), 'ascending');
  assert.equal(await page.getAttribute('th[data-col="name"]', 'aria-sort'), 'descending');
  assert.deepEqual(await ids(page), (await apiIds('/api/users?per_page=10&sort=-name,created_at')).ids);
  await page.close();
});

test('page forward and back follow the links folio returned', async () => {
  const page = await open('#/api/users?per_page=10&sort=-created_at');
  const first = await apiIds('/api/users?per_page=10&sort=-created_at');
  assert.deepEqual(await ids(page), first.ids);
  await navigate(page, () => page.click('#next'));
  // The same link: the cursor's position and query (its expiry, in seconds, may differ by
  // one from the copy fetched here a moment later).
  const noCursor = (u) => u.replace(/([?&]after=)[^&]*/, '$1');
  assert.equal(noCursor(hashUrl(page)), noCursor(decodeURIComponent(first.body.links.next)));
  const second = await apiIds(first.body.links.next);
  assert.deepEqual(await ids(page), second.ids);
  await navigate(page, () => page.click('#next'));
  await navigate(page, () => page.click('#prev'));
  assert.deepEqual(await ids(page), second.ids);
  await navigate(page, () => page.goBack());
  await navigate(page, () => page.goBack());
  assert.deepEqual(await ids(page), second.ids);
  await navigate(page, () => page.click('#first'));
  assert.deepEqual(await ids(page), first.ids);
  await page.close();
});

test('jump to page N, last page, and a page past max_offset continues by cursor', async () => {
  const page = await open('#/api/users?per_page=10&count=exact');
  await page.fill('#jump-page', '37');
  await navigate(page, () => page.press('#jump-page', 'Enter'));
  assert.match(hashUrl(page), /page=37/);
  assert.deepEqual(await ids(page), Array.from({ length: 10 }, (_, i) => 361 + i));
  assert.match(await page.textContent('#page-info'), /Page 37 of 500/);
  await navigate(page, () => page.click('#last'));
  // 500 pages of 10: page 500 is past max_offset 2000, served through a cursor link.
  await page.waitForFunction(() => document.querySelectorAll('#grid tbody tr[data-i]').length === 10);
  assert.deepEqual(await ids(page), Array.from({ length: 10 }, (_, i) => 4991 + i));
  assert.match(hashUrl(page), /after=/);
  assert.equal(await page.isDisabled('#next'), true);
  await page.close();
});

test('filters use folio\'s operators and clear', async () => {
  const page = await open('#/api/items?per_page=20');
  await page.selectOption('th:has(input[data-col="category"]) select', 'eq');
  await page.fill('input[data-col="category"]', 'books');
  await navigate(page, () => page.press('input[data-col="category"]', 'Enter'));
  assert.match(hashUrl(page), /category=eq\.books/);
  const want = await apiIds('/api/items?per_page=20&category=eq.books');
  assert.deepEqual(await ids(page), want.ids);
  const cats = await page.$$eval('#grid tbody tr[data-i]', (trs) => trs.map((tr) => tr.cells[3].textContent));
  assert.ok(cats.length > 0 && cats.every((c) => c === 'books'), cats.join());
  await page.selectOption('th:has(input[data-col="price"]) select', 'gte');
  await page.fill('input[data-col="price"]', '900');
  await navigate(page, () => page.press('input[data-col="price"]', 'Enter'));
  const both = await apiIds('/api/items?per_page=20&category=eq.books&price=gte.900');
  assert.deepEqual(await ids(page), both.ids);
  await navigate(page, () => page.click('#clear-filters'));
  assert.deepEqual(await ids(page), (await apiIds('/api/items?per_page=20')).ids);
  await page.close();
});

test('per-page selector and field selection', async () => {
  const page = await open('#/api/users');
  await navigate(page, () => page.selectOption('#per-page', '50'));
  assert.match(hashUrl(page), /per_page=50/);
  assert.equal((await ids(page)).length, 50);
  await page.click('#fields summary');
  await navigate(page, () => page.uncheck('#field-list input[value="email"]'));
  assert.match(hashUrl(page), /fields=id,name,created_at/);
  const headers = await page.$$eval('#grid thead tr.names th', (ths) => ths.map((th) => th.dataset.col));
  assert.deepEqual(headers, ['id', 'name', 'created_at']);
  await page.close();
});

test('a shared URL restores the same view', async () => {
  const page = await open('#/api/items?per_page=10&sort=-price&category=in.(books,toys)');
  await navigate(page, () => page.click('#next'));
  const url = page.url();
  const rows = await ids(page);
  const other = await browser.newPage();
  await other.goto(url);
  await settle(other);
  assert.deepEqual(await ids(other), rows);
  assert.equal(await other.getAttribute('th[data-col="price"]', 'aria-sort'), 'descending');
  assert.equal(await other.inputValue('input[data-col="category"]'), '(books,toys)');
  assert.equal(await other.inputValue('#per-page'), '10');
  await other.close();
  await page.close();
});

test('infinite scroll walks to the end: every row once, in order, the DOM bounded', async () => {
  const page = await open('#scroll:/api/users?per_page=100', { height: 700 });
  const seen = new Map();
  let maxDom = 0;
  for (let step = 0; step < 3000; step++) {
    const snap = await page.evaluate(() => {
      const trs = [...document.querySelectorAll('#grid tbody tr[data-i]')];
      const wrap = document.getElementById('table-wrap');
      wrap.scrollTop += wrap.clientHeight;
      return { rows: trs.map((tr) => [Number(tr.dataset.i), Number(tr.cells[0].textContent)]),
               end: !!document.getElementById('end-of-data'),
               bottom: wrap.scrollTop + wrap.clientHeight >= wrap.scrollHeight - 2 };
    });
    maxDom = Math.max(maxDom, snap.rows.length);
    for (const [i, id] of snap.rows) {
      if (seen.has(i)) assert.equal(seen.get(i), id, `row ${i} changed`);
      seen.set(i, id);
    }
    if (snap.end && snap.bottom && seen.size === ROWS) break;
    await page.waitForTimeout(30);
  }
  assert.ok(maxDom <= DOM_BOUND, `${maxDom} rows in the DOM`);
  assert.equal(seen.size, ROWS);
  const order = [...seen.keys()].sort((a, b) => a - b).map((i) => seen.get(i));
  assert.deepEqual(order, Array.from({ length: ROWS }, (_, i) => i + 1));
  assert.equal(await page.getAttribute('#summary', 'data-loaded'), String(ROWS));
  await page.screenshot({ path: path.join(ARTIFACTS, 'scroll-end.png') });
  await page.close();
});

test('a tampered cursor in the URL shows the error and offers page 1', async () => {
  const first = await apiIds('/api/users?per_page=10');
  const next = first.body.links.next;
  const tok = new URL(next, srv.base).searchParams.get('after');
  const bad = tok.slice(0, 10) + (tok[10] === 'A' ? 'B' : 'A') + tok.slice(11);
  const page = await open(`#/api/users?per_page=10&after=${bad}`);
  await page.waitForSelector('#error:not([hidden])');
  assert.equal(await page.textContent('#error h2'), '400 Invalid cursor');
  assert.match(await page.textContent('#error'), /invalid cursor/);
  assert.equal(await page.getAttribute('#error a', 'href'), '/problems/invalid-cursor');
  await navigate(page, () => page.click('#restart'));
  assert.deepEqual(await ids(page), first.ids);
  assert.equal(await page.isHidden('#error'), true);
  await page.close();
});

test('an expired cursor offers to start again from page 1', async () => {
  const first = await getJson(`${expiring.base}/api/users?per_page=10`);
  const next = first.body.links.next;
  await new Promise((r) => setTimeout(r, 2500)); // past the 1 s cursor lifetime
  const page = await open(`#${next}`, { base: expiring.base });
  await page.waitForSelector('#error:not([hidden])');
  assert.equal(await page.textContent('#error h2'), '400 Expired cursor');
  await navigate(page, () => page.click('#restart'));
  assert.deepEqual(await ids(page), first.body.data.map((r) => r.id));
  await page.close();
});

test('a 429 says when to retry', async () => {
  const page = await open('#/api/users?per_page=5', { base: limited.base });
  for (let i = 0; i < 30 && (await page.isHidden('#error')); i++) {
    await navigate(page, () => page.click('#next'));
  }
  await page.waitForSelector('#error:not([hidden])');
  assert.match(await page.textContent('#error h2'), /^429 /);
  assert.match(await page.textContent('#error .retry'), /Retry in \d+ s/);
  await page.close();
});

test('keyboard: j/k move the row selection, n/p turn pages', async () => {
  const page = await open('#/api/users?per_page=10');
  const firstIds = await ids(page);
  await page.keyboard.press('j');
  await page.keyboard.press('j');
  await page.keyboard.press('j');
  await page.keyboard.press('k');
  assert.equal(await page.getAttribute('#grid tbody tr[aria-selected="true"]', 'data-i'), '1');
  assert.equal(await page.evaluate(() => document.activeElement.dataset.i), '1');
  await navigate(page, () => page.keyboard.press('n'));
  assert.deepEqual(await ids(page), Array.from({ length: 10 }, (_, i) => 11 + i));
  await navigate(page, () => page.keyboard.press('p'));
  assert.deepEqual(await ids(page), firstIds);
  await page.close();
});

test('cells by type: numbers right-aligned, NULL distinct, long text on hover, BLOB as size', async () => {
  const page = await open('#/api/specimens?per_page=20&count=exact');
  const row = (n) => page.locator(`#grid tbody tr[data-i="${n - 1}"]`);
  // id 4: label NULL; id 3: weight NULL; id 5: photo NULL; id 2: a 768-byte photo
  assert.equal(await row(4).locator('td').nth(1).locator('.null').textContent(), 'NULL');
  assert.equal(await row(3).locator('td').nth(2).locator('.null').count(), 1);
  assert.equal(await row(2).locator('td').nth(2).getAttribute('class'), 'num');
  assert.equal(await row(2).locator('td').nth(2).textContent(), '2.5');
  const align = await row(2).locator('td').nth(2).evaluate((td) => getComputedStyle(td).textAlign);
  assert.equal(align, 'right');
  assert.equal(await row(2).locator('td').nth(3).textContent(), 'BLOB · 768 B');
  const notes = row(2).locator('td').nth(4);
  const full = await notes.getAttribute('title');
  assert.equal(full, 'a long note about specimen 2 '.repeat(8));
  assert.ok(await notes.evaluate((td) => td.scrollWidth > td.clientWidth), 'long text is cut');
  assert.equal(await page.textContent('#summary'), '60 rows · 20 shown');
  await page.screenshot({ path: path.join(ARTIFACTS, 'types.png') });
  await page.close();
});

test('totals are honest: exact, estimate, lower bound', async () => {
  const page = await open('#/api/users?per_page=10&count=exact');
  assert.match(await page.textContent('#summary'), /^5,000 rows/);
  await navigate(page, () => page.selectOption('#count', 'estimate'));
  assert.match(await page.textContent('#summary'), /^≈ [\d,]+ \(estimate\)/);
  await page.close();
  const r = await getJson(`${srv.base}/api/users?per_page=10&count=estimate&name=like.*a*`);
  const bound = await open('#/api/users?per_page=10&count=estimate&name=like.*a*');
  assert.equal(r.body.meta.total_kind, 'lower_bound', JSON.stringify(r.body.meta));
  assert.match(await bound.textContent('#summary'), /^1,000\+ · 10 shown$/);
  await bound.close();
});

test('the API reference renders /openapi.json', async () => {
  const page = await browser.newPage();
  await page.goto(`${srv.base}/ui/api`);
  await page.waitForSelector('#problem-types');
  const doc = (await getJson(`${srv.base}/openapi.json`)).body;
  const shown = await page.$$eval('#reference h2 code', (cs) => cs.map((c) => c.textContent));
  for (const p of Object.keys(doc.paths)) assert.ok(shown.includes(`GET ${p}`), p);
  assert.ok(await page.locator('#problem-types a[href="/problems/invalid-cursor"]').count());
  await page.close();
});

test('screenshots: desktop, phone width, dark', async () => {
  const desk = await open('#/api/items?per_page=20&sort=-price&count=exact');
  await desk.screenshot({ path: path.join(ARTIFACTS, 'desktop.png') });
  await desk.close();
  const phone = await open('#/api/users?per_page=10&count=exact', { width: 390, height: 844 });
  // Nothing but the table scrolls sideways on a phone.
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 1, `page is ${overflow}px wider than the screen`);
  await phone.screenshot({ path: path.join(ARTIFACTS, 'phone.png') });
  await phone.close();
  const dark = await browser.newPage({ viewport: { width: 1280, height: 800 }, colorScheme: 'dark' });
  await dark.goto(`${srv.base}/ui/#/api/users?per_page=10`);
  await settle(dark);
  const bg = await dark.evaluate(() => getComputedStyle(document.body).backgroundColor);
  assert.equal(bg, 'rgb(15, 18, 22)');
  await dark.screenshot({ path: path.join(ARTIFACTS, 'dark.png') });
  await dark.close();
  for (const f of ['desktop.png', 'phone.png', 'dark.png']) assert.ok(fs.statSync(path.join(ARTIFACTS, f)).size > 5000, f);
});
