// folio's browser UI: plain JavaScript, no framework, no build step (embedded by
// tools/embed_assets.c). The whole view lives in the URL fragment:
//   /ui/#/api/users?per_page=20&sort=-created_at          numbered or cursor pages
//   /ui/#scroll:/api/users?per_page=100                    infinite scroll from there
// The part after '#' (and the optional "scroll:") is exactly the API request, so every
// page is one folio serves, and next/prev always follow the links folio returned.
'use strict';

const $ = (id) => document.getElementById(id);
const POSITION = ['page', 'offset', 'after', 'before'];
const CURSOR_PROBLEMS = ['/problems/invalid-cursor', '/problems/expired-cursor',
                         '/problems/foreign-cursor'];
const SCROLL_MAX_DOM_ROWS = 150;   // rows in the DOM at once in infinite scroll
const OVERSCAN = 20;               // rows rendered beyond the visible ones, each side
const FILTER_OPS = ['eq', 'neq', 'lt', 'lte', 'gt', 'gte', 'like', 'in', 'is'];

const app = {
  endpoints: [],
  ep: null,          // the endpoint shown (from GET /)
  view: 'pages',
  url: '',           // the API request shown
  page: null,        // the last page answer: {rows, meta, links, ...}
  selected: -1,      // index of the selected row (pages: in the page; scroll: in app.scroll.rows)
  seq: 0,            // bumps on every navigation; stale answers are dropped
  scroll: null,
  retryTimer: 0,
};

// ---------------------------------------------------------------- column types

// SQLite's affinity rules (section 3.1 of its datatype page), as folio applies them.
function affinity(decl) {
  const t = (decl || '').toUpperCase();
  if (t.includes('INT')) return 'integer';
  if (t.includes('CHAR') || t.includes('CLOB') || t.includes('TEXT')) return 'text';
  if (t === '' || t.includes('BLOB')) return 'blob';
  if (t.includes('REAL') || t.includes('FLOA') || t.includes('DOUB')) return 'real';
  return 'numeric';
}
const isNumeric = (col) => ['integer', 'real', 'numeric'].includes(affinity(col.type));
const fmtInt = (n) => Number(n).toLocaleString('en-US');

function fmtBytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

// One cell: numbers right-aligned, NULL distinct, long text cut with the full value on
// hover, BLOBs (base64 in the JSON) as their size.
function cell(value, col) {
  const td = document.createElement('td');
  if (value === null || value === undefined) {
    if (col && isNumeric(col)) td.className = 'num';
    const s = document.createElement('span');
    s.className = 'null';
    s.textContent = 'NULL';
    td.append(s);
    return td;
  }
  if (typeof value === 'number') {
    td.className = 'num';
    td.textContent = String(value);
    return td;
  }
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  if (col && affinity(col.type) === 'blob' && col.type !== '' && typeof value === 'string') {
    const pad = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
    const bytes = Math.floor(text.length * 3 / 4) - pad;
    const s = document.createElement('span');
    s.className = 'blob';
    s.textContent = `BLOB · ${fmtBytes(bytes)}`;
    td.append(s);
    td.title = `${bytes} bytes`;
    return td;
  }
  td.textContent = text;
  if (text.length > 40) td.title = text;
  return td;
}

// ---------------------------------------------------------------- URL state

function parseHash() {
  let h = location.hash.slice(1);
  let view = 'pages';
  if (h.startsWith('scroll:')) { view = 'scroll'; h = h.slice(7); }
  return { view, url: h };
}

function hashFor(view, url) {
  return '#' + (view === 'scroll' ? 'scroll:' : '') + url;
}

function go(url, { view = app.view, replace = false } = {}) {
  const h = hashFor(view, url);
  if (h === location.hash) { show(); return; }
  if (replace) history.replaceState(null, '', h); else history.pushState(null, '', h);
  show();
}

function splitUrl(url) {
  const q = url.indexOf('?');
  return { path: q < 0 ? url : url.slice(0, q), params: new URLSearchParams(q < 0 ? '' : url.slice(q + 1)) };
}

