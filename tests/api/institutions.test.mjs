// Institution registry: create, validate, edit with status history, scope
// isolation in reads, lists and exports; reporters see only their own.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, sql, newUscc } from '../lib/server.mjs';

let srv, jiangan, hongshan, wuhan;
before(async () => {
  srv = await startServer({ demo: true });
  jiangan = await srv.api('mz.jiangan');
  hongshan = await srv.api('mz.hongshan');
  wuhan = await srv.api('mz.wuhan');
});
after(async () => { await srv?.stop(); });

const base = () => ({
  name: '江岸区测试养老院', uscc: newUscc('420102'), type: 'elderly_care', ownership: 'private',
  division_code: '420102002', address: '大智街道测试路1号', beds: 88, contact_name: '张三',
  contact_phone: '13800138000', medical: 'contracted', status: 'normal', risk_level: 'medium',
});

test('an official registers an institution in its county; the server normalises and labels it', async () => {
  const body = base();
  body.uscc = body.uscc.toLowerCase();
  const r = await jiangan.post('/api/v1/institutions', body);
  assert.equal(r.status, 201, JSON.stringify(r.body));
  assert.equal(r.body.uscc, body.uscc.toUpperCase());
  assert.equal(r.body.type_label, '养老机构');
  assert.equal(r.body.division_name, '大智街道');
  assert.equal(r.body.beds, 88);
  const got = await jiangan.get(`/api/v1/institutions/${r.body.id}`);
  assert.equal(got.status, 200);
  assert.equal(got.body.name, body.name);
  const hist = await jiangan.get(`/api/v1/institutions/${r.body.id}/history`);
  assert.equal(hist.body.items.length, 1);
  assert.equal(hist.body.items[0].status, 'normal');
  assert.equal(sql(srv.db, `SELECT COUNT(*) FROM audit WHERE action = 'institution.create' AND object_id = '${r.body.id}'`), '1');
});

test('every field error is reported beside its field and nothing is stored', async () => {
  const n0 = sql(srv.db, 'SELECT COUNT(*) FROM institutions');
  const bad = { ...base(), uscc: '91350100M000100Y44', type: 'hotel', division_code: '420102999', contact_phone: 'call me', beds: -1 };
  const r = await jiangan.post('/api/v1/institutions', bad);
  assert.equal(r.status, 422);
  const fields = r.body.error.details.map((d) => d.field).sort();
  assert.deepEqual(fields, ['beds']); // the spec check (types, bounds) runs first
  const r2 = await jiangan.post('/api/v1/institutions', { ...bad, beds: 10 });
  assert.equal(r2.status, 422);
  const f2 = Object.fromEntries(r2.body.error.details.map((d) => [d.field, d.code]));
  assert.equal(f2.uscc, r2.body.error.details.find((d) => d.field === 'uscc').code);
  assert.match(f2.uscc, /uscc_/);
  assert.equal(f2.type, 'invalid_value');
  assert.equal(f2.division_code, 'unknown_division');
  assert.equal(f2.contact_phone, 'invalid_phone');
  for (const d of r2.body.error.details) assert.ok(/[\u4e00-\u9fff]/.test(d.message), 'Chinese message: ' + d.message);
  assert.equal(sql(srv.db, 'SELECT COUNT(*) FROM institutions'), n0);
});

test('the credit code is unique and the division must be a county or township in scope', async () => {
  const a = base();
  assert.equal((await jiangan.post('/api/v1/institutions', a)).status, 201);
  const dup = await jiangan.post('/api/v1/institutions', { ...base(), uscc: a.uscc });
  assert.equal(dup.status, 422);
  assert.equal(dup.body.error.code, 'uscc_taken');
  const city = await wuhan.post('/api/v1/institutions', { ...base(), division_code: '4201' });
  assert.equal(city.status, 422);
  assert.equal(city.body.error.code, 'division_level');
  const other = await jiangan.post('/api/v1/institutions', { ...base(), division_code: '420111001' });
  assert.equal(other.status, 422);
  assert.equal(other.body.error.code, 'out_of_scope');
});

