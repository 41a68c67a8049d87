// /openapi.json against a real server: valid OpenAPI 3.1 (by @seriousme/openapi-schema-
// validator), complete (every endpoint of GET /, every problem type), and true: every
// parameter it documents is accepted, an undocumented one gets 400, and rows match the
// documented column schemas.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Validator } from '@seriousme/openapi-schema-validator';

import { getJson, makeDb, startFolio, tempDir } from './folio.mjs';

const CONFIG = `
[api]
auto = true

[[endpoint]]
path = "/users"
table = "users"
columns = ["id", "name"]
style = "tutorial-offset"

[[endpoint]]
path = "/messages"
table = "messages"
columns = ["id", "body"]
style = "tutorial-keyset"

[[endpoint]]
path = "/items"
table = "items"
columns = ["id", "name"]
style = "tutorial-signed"

[[endpoint]]
path = "/products"
table = "items"
columns = ["id", "name", "price", "category"]
sortable = ["price", "category"]
filterable = ["price", "category"]
default_sort = "-price"
`;

let srv;
let doc;

before(async () => {
  const db = makeDb(tempDir('folio-openapi-'), 500);
  srv = await startFolio(db, { config: CONFIG });
  doc = (await getJson(`${srv.base}/openapi.json`)).body;
});

after(async () => { if (srv) await srv.stop(); });

test('the document is valid OpenAPI 3.1', async () => {
  const v = new Validator();
  const res = await v.validate(doc);
  assert.equal(v.version, '3.1');
  assert.deepEqual(res, { valid: true });
});

test('every endpoint of GET / and folio\'s own are documented', async () => {
  const index = (await getJson(`${srv.base}/`)).body;
  assert.ok(index.tables.length >= 9, JSON.stringify(index.tables.map((t) => t.path)));
  // Paths as URLs spell them: percent-encoded (a table here is called `odd name?#`).
  for (const t of index.tables) {
    const key = t.links.first.split('?')[0];
    assert.ok(doc.paths[key] && doc.paths[key].get, key);
  }
  assert.ok(doc.paths['/api/odd%20name%3F%23']);
  for (const p of ['/', '/healthz', '/metrics', '/openapi.json', '/problems', '/problems/{slug}']) {
    assert.ok(doc.paths[p], p);
  }
  const headers = Object.keys(doc.paths['/api/users'].get.responses['200'].headers);
  for (const h of ['Link', 'X-Total-Count', 'RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset']) {
    assert.ok(headers.includes(h), h);
  }
});

test('sortable and filterable columns are enums and parameters; per_page has its bounds', () => {
  const params = Object.fromEntries(doc.paths['/products'].get.parameters.map((p) => [p.name, p]));
  assert.deepEqual(params.sort.schema.items.enum, ['price', '-price', 'category', '-category']);
  assert.deepEqual(params.fields.schema.items.enum, ['id', 'name', 'price', 'category']);
  assert.ok(params.price && params.category && !params.name && !params.id);
  assert.equal(params.per_page.schema.minimum, 1);
  assert.equal(params.per_page.schema.maximum, 100);
  const row = doc.components.schemas[doc.paths['/products'].get.responses['200'].content['application/json']
    .schema.properties.data.items.$ref.split('/').pop()];
  assert.deepEqual(row.properties.price.type, ['number', 'null']);
  assert.equal(row.properties.id.type, 'integer');
});

test('every problem type is listed with its status, and each resolves', async () => {
  const types = doc['x-problem-types'];
  assert.ok(types.length >= 20);
  for (const t of types) {
    const r = await getJson(`${srv.base}${t.type}`);
    assert.equal(r.status, 200, t.type);
    assert.equal(r.body.status, t.status, t.type);
    const resp = doc.components.responses[`Problem${t.status}`];
    assert.ok(resp, `Problem${t.status}`);
    const schema = resp.content['application/problem+json'].schema.allOf[1];
    assert.ok(schema.properties.type.enum.includes(t.type), t.type);
  }
});

// A value the schema allows, for a parameter of a folio-style endpoint.
function sample(p, cursors) {
  const s = p.schema;
  if (p.name in cursors) return cursors[p.name];
  if (s.type === 'array') return s.items.enum[0];
  if (s.enum) return s.enum[0];
  if (s.type === 'integer') return String(s.maximum !== undefined ? Math.min(s.maximum, 3) : Math.max(s.minimum || 0, 2));
  if (s.pattern && s.pattern.includes('eq|neq')) return 'is.not.null';
  return 'x';
}