function joinUrl(path, params) {
  // URLSearchParams writes a space as '+'; folio reads '+' literally, so spell it %20.
  // Filter values stay readable: '(', ')', ',' and '*' need no escaping.
  const s = params.toString().replace(/\+/g, '%20').replace(/%28/g, '(').replace(/%29/g, ')')
    .replace(/%2C/g, ',');
  return s ? `${path}?${s}` : path;
}

// The current request with `edit(params)` applied and the position reset (a new sort,
// filter or page size starts from the first page).
function withParams(edit, keepPosition = false) {
  const { path, params } = splitUrl(app.url);
  if (!keepPosition) POSITION.forEach((k) => params.delete(k));
  edit(params);
  return joinUrl(path, params);
}

// ---------------------------------------------------------------- fetching

async function fetchApi(url) {
  let r;
  try {
    r = await fetch(url, { headers: { Accept: 'application/json' } });
  } catch (e) {
    return { status: 0, body: null, headers: new Headers(), error: String(e) };
  }
  let body = null;
  try { body = await r.json(); } catch (e) { body = null; }
  return { status: r.status, body, headers: r.headers,
           problem: (r.headers.get('Content-Type') || '').startsWith('application/problem+json') };
}

// ---------------------------------------------------------------- errors

function clearError() {
  const box = $('error');
  box.hidden = true;
  box.replaceChildren();
  clearInterval(app.retryTimer);
}

// problem+json as its title and detail; 429 says when to retry; a bad cursor offers the
// first page.
function showError(res) {
  const box = $('error');
  box.replaceChildren();
  const h = document.createElement('h2');
  const p = document.createElement('p');
  const b = res.body || {};
  if (res.status === 0) {
    h.textContent = 'The server cannot be reached';
    p.textContent = res.error || '';
  } else if (res.problem) {
    h.textContent = `${b.status || res.status} ${b.title || 'Error'}`;
    p.textContent = b.detail || '';
  } else {
    h.textContent = `Error ${res.status}`;
    p.textContent = res.body ? JSON.stringify(res.body) : '';
  }
  box.append(h, p);
  const actions = document.createElement('p');
  if (res.status === 429) {
    let left = parseInt(res.headers.get('Retry-After') || '1', 10);
    const when = document.createElement('span');
    when.className = 'retry';
    const tick = () => {
      when.textContent = left > 0 ? `Retry in ${left} s. ` : 'You can retry now. ';
      if (left-- <= 0) clearInterval(app.retryTimer);
    };
    tick();
    app.retryTimer = setInterval(tick, 1000);
    const again = document.createElement('button');
    again.type = 'button';
    again.textContent = 'Retry';
    again.addEventListener('click', () => show());
    actions.append(when, again, ' ');
  }
  if (CURSOR_PROBLEMS.includes(b.type)) {
    const restart = document.createElement('button');
    restart.type = 'button';
    restart.id = 'restart';
    restart.textContent = 'Start again from page 1';
    restart.addEventListener('click', () => go(withParams(() => {}), { replace: true }));
    actions.append(restart, ' ');
  }
  if (typeof b.type === 'string' && b.type.startsWith('/problems/')) {
    const a = document.createElement('a');
    a.href = b.type;
    a.textContent = 'What this error means';
    actions.append(a);
  }
  if (actions.childNodes.length) box.append(actions);
  box.dataset.type = b.type || '';
  box.hidden = false;
  if ($('summary').textContent === 'Loading…') $('summary').textContent = '';
}

// ---------------------------------------------------------------- table head

function currentSort() {
  const s = splitUrl(app.url).params.get('sort');
  return s ? s.split(',').filter(Boolean).map((k) => (k.startsWith('-') ? { col: k.slice(1), desc: true } : { col: k, desc: false })) : [];
}

