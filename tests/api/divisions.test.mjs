// Divisions: the real 2023 GB/T 2260 list, browsing, path and search.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, sql } from '../lib/server.mjs';

let srv, c;
before(async () => { srv = await startServer({ demo: true }); c = await srv.api('mz.jiangan'); });
after(async () => { await srv?.stop(); });

test('init loads 31 provinces, 342 prefectures, 2,978 counties, 41,352 townships', () => {
  const counts = sql(srv.db, 'SELECT level, COUNT(*) FROM divisions GROUP BY level ORDER BY level').split('\n').map((l) => l.split('|').map(Number));
  assert.deepEqual(counts, [[1, 31], [2, 342], [3, 2978], [4, 41352]]);
});

test('provinces, then Hubei\'s 14 prefecture-level units', async () => {
  const p = await c.get('/api/v1/divisions?parent=');
  assert.equal(p.status, 200);
  assert.equal(p.body.total, 31);
  assert.ok(p.body.items.some((d) => d.code === '42' && d.name === '湖北省'));
  const none = await c.get('/api/v1/divisions');
  assert.equal(none.body.total, 31);
  const h = await c.get('/api/v1/divisions?parent=42');
  assert.equal(h.body.total, 14);
  assert.ok(h.body.items.some((d) => d.code === '4201' && d.name === '武汉市'));
  assert.ok(h.body.items.every((d) => d.level === 2 && d.parent === '42'));
  const t = await c.get('/api/v1/divisions?parent=420102');
  assert.ok(t.body.items.some((d) => d.name === '大智街道'));
});

test('a division with its path to the root', async () => {
  const r = await c.get('/api/v1/divisions/420102002');
  assert.equal(r.status, 200);
  assert.equal(r.body.name, '大智街道');
  assert.equal(r.body.level, 4);
  assert.deepEqual(r.body.path.map((x) => x.code), ['42', '4201', '420102', '420102002']);
  assert.equal(r.body.full_name, '湖北省 武汉市 江岸区 大智街道');
  assert.equal((await c.get('/api/v1/divisions/429999')).status, 404);
  assert.equal((await c.get('/api/v1/divisions/abc')).status, 404);
});

test('search by name', async () => {
  const r = await c.get('/api/v1/divisions?q=' + encodeURIComponent('武汉'));
  assert.equal(r.status, 200);
  assert.equal(r.body.items[0].code, '4201');
  assert.equal(r.body.items[0].full_name, '湖北省 武汉市');
  const pct = await c.get('/api/v1/divisions?q=' + encodeURIComponent('%'));
  assert.equal(pct.body.total, 0, 'LIKE wildcards are escaped');
  assert.equal((await c.get('/api/v1/divisions?parent=4x')).status, 400);
});