test('every documented parameter is accepted and an undocumented one gets 400', async () => {
  let checked = 0;
  for (const [path, item] of Object.entries(doc.paths)) {
    const op = item.get;
    const tutorial = (op.tags || []).includes('tutorial');
    if (!tutorial && !(op.tags || []).includes('tables')) continue;
    const first = await getJson(`${srv.base}${path}?per_page=2`);
    assert.equal(first.status, 200, path);
    if (tutorial) {
      // The tutorial's own cursors: the last id, or a signed token.
      const c = first.body.next_cursor;
      for (const p of op.parameters) {
        const value = p.name === 'after' || p.name === 'cursor' ? String(c) : sample(p, {});
        const r = await getJson(`${srv.base}${path}?${p.name}=${encodeURIComponent(value)}`);
        assert.equal(r.status, 200, `${path}?${p.name}=${value}: ${JSON.stringify(r.body)}`);
        checked++;
      }
      continue;
    }
    // Cursors come from the links: `after` from page 1's next, `before` from page 2's prev.
    const cursors = { after: null, before: null };
    if (first.body.links.next) {
      cursors.after = new URL(first.body.links.next, srv.base).searchParams.get('after');
      const second = await getJson(`${srv.base}${first.body.links.next}`);
      cursors.before = new URL(second.body.links.prev, srv.base).searchParams.get('before');
    }
    for (const p of op.parameters) {
      if (p.in !== 'query') continue;
      const value = sample(p, cursors);
      if (value === null) continue;
      const url = `${srv.base}${path}?${p.name}=${encodeURIComponent(value)}`;
      const r = await getJson(url);
      assert.equal(r.status, 200, `${url}: ${JSON.stringify(r.body)}`);
      checked++;
    }
    const bad = await getJson(`${srv.base}${path}?not_a_parameter=1`);
    assert.equal(bad.status, 400, path);
    assert.equal(bad.body.type, '/problems/unknown-parameter');
  }
  assert.ok(checked >= 60, `only ${checked} parameters checked`);
  // A column that is exposed but not filterable is not a parameter either.
  const r = await getJson(`${srv.base}/products?name=eq.x`);
  assert.equal(r.status, 400);
});

test('rows match the documented column schemas', async () => {
  const typeOk = (v, t) => (t === 'integer' ? Number.isInteger(v) : t === 'number' ? typeof v === 'number'
    : t === 'string' ? typeof v === 'string' : t === 'null' ? v === null : false);
  for (const [path, item] of Object.entries(doc.paths)) {
    const op = item.get;
    if (!(op.tags || []).includes('tables')) continue;
    const schema = op.responses['200'].content['application/json'].schema;
    const ref = schema.properties.data.items.$ref.split('/').pop();
    const row = doc.components.schemas[ref];
    const page = await getJson(`${srv.base}${path}?per_page=50`);
    for (const r of page.body.data) {
      for (const [k, v] of Object.entries(r)) {
        const col = row.properties[k];
        assert.ok(col, `${path}: ${k} undocumented`);
        if (!col.type) continue;
        const types = Array.isArray(col.type) ? col.type : [col.type];
        assert.ok(types.some((t) => typeOk(v, t)), `${path}.${k}: ${JSON.stringify(v)} is not ${types}`);
      }
    }
  }
});

test('values outside the documented schemas are refused with 400', async () => {
  const params = Object.fromEntries(doc.paths['/api/items'].get.parameters.map((p) => [p.name, p]));
  const bad = {
    per_page: String(params.per_page.schema.minimum - 1),
    limit: '0',
    page: String(params.page.schema.minimum - 1),
    offset: String(params.offset.schema.minimum - 1),
    sort: 'not_a_column',
    count: 'maybe',
    fields: 'not_a_column',
    after: 'not-a-cursor',
    before: 'AAAA',
  };
  for (const p of Object.values(params)) {
    if (p.in !== 'query') continue;
    if (p.schema.pattern && p.schema.pattern.includes('eq|neq')) bad[p.name] = 'about.10'; // a filter
    assert.ok(p.name in bad, `no bad value for ${p.name}`);
    const r = await getJson(`${srv.base}/api/items?${p.name}=${encodeURIComponent(bad[p.name])}`);
    assert.equal(r.status, 400, `${p.name}=${bad[p.name]}: ${JSON.stringify(r.body)}`);
    assert.ok(doc['x-problem-types'].some((t) => t.type === r.body.type), r.body.type);
  }
  // The documented maximum offset is the last one served by number.
  const max = params.offset.schema.maximum;
  assert.equal((await getJson(`${srv.base}/api/items?offset=${max}`)).status, 200);
  const deep = await getJson(`${srv.base}/api/items?offset=${max + 1}`);
  assert.equal(deep.status, 400);
  assert.equal(deep.body.type, '/problems/offset-too-deep');
});