function sortUrl(col, add) {
  let keys = currentSort();
  const at = keys.findIndex((k) => k.col === col);
  if (add) {
    if (at >= 0) keys[at].desc = !keys[at].desc; else keys.push({ col, desc: false });
  } else if (keys.length === 1 && at === 0) {
    keys = [{ col, desc: !keys[0].desc }];
  } else {
    keys = [{ col, desc: false }];
  }
  return withParams((p) => p.set('sort', keys.map((k) => (k.desc ? '-' : '') + k.col).join(',')));
}

function shownColumns() {
  const f = splitUrl(app.url).params.get('fields');
  const all = app.ep.columns;
  if (!f) return all;
  const want = f.split(',');
  return all.filter((c) => want.includes(c.name));
}

function filterCell(col) {
  const th = document.createElement('th');
  if (!col.filterable || app.ep.style !== 'folio') return th;
  const { params } = splitUrl(app.url);
  const cur = params.get(col.name) || '';
  const dot = cur.indexOf('.');
  const wrap = document.createElement('div');
  wrap.className = 'filter';
  const op = document.createElement('select');
  op.setAttribute('aria-label', `Filter operator for ${col.name}`);
  FILTER_OPS.forEach((o) => op.append(new Option(o, o)));
  op.value = dot > 0 ? cur.slice(0, dot) : (isNumeric(col) ? 'eq' : 'like');
  const input = document.createElement('input');
  input.type = 'search';
  input.dataset.col = col.name;
  input.setAttribute('aria-label', `Filter ${col.name}`);
  input.placeholder = op.value === 'like' ? '*text*' : op.value === 'in' ? '(a,b)' : op.value === 'is' ? 'null' : '';
  input.value = dot > 0 ? cur.slice(dot + 1) : '';
  const apply = () => {
    const v = input.value.trim();
    go(withParams((p) => { if (v === '') p.delete(col.name); else p.set(col.name, `${op.value}.${v}`); }));
  };
  input.addEventListener('keydown', (e) => { if (e.key === 'Enter') { e.preventDefault(); apply(); } });
  input.addEventListener('change', apply);
  op.addEventListener('change', () => { if (input.value.trim() !== '') apply(); });
  wrap.append(op, input);
  th.append(wrap);
  return th;
}

function renderHead() {
  const thead = $('grid').tHead;
  thead.replaceChildren();
  const names = thead.insertRow();
  names.className = 'names';
  const keys = currentSort();
  const folio = app.ep.style === 'folio';
  for (const col of shownColumns()) {
    const th = document.createElement('th');
    th.scope = 'col';
    th.dataset.col = col.name;
    if (isNumeric(col)) th.classList.add('num');
    const at = keys.findIndex((k) => k.col === col.name);
    if (at >= 0) th.setAttribute('aria-sort', keys[at].desc ? 'descending' : 'ascending');
    if (folio && col.sortable) {
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'sort';
      b.title = 'Sort (shift-click: add to the sort)';
      const name = document.createElement('span');
      name.textContent = col.name;
      const arrow = document.createElement('span');
      arrow.className = 'arrow';
      arrow.setAttribute('aria-hidden', 'true');
      arrow.textContent = at < 0 ? '' : (keys[at].desc ? '▼' : '▲') + (keys.length > 1 ? String(at + 1) : '');
      b.append(name, arrow);
      b.addEventListener('click', (e) => go(sortUrl(col.name, e.shiftKey)));
      th.append(b);
    } else {
      const s = document.createElement('span');
      s.className = 'plain';
      s.textContent = col.name;
      th.append(s);
    }
    names.append(th);
  }
  if (folio && app.ep.columns.some((c) => c.filterable)) {
    const filters = thead.insertRow();
    filters.className = 'filters';
    for (const col of shownColumns()) filters.append(filterCell(col));
  }
}

// ---------------------------------------------------------------- controls