test('a county official never sees another county: 404, absent from lists, searches and exports', async () => {
  const mine = await hongshan.post('/api/v1/institutions', { ...base(), name: '洪山区秘密养老院', division_code: '420111002', uscc: newUscc('420111') });
  assert.equal(mine.status, 201, JSON.stringify(mine.body));
  const id = mine.body.id;
  const get = await jiangan.get(`/api/v1/institutions/${id}`);
  assert.equal(get.status, 404);
  assert.equal(get.body.error.code, 'not_found');
  assert.equal((await jiangan.get(`/api/v1/institutions/${id}/history`)).status, 404);
  const patch = await jiangan.patch(`/api/v1/institutions/${id}`, { name: '被篡改' });
  assert.equal(patch.status, 404);
  const list = await jiangan.get('/api/v1/institutions?per_page=500');
  assert.ok(list.body.items.every((i) => i.division_code.startsWith('420102')));
  assert.ok(!list.body.items.some((i) => i.id === id));
  const search = await jiangan.get('/api/v1/institutions?q=' + encodeURIComponent('洪山区秘密'));
  assert.equal(search.body.total, 0);
  const other = await jiangan.get('/api/v1/institutions?division=420111');
  assert.equal(other.status, 404);
  const csv = await jiangan.get('/api/v1/exports/institutions?format=csv');
  assert.equal(csv.status, 200);
  assert.ok(!csv.text.includes('洪山区秘密养老院'));
  assert.ok(csv.text.includes('江岸区'));
  // the city sees both
  const city = await wuhan.get(`/api/v1/institutions/${id}`);
  assert.equal(city.status, 200);
  assert.equal(sql(srv.db, `SELECT name FROM institutions WHERE id = ${id}`), '洪山区秘密养老院');
});

test('a reporter sees only its own institution and cannot edit the registry', async () => {
  const rep = await srv.api('jg.dazhi');
  const list = await rep.get('/api/v1/institutions?per_page=500');
  assert.equal(list.status, 200);
  assert.equal(list.body.total, 1);
  assert.equal(list.body.items[0].id, rep.user.institution_id);
  const own = await rep.get(`/api/v1/institutions/${rep.user.institution_id}`);
  assert.equal(own.status, 200);
  const all = await wuhan.get('/api/v1/institutions?division=420102&per_page=500');
  const neighbour = all.body.items.find((i) => i.id !== rep.user.institution_id);
  assert.equal((await rep.get(`/api/v1/institutions/${neighbour.id}`)).status, 404);
  const w = await rep.patch(`/api/v1/institutions/${rep.user.institution_id}`, { beds: 1 });
  assert.equal(w.status, 403);
  const exp = await rep.get('/api/v1/exports/institutions?format=csv');
  assert.equal(exp.status, 403);
});

test('editing keeps a status history and an audit trail with before and after', async () => {
  const c = await jiangan.post('/api/v1/institutions', base());
  const id = c.body.id;
  const p = await jiangan.patch(`/api/v1/institutions/${id}`, { status: 'closed', status_note: '实行封闭管理', beds: 90 });
  assert.equal(p.status, 200, JSON.stringify(p.body));
  assert.equal(p.body.status, 'closed');
  assert.equal(p.body.status_label, '封闭管理');
  assert.equal(p.body.version, 2);
  const p2 = await jiangan.patch(`/api/v1/institutions/${id}`, { status: 'resumed' });
  assert.equal(p2.status, 200);
  const hist = await jiangan.get(`/api/v1/institutions/${id}/history`);
  assert.deepEqual(hist.body.items.map((h) => h.status), ['normal', 'closed', 'resumed']);
  assert.equal(hist.body.items[1].note, '实行封闭管理');
  assert.equal(hist.body.items[1].changed_by, 'mz.jiangan');
  const audit = JSON.parse(sql(srv.db, `SELECT before_json FROM audit WHERE action = 'institution.update' AND object_id = '${id}' ORDER BY seq LIMIT 1`));
  assert.equal(audit.status, 'normal');
  assert.equal(audit.beds, 88);
});

test('list filters and paging', async () => {
  const all = await wuhan.get('/api/v1/institutions?per_page=2&page=1');
  assert.equal(all.body.items.length, 2);
  assert.ok(all.body.total > 2);
  const p2 = await wuhan.get('/api/v1/institutions?per_page=2&page=2');
  assert.notEqual(p2.body.items[0].id, all.body.items[0].id);
  const child = await wuhan.get('/api/v1/institutions?type=child_welfare');
  assert.ok(child.body.total >= 1);
  assert.ok(child.body.items.every((i) => i.type === 'child_welfare'));
  const closed = await wuhan.get('/api/v1/institutions?status=closed&per_page=500');
  assert.ok(closed.body.items.every((i) => i.status === 'closed'));
  assert.equal((await wuhan.get('/api/v1/institutions?type=bogus')).status, 400);
  assert.equal((await wuhan.get('/api/v1/institutions?per_page=100000')).status, 400);
  assert.equal((await wuhan.get('/api/v1/institutions?division=42x')).status, 400);
});

test('partners and workers have no access to the registry', async () => {
  for (const login of ['ngo.hubei', 'cun.dazhi']) {
    const c = await srv.api(login);
    const r = await c.get('/api/v1/institutions');
    assert.equal(r.status, 403, login);
  }
});
