// /ui/api: the API reference, rendered from the server's own /openapi.json.
'use strict';

const el = (tag, props = {}, ...children) => {
  const e = document.createElement(tag);
  Object.assign(e, props);
  e.append(...children.filter((c) => c !== null && c !== undefined));
  return e;
};

function deref(doc, obj) {
  let o = obj;
  for (let i = 0; o && o.$ref && i < 8; i++) {
    o = o.$ref.replace(/^#\//, '').split('/').reduce((a, k) => (a ? a[k] : undefined), doc);
  }
  return o || {};
}

// A schema in a few words: type, limits, enum.
function describe(schema) {
  if (!schema) return '';
  const parts = [];
  const t = Array.isArray(schema.type) ? schema.type.join(' | ') : schema.type;
  if (t === 'array' && schema.items) {
    parts.push(`comma-separated list of ${describe(schema.items)}`);
    if (schema.maxItems) parts.push(`at most ${schema.maxItems}`);
    return parts.join(', ');
  }
  if (t) parts.push(t);
  if (schema.minimum !== undefined) parts.push(`≥ ${schema.minimum}`);
  if (schema.maximum !== undefined) parts.push(`≤ ${schema.maximum}`);
  if (schema.default !== undefined) parts.push(`default ${schema.default}`);
  if (schema.pattern) parts.push(`pattern ${schema.pattern}`);
  if (schema.enum) parts.push(`one of: ${schema.enum.join(', ')}`);
  if (schema.contentEncoding) parts.push(schema.contentEncoding);
  return parts.join(', ');
}

function paramTable(params) {
  const body = el('tbody');
  for (const p of params) {
    body.append(el('tr', {},
      el('td', {}, el('code', { textContent: p.name })),
      el('td', { textContent: p.in }),
      el('td', { className: 'enum', textContent: describe(p.schema) }),
      el('td', { textContent: p.description || '' })));
  }
  return el('table', {},
    el('thead', {}, el('tr', {}, ...['Parameter', 'In', 'Type and limits', 'Meaning'].map((h) => el('th', { scope: 'col', textContent: h })))),
    body);
}

function rowTable(doc, schema) {
  const s = deref(doc, schema);
  const body = el('tbody');
  for (const [name, col] of Object.entries(s.properties || {})) {
    body.append(el('tr', {},
      el('td', {}, el('code', { textContent: name })),
      el('td', { textContent: col['x-sqlite-type'] || '' }),
      el('td', { className: 'enum', textContent: describe(col) || 'any' })));
  }
  return el('table', {},
    el('thead', {}, el('tr', {}, ...['Column', 'Declared type', 'JSON'].map((h) => el('th', { scope: 'col', textContent: h })))),
    body);
}

function operation(doc, path, op) {
  const id = `op-${op.operationId}`;
  const sec = el('section', { id });
  const title = el('h2', {}, el('code', { textContent: `GET ${path}` }));
  sec.append(title, el('p', { textContent: op.summary || '' }));
  if (!path.includes('{') && (op.tags || []).some((t) => t === 'tables' || t === 'tutorial')) {
    sec.append(el('p', {}, el('a', { href: `/ui/#${path}`, textContent: 'Browse these rows' })));
  }
  if (op.parameters && op.parameters.length) sec.append(paramTable(op.parameters));
  const ok = op.responses && op.responses['200'];
  const content = ok && ok.content && ok.content['application/json'];
  const schema = content && content.schema;
  const items = schema && schema.properties && Object.values(schema.properties).find((p) => p.type === 'array' && p.items);
  if (items) {
    sec.append(el('h3', { textContent: 'Rows' }), rowTable(doc, items.items));
  }
  if (ok && ok.headers) {
    sec.append(el('p', { className: 'enum', textContent: `Response headers: ${Object.keys(ok.headers).join(', ')}` }));
  }
  const errs = Object.keys(op.responses || {}).filter((s) => s !== '200');
  if (errs.length) sec.append(el('p', { className: 'enum', textContent: `Errors: ${errs.join(', ')} (see Problem types below)` }));
  return sec;
}

async function main() {
  const ref = document.getElementById('reference');
  let doc;
  try {
    const r = await fetch('/openapi.json', { headers: { Accept: 'application/json' } });
    doc = await r.json();
  } catch (e) {
    ref.replaceChildren(el('p', { className: 'problem', textContent: `Cannot load /openapi.json: ${e}` }));
    return;
  }
  document.getElementById('title').textContent = `${doc.info.title} ${doc.info.version}: API reference`;
  document.getElementById('intro').textContent = doc.info.description || '';
  const toc = document.getElementById('toc');
  const out = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    if (!item.get) continue;
    out.push(operation(doc, path, item.get));
    toc.append(el('li', {}, el('a', { href: `#op-${item.get.operationId}`, textContent: path })));
  }
  const types = doc['x-problem-types'] || [];
  const pt = el('tbody');
  for (const t of types) {
    pt.append(el('tr', {},
      el('td', {}, el('a', { href: t.type, textContent: t.type })),
      el('td', { textContent: String(t.status) }),
      el('td', { textContent: t.title }),
      el('td', { textContent: `${t.meaning} ${t.todo}` })));
  }
  out.push(el('section', { id: 'problem-types' },
    el('h2', { textContent: 'Problem types' }),
    el('p', { textContent: 'Errors are application/problem+json (RFC 9457); their type is one of these stable identifiers.' }),
    el('table', {},
      el('thead', {}, el('tr', {}, ...['Type', 'Status', 'Title', 'Meaning and remedy'].map((h) => el('th', { scope: 'col', textContent: h })))),
      pt)));
  toc.append(el('li', {}, el('a', { href: '#problem-types', textContent: 'Problem types' })));
  ref.replaceChildren(...out);
}

main();