function renderControls() {
  const ep = app.ep;
  const { params } = splitUrl(app.url);
  const folio = ep.style === 'folio';
  const per = $('per-page');
  per.replaceChildren();
  const max = ep.per_page ? ep.per_page.max : 100;
  const def = ep.per_page ? ep.per_page.default : 20;
  const cur = parseInt(params.get('per_page') || params.get('limit') || def, 10);
  const sizes = [...new Set([10, 20, 50, 100, 200, 500, 1000, def, cur].filter((n) => n >= 1 && n <= max))].sort((a, b) => a - b);
  sizes.forEach((n) => per.append(new Option(String(n), String(n))));
  per.value = String(Math.min(cur, max));
  $('count').value = params.get('count') || '';
  $('count').disabled = !folio;
  $('view').value = app.view;
  $('view').disabled = !folio;
  $('clear-filters').disabled = !folio || !ep.columns.some((c) => params.has(c.name));
  const list = $('field-list');
  list.querySelectorAll('label').forEach((l) => l.remove());
  const shown = new Set(shownColumns().map((c) => c.name));
  for (const col of ep.columns) {
    const l = document.createElement('label');
    const cb = document.createElement('input');
    cb.type = 'checkbox';
    cb.value = col.name;
    cb.checked = shown.has(col.name);
    cb.disabled = !folio;
    cb.addEventListener('change', () => {
      const want = [...list.querySelectorAll('input:checked')].map((i) => i.value);
      if (want.length === 0) { cb.checked = true; return; }
      go(withParams((p) => { if (want.length === ep.columns.length) p.delete('fields'); else p.set('fields', want.join(',')); }, true));
    });
    l.append(cb, ' ', col.name);
    list.append(l);
  }
  $('jump-page').disabled = !folio || !(ep.modes || []).includes('offset');
  $('caption').textContent = `Rows of ${ep.name} (${ep.path})`;
}

function onPerPage() {
  const n = $('per-page').value;
  go(withParams((p) => { p.delete('limit'); p.set('per_page', n); }));
}

// ---------------------------------------------------------------- totals

function totalText(meta) {
  if (!meta || meta.total === undefined) return '';
  const n = fmtInt(meta.total);
  if (meta.total_kind === 'exact') return `${n} rows`;
  if (meta.total_kind === 'estimate') return `≈ ${n} (estimate)`;
  if (meta.total_kind === 'lower_bound') return `${n}+`;
  return '';
}

// ---------------------------------------------------------------- pages view

function rowsOf(body) {
  if (Array.isArray(body.data)) return body.data;
  for (const v of Object.values(body)) if (Array.isArray(v)) return v;
  return [];
}

// Rows as <tr>s; data-i is each row's index in the view (in the walk, when scrolling).
function renderRows(rows, first) {
  const cols = shownColumns();
  const frag = document.createDocumentFragment();
  for (let i = 0; i < rows.length; i++) {
    const tr = document.createElement('tr');
    tr.tabIndex = -1;
    tr.dataset.i = String(first + i);
    for (const col of cols) tr.append(cell(rows[i][col.name], col));
    frag.append(tr);
  }
  return frag;
}

// Links for the tutorial styles, which have none: page numbers, or the next_cursor.
function tutorialLinks(body) {
  const { path, params } = splitUrl(app.url);
  const rows = rowsOf(body);
  const per = parseInt(params.get('per_page') || app.ep.per_page.default, 10);
  const at = (edit) => { const p = new URLSearchParams(params); edit(p); return joinUrl(path, p); };
  const links = { first: path, next: null, prev: null, last: null };
  if (app.ep.style === 'tutorial-offset') {
    const page = body.page || 1;
    const pages = Math.max(1, Math.ceil((body.total_estimate || 0) / (body.per_page || per)));
    if (page < pages) links.next = at((p) => p.set('page', page + 1));
    if (page > 1) links.prev = at((p) => p.set('page', page - 1));
    links.last = at((p) => p.set('page', pages));
  } else if (body.next_cursor !== null && body.next_cursor !== undefined && rows.length >= per) {
    const key = app.ep.style === 'tutorial-keyset' ? 'after' : 'cursor';
    links.next = at((p) => p.set(key, body.next_cursor));
  }
  return links;
}

async function showPages(seq) {
  const res = await fetchApi(app.url);
  if (seq !== app.seq) return;
  const tbody = $('grid').tBodies[0];
  if (res.status !== 200) {
    // A page deeper than max_offset: folio answers with the cursor link to the same rows.
    if (res.body && res.body.type === '/problems/offset-too-deep' && res.body.cursor) {
      go(res.body.cursor, { replace: true });
      return;
    }
    tbody.replaceChildren();
    app.page = null;
    updatePager();
    showError(res);
    return;
  }
  clearError();
  const body = res.body;
  const rows = rowsOf(body);
  const links = app.ep.style === 'folio' ? body.links : tutorialLinks(body);
  app.page = { rows, meta: body.meta || {}, links, body };
  app.selected = -1;
  tbody.replaceChildren(renderRows(rows, 0));
  if (rows.length === 0) {
    const tr = tbody.insertRow();
    const td = tr.insertCell();
    td.colSpan = shownColumns().length || 1;
    td.className = 'end';
    td.textContent = 'No rows';
  }
  const meta = body.meta || {};
  const total = totalText(meta) || (body.total_estimate !== undefined ? `≈ ${fmtInt(body.total_estimate)} (estimate)` : '');
  $('summary').textContent = [total, `${rows.length} shown`].filter(Boolean).join(' · ');
  updatePager();
}

function pageCount() {
  const m = app.page && app.page.meta;
  if (m && m.total_kind === 'exact') return Math.max(1, m.pages || Math.ceil(m.total / m.per_page));
  return null;
}

function updatePager() {
  const p = app.page;
  const links = p ? p.links : {};
  const { params } = splitUrl(app.url);
  const atStart = !POSITION.some((k) => params.has(k)) || params.get('page') === '1' || params.get('offset') === '0';
  $('first').disabled = !p || (atStart && !links.prev);
  $('prev').disabled = !p || !links.prev;
  $('next').disabled = !p || !links.next;
  const canOffset = app.ep && (app.ep.modes || []).includes('offset');
  $('last').disabled = !p || !(links.last || (canOffset && app.ep.style === 'folio' && (links.next || pageCount() !== null)));
  let info = '';
  if (p) {
    const m = p.meta || {};
    const page = m.page || (p.body && p.body.page);
    const pages = pageCount();
    if (page) info = pages ? `Page ${fmtInt(page)} of ${fmtInt(pages)}` : `Page ${fmtInt(page)}`;
    else if (params.has('after') || params.has('before') || params.has('cursor')) info = 'Cursor page';
    else info = 'Page 1';
  }
  $('page-info').textContent = info;
}

async function goLast() {
  const p = app.page;
  if (p.links.last) { go(p.links.last); return; }
  // Without an exact total there is no last link: ask for the count once, then go to
  // that page number (folio's hybrid index serves deep pages; past max_offset it hands
  // back a cursor link to the same rows).
  let pages = pageCount();
  const url = withParams((q) => q.set('count', 'exact'));
  if (pages === null) {
    const res = await fetchApi(url);
    if (res.status !== 200) { showError(res); return; }
    const m = res.body.meta || {};
    pages = Math.max(1, Math.ceil((m.total || 0) / m.per_page));
  }
  go(withParams((q) => { q.set('count', 'exact'); q.set('page', String(pages)); }));
}

function jumpTo(n) {
  if (!(n >= 1)) return;
  go(withParams((q) => q.set('page', String(n))));
}

// ---------------------------------------------------------------- infinite scroll

// Rows are kept as data; the DOM holds only a window of them around the viewport (at
// most SCROLL_MAX_DOM_ROWS), between two spacer rows that stand for the rest. More
// rows are fetched through the `next` links as the window nears the end.
async function showScroll(seq) {
  const wrap = $('table-wrap');
  app.scroll = { rows: [], next: app.url, loading: false, done: false, rowH: 0, seq, first: -1, last: -1 };
  app.selected = -1;
  wrap.scrollTop = 0;
  $('grid').tBodies[0].replaceChildren();
  await loadMore();
}

async function loadMore() {
  const s = app.scroll;
  if (!s || s.loading || s.done || !s.next) return;
  s.loading = true;
  const res = await fetchApi(s.next);
  if (s !== app.scroll || s.seq !== app.seq) return;
  s.loading = false;
  if (res.status !== 200) {
    s.done = true;
    showError(res);
    renderWindow(true);
    return;
  }
  clearError();
  const rows = rowsOf(res.body);
  for (const r of rows) s.rows.push(r);
  s.next = res.body.links ? res.body.links.next : null;
  if (!s.next) s.done = true;
  const total = totalText(res.body.meta);
  $('summary').textContent = [total, `${fmtInt(s.rows.length)} loaded${s.done ? ' · end of data' : ''}`].filter(Boolean).join(' · ');
  $('summary').dataset.loaded = String(s.rows.length);
  $('summary').dataset.done = s.done ? '1' : '0';
  renderWindow(true);
}

function renderWindow(force) {
  const s = app.scroll;
  if (!s) return;
  const wrap = $('table-wrap');
  const tbody = $('grid').tBodies[0];
  const head = $('grid').tHead ? $('grid').tHead.offsetHeight : 0;
  const rowH = s.rowH || 34;
  const visible = Math.ceil(wrap.clientHeight / rowH) + 1;
  const span = Math.min(SCROLL_MAX_DOM_ROWS, visible + 2 * OVERSCAN);
  const top = Math.max(0, Math.floor((wrap.scrollTop - head) / rowH) - OVERSCAN);
  const last = Math.min(s.rows.length, top + span);
  const first = Math.max(0, last - span);
  if (!force && first === s.first && last === s.last) return;
  s.first = first;
  s.last = last;
  const ncol = shownColumns().length || 1;
  const spacer = (h) => {
    const tr = document.createElement('tr');
    tr.className = 'spacer';
    tr.setAttribute('aria-hidden', 'true');
    const td = tr.insertCell();
    td.colSpan = ncol;
    td.style.height = `${h}px`;
    return tr;
  };
  const frag = document.createDocumentFragment();
  frag.append(spacer(first * rowH));
  frag.append(renderRows(s.rows.slice(first, last), first));
  frag.append(spacer((s.rows.length - last) * rowH));
  if (s.done) {
    const tr = document.createElement('tr');
    const td = tr.insertCell();
    td.colSpan = ncol;
    td.className = 'end';
    td.id = 'end-of-data';
    td.textContent = `End of data: ${fmtInt(s.rows.length)} rows`;
    frag.append(tr);
  }
  tbody.replaceChildren(frag);
  if (!s.rowH) {
    const tr = tbody.querySelector('tr[data-i]');
    if (tr && tr.offsetHeight > 0) { s.rowH = tr.offsetHeight; renderWindow(true); return; }
  }
  markSelected(false);
  if (!s.done && last >= s.rows.length - OVERSCAN) loadMore();
}

// ---------------------------------------------------------------- keyboard

function markSelected(focus) {
  const tbody = $('grid').tBodies[0];
  tbody.querySelectorAll('tr.selected').forEach((tr) => { tr.classList.remove('selected'); tr.removeAttribute('aria-selected'); });
  if (app.selected < 0) return;
  const tr = tbody.querySelector(`tr[data-i="${app.selected}"]`);
  if (!tr) return;
  tr.classList.add('selected');
  tr.setAttribute('aria-selected', 'true');
  if (focus) tr.focus({ preventScroll: app.view === 'scroll' });
}

function moveSelection(delta) {
  const n = app.view === 'scroll' ? (app.scroll ? app.scroll.rows.length : 0) : (app.page ? app.page.rows.length : 0);
  if (n === 0) return;
  app.selected = Math.max(0, Math.min(n - 1, app.selected < 0 ? 0 : app.selected + delta));
  if (app.view === 'scroll') {
    const s = app.scroll;
    const wrap = $('table-wrap');
    const head = $('grid').tHead.offsetHeight;
    const top = head + app.selected * (s.rowH || 34);
    if (top < wrap.scrollTop + head) wrap.scrollTop = top - head;
    else if (top + s.rowH > wrap.scrollTop + wrap.clientHeight) wrap.scrollTop = top + s.rowH - wrap.clientHeight;
    renderWindow(false);
  }
  markSelected(true);
}

function onKey(e) {
  if (e.ctrlKey || e.metaKey || e.altKey) return;
  const t = e.target;
  if (t && (t.tagName === 'INPUT' || t.tagName === 'SELECT' || t.tagName === 'TEXTAREA')) return;
  if (e.key === 'j') { moveSelection(1); e.preventDefault(); }
  else if (e.key === 'k') { moveSelection(-1); e.preventDefault(); }
  else if (e.key === 'n' && app.view === 'pages' && !$('next').disabled) { $('next').click(); e.preventDefault(); }
  else if (e.key === 'p' && app.view === 'pages' && !$('prev').disabled) { $('prev').click(); e.preventDefault(); }
}

// ---------------------------------------------------------------- the view

// An endpoint's path as URLs spell it (percent-encoded: a table name may hold anything).
const epUrl = (e) => splitUrl(e.links.first).path;

function endpointFor(url) {
  const path = splitUrl(url).path;
  return app.endpoints.find((e) => epUrl(e) === path) || null;
}

async function show() {
  const seq = ++app.seq;
  clearError();
  let { view, url } = parseHash();
  let ep = endpointFor(url);
  if (!ep) {
    ep = app.endpoints.find((e) => e.style === 'folio') || app.endpoints[0];
    if (!ep) { $('summary').textContent = 'This server has no endpoints.'; return; }
    history.replaceState(null, '', hashFor('pages', epUrl(ep)));
    ({ view, url } = parseHash());
  }
  if (ep.style !== 'folio') view = 'pages';
  app.ep = ep;
  app.view = view;
  app.url = url;
  app.page = null;
  app.scroll = null;
  document.body.classList.toggle('scroll', view === 'scroll');
  $('endpoint').value = epUrl(ep);
  document.title = `${ep.path} · folio`;
  renderControls();
  renderHead();
  $('summary').textContent = 'Loading…';
  if (view === 'scroll') await showScroll(seq); else await showPages(seq);
}

async function start() {
  const res = await fetchApi('/');
  if (res.status !== 200 || !res.body || !Array.isArray(res.body.tables)) {
    showError(res);
    return;
  }
  app.endpoints = res.body.tables;
  const sel = $('endpoint');
  for (const e of app.endpoints) sel.append(new Option(e.style === 'folio' ? e.path : `${e.path} (${e.style})`, epUrl(e)));
  sel.addEventListener('change', () => go(sel.value, { view: 'pages' }));
  $('per-page').addEventListener('change', onPerPage);
  $('count').addEventListener('change', () => go(withParams((p) => { const v = $('count').value; if (v) p.set('count', v); else p.delete('count'); }, true)));
  $('view').addEventListener('change', () => go(withParams(() => {}), { view: $('view').value }));
  $('clear-filters').addEventListener('click', () => go(withParams((p) => app.ep.columns.forEach((c) => p.delete(c.name)))));
  $('first').addEventListener('click', () => app.page && go(app.page.links.first));
  $('prev').addEventListener('click', () => app.page && app.page.links.prev && go(app.page.links.prev));
  $('next').addEventListener('click', () => app.page && app.page.links.next && go(app.page.links.next));
  $('last').addEventListener('click', () => app.page && goLast());
  $('jump').addEventListener('submit', (e) => { e.preventDefault(); jumpTo(parseInt($('jump-page').value, 10)); });
  let ticking = false;
  $('table-wrap').addEventListener('scroll', () => {
    if (app.view !== 'scroll' || ticking) return;
    ticking = true;
    requestAnimationFrame(() => { ticking = false; renderWindow(false); });
  }, { passive: true });
  window.addEventListener('popstate', () => show());
  document.addEventListener('keydown', onKey);
  await show();
}

start();
