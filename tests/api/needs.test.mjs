// Needs list and precise matching (issue 5): the item catalogue, needs with
// their derived status, difficulties, partners and offers, matching order and
// splitting, pledges racing for the same need or offer, scope, partner
// isolation, bad input, needs proposed from low stock, the exports.
// Runs on SQLite, and on PostgreSQL with CAREWATCH_TEST_PG.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { startServer, cli, sql, ROOT, DEMO_PASSWORD } from '../lib/server.mjs';

let srv, admin, inst, today, partner;
const T = 'elderly-daily-2022';
const count = (table, where = '') => Number(sql(srv.db, `SELECT COUNT(*) FROM ${table} ${where}`));

before(async () => {
  srv = await startServer({ demo: true });
  admin = await srv.api('admin');
  today = new Date().toLocaleDateString('sv-SE', { timeZone: 'Asia/Shanghai' });
  inst = {};
  for (const i of (await admin.get('/api/v1/institutions?per_page=100')).body.items) inst[i.name] = i;
  partner = (await admin.get('/api/v1/partners')).body.items.find((p) => p.name === '湖北省慈善总会');
  assert.ok(partner, 'the demo partner');
});
after(async () => { await srv?.stop(); });

async function created(c, p, body) {
  const r = await c.post(p, body);
  assert.equal(r.status, 201, `${p}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

test('the item catalogue holds every stock item of the templates, with Chinese names and units', async () => {
  const r = await (await srv.api('jg.dazhi')).get('/api/v1/items');
  assert.equal(r.status, 200);
  const codes = new Map(r.body.items.map((i) => [i.code, i]));
  assert.equal(codes.get('antipyretic').name_zh, '解热镇痛药');
  assert.equal(codes.get('antipyretic').unit, '人份');
  assert.equal(codes.get('oxygen_concentrator').category, 'device');
  for (const f of ['elderly-daily-2022', 'child-daily-2022', 'medical-survey-2022', 'yl-yx-daily-2020']) {
    const t = readFileSync(path.join(ROOT, 'templates', f + '.json'), 'utf8');
    for (const m of t.matchAll(/"item":\s*"([a-z_0-9]+)"/g)) assert.ok(codes.has(m[1]), `${f}: ${m[1]} in the catalogue`);
  }
});

test('the contract forms: a need raised, listed with requested / pledged / in transit / received / status', async () => {
  const c = await srv.api('mz.jiangan');
  const dazhi = inst['江岸区大智街敬老院'];
  const n = await created(c, '/api/v1/needs', { institution_id: dazhi.id, item: 'mask_n95', quantity: 300, urgency: 'high', needed_by: '2026-12-31', note: '联系人 王建国' });
  assert.match(n.ref, /^420102-\d{5}$/);
  assert.equal(n.status, 'open');
  const again = await created(c, '/api/v1/needs', { institution_id: dazhi.id, item: 'mask_n95', quantity: 1, urgency: 'normal', needed_by: '2026-12-31', note: '' });
  assert.equal(Number(again.ref.split('-')[1]), Number(n.ref.split('-')[1]) + 1, 'per-county sequence');
  const l = await c.get('/api/v1/needs?division=420102&item=mask_n95&status=open');
  assert.equal(l.status, 200);
  assert.equal(l.body.total, 2);
  const x = l.body.items.find((i) => i.id === n.id);
  for (const k of ['requested', 'pledged', 'in_transit', 'received', 'status']) assert.ok(k in x, k);
  assert.deepEqual([x.requested, x.pledged, x.in_transit, x.received, x.status], [300, 0, 0, 0, 'open']);
});

test('matching: most urgent and earliest needed first, nearest offers first, quantities split, never more than asked or held', async () => {
  const c = await srv.api('mz.hubei');
  const I = 'goggles'; // no demo need or offer of this item
  const p = await created(c, '/api/v1/partners', { name: '武汉护目镜志愿队', kind: 'volunteer', division_code: '4201' });
  const off = {};
  for (const [k, div, q, from] of [['prov', '42', 100, '2022-12-01'], ['city', '4201', 30, '2022-12-01'], ['county', '420102', 20, '2022-12-02'], ['late', '420102', 500, '2027-06-01']])
    off[k] = (await created(c, '/api/v1/offers', { partner_id: k === 'prov' ? partner.id : p.id, item: I, quantity: q, division_code: div, available_from: from })).id;
  const need = async (name, urgency, q, by) => (await created(c, '/api/v1/needs', { institution_id: inst[name].id, item: I, quantity: q, urgency, needed_by: by })).id;
  const N1 = await need('江岸区大智街敬老院', 'normal', 40, '2026-12-20');
  const N2 = await need('江岸区一元颐养中心', 'urgent', 30, '2026-12-25');
  const N3 = await need('江岸区一元颐养中心', 'urgent', 10, '2026-12-10');
  const N4 = await need('武汉市儿童福利院', 'high', 50, '2026-12-15');
  const pledgesBefore = count('pledges');
  // the offers serving one division: placed in it or above it, nothing beside it
  const serving = async (div) => (await c.get(`/api/v1/offers?item=${I}&division=${div}`)).body.items.map((o) => o.id).sort((a, b) => a - b);
  assert.deepEqual(await serving('420102'), [off.prov, off.city, off.county, off.late].sort((a, b) => a - b));
  assert.deepEqual(await serving('4201'), [off.prov, off.city, off.county, off.late].sort((a, b) => a - b));
  assert.deepEqual(await serving('420106'), [off.prov, off.city].sort((a, b) => a - b));
  assert.deepEqual(await serving('4202'), [off.prov]);
  assert.equal((await c.get(`/api/v1/offers?item=${I}&division=11`)).status, 404);
  assert.equal((await c.get(`/api/v1/offers?item=${I}&division=42x`)).body.error.code, 'invalid_division');
  const r = await c.post('/api/v1/matching/proposals', { division: '42', item: I });
  assert.equal(r.status, 200);
  const got = r.body.proposals.map((x) => [x.need_id, x.offer_id, x.quantity]);
  assert.deepEqual(got, [
    [N3, off.county, 10],
    [N2, off.county, 10], [N2, off.city, 20],
    [N4, off.city, 10], [N4, off.prov, 40],
    [N1, off.prov, 40],
  ]);
  assert.equal(r.body.proposals[0].level, 'county');
  assert.equal(count('pledges'), pledgesBefore, 'nothing stored');
  // the contract form without an item: the same proposals among others
  const all = await c.post('/api/v1/matching/proposals', { division: '42' });
  assert.equal(all.status, 200);
  for (const g of got) assert.ok(all.body.proposals.some((x) => x.need_id === g[0] && x.offer_id === g[1] && x.quantity === g[2]));
  // confirm them all (one edited down): the next run proposes only what is left
  for (const [need_id, offer_id, quantity] of got)
    await created(c, '/api/v1/pledges', { need_id, offer_id, quantity: need_id === N1 ? 25 : quantity });
  const next = await c.post('/api/v1/matching/proposals', { division: '42', item: I });
  assert.deepEqual(next.body.proposals.map((x) => [x.need_id, x.offer_id, x.quantity]), [[N1, off.prov, 15]]);
  const n3 = (await c.get(`/api/v1/needs/${N3}`)).body;
  assert.equal(n3.status, 'pledged');
  assert.equal(n3.pledges.length, 1);
  // a county official's run sees only its county's needs
  const j = await (await srv.api('mz.jiangan')).post('/api/v1/matching/proposals', { division: '420102', item: I });
  assert.deepEqual(j.body.proposals.map((x) => x.need_id), [N1]);
  assert.equal((await (await srv.api('mz.jiangan')).post('/api/v1/matching/proposals', { division: '4201' })).status, 404);
});

test('status derivation: requested → pledged → in transit → received (less) and what is left', async () => {
  const c = await srv.api('mz.wuhan');
  const I = 'gloves';
  const need = await created(c, '/api/v1/needs', { institution_id: inst['武昌区积玉桥养老院'].id, item: I, quantity: 10, urgency: 'urgent', needed_by: '2026-12-31' });
  const offer = await created(c, '/api/v1/offers', { partner_id: partner.id, item: I, quantity: 100, division_code: '4201', available_from: '2022-12-01' });
  const st = async () => { const n = (await c.get(`/api/v1/needs/${need.id}`)).body; return [n.requested, n.pledged, n.in_transit, n.received, n.outstanding, n.status]; };
  const a = await created(c, '/api/v1/pledges', { need_id: need.id, offer_id: offer.id, quantity: 4 });
  assert.deepEqual(await st(), [10, 4, 0, 0, 6, 'partially_pledged']);
  const b = await created(c, '/api/v1/pledges', { need_id: need.id, offer_id: offer.id, quantity: 6 });
  assert.deepEqual(await st(), [10, 10, 0, 0, 0, 'pledged']);
  const ngo = await srv.api('ngo.hubei');
  assert.equal((await ngo.patch(`/api/v1/pledges/${a.id}`, { status: 'shipped' })).status, 200);
  assert.deepEqual(await st(), [10, 10, 4, 0, 0, 'in_transit']);
  // one pledge cannot be shipped twice, received before it ships, or cancelled once on the road
  assert.equal((await ngo.patch(`/api/v1/pledges/${a.id}`, { status: 'shipped' })).body.error.code, 'invalid_transition');
  assert.equal((await c.patch(`/api/v1/pledges/${b.id}`, { status: 'received' })).status, 409);
  assert.equal((await c.patch(`/api/v1/pledges/${a.id}`, { status: 'cancelled' })).status, 409);
  // the database refuses it too, whoever writes
  assert.throws(() => sql(srv.db, `UPDATE pledges SET status = 'shipped' WHERE id = ${a.id}`));
  assert.throws(() => sql(srv.db, `UPDATE needs SET committed = quantity + 1 WHERE id = ${need.id}`));
  // received less than pledged: the shortfall is outstanding again
  assert.equal((await c.patch(`/api/v1/pledges/${a.id}`, { status: 'received', received_quantity: 3 })).status, 200);
  assert.deepEqual(await st(), [10, 9, 0, 3, 1, 'partially_received']);
  assert.equal((await c.patch(`/api/v1/pledges/${b.id}`, { status: 'shipped' })).status, 200);
  assert.deepEqual(await st(), [10, 9, 6, 3, 1, 'in_transit']);
  const rep = await srv.api('jg.dazhi'); // not this institution's reporter
  assert.equal((await rep.patch(`/api/v1/pledges/${b.id}`, { status: 'received' })).status, 404);
  assert.equal((await c.patch(`/api/v1/pledges/${b.id}`, { status: 'received', received_quantity: 7 })).status, 422);
  assert.equal((await c.patch(`/api/v1/pledges/${b.id}`, { status: 'received' })).status, 200);
  assert.deepEqual(await st(), [10, 9, 0, 9, 1, 'partially_received']);
  const last = await created(c, '/api/v1/pledges', { need_id: need.id, offer_id: offer.id, quantity: 1 });
  await c.patch(`/api/v1/pledges/${last.id}`, { status: 'shipped' });
  await c.patch(`/api/v1/pledges/${last.id}`, { status: 'received' });
  assert.deepEqual(await st(), [10, 10, 0, 10, 0, 'received']);
  // a cancelled pledge gives its quantity back to the need and the offer
  const n2 = await created(c, '/api/v1/needs', { institution_id: inst['武昌区积玉桥养老院'].id, item: I, quantity: 5, urgency: 'normal', needed_by: '2026-12-31' });
  const p2 = await created(c, '/api/v1/pledges', { need_id: n2.id, offer_id: offer.id, quantity: 5 });
  const before = (await c.get(`/api/v1/offers?item=${I}`)).body.items.find((o) => o.id === offer.id).remaining;
  assert.equal((await c.patch(`/api/v1/pledges/${p2.id}`, { status: 'cancelled' })).status, 200);
  assert.equal((await c.get(`/api/v1/offers?item=${I}`)).body.items.find((o) => o.id === offer.id).remaining, before + 5);
  assert.equal((await c.get(`/api/v1/needs/${n2.id}`)).body.status, 'open');
  const audit = sql(srv.db, `SELECT action FROM audit WHERE object_type = 'pledge' AND object_id = '${a.id}' ORDER BY seq`).split('\n');
  assert.deepEqual(audit, ['pledge.create', 'pledge.ship', 'pledge.receive']);
});

test('concurrent pledges never exceed a need or an offer', async () => {
  const c = await srv.api('mz.hubei');
  const I = 'disinfectant';
  const need = await created(c, '/api/v1/needs', { institution_id: inst['孝南区特困供养服务中心'].id, item: I, quantity: 50, urgency: 'urgent', needed_by: '2026-12-31' });
  const big = await created(c, '/api/v1/offers', { partner_id: partner.id, item: I, quantity: 1000, division_code: '42', available_from: '2022-12-01' });
  const res = await Promise.all(Array.from({ length: 40 }, () => c.post('/api/v1/pledges', { need_id: need.id, offer_id: big.id, quantity: 3 })));
  const ok = res.filter((r) => r.status === 201).length;
  assert.equal(ok, 16, 'as many as fit: 16 × 3 = 48 ≤ 50');
  for (const r of res.filter((x) => x.status !== 201)) assert.equal(r.body.error.code, 'over_pledged');
  const n = (await c.get(`/api/v1/needs/${need.id}`)).body;
  assert.equal(n.pledged, 48);
  assert.equal(Number(sql(srv.db, `SELECT SUM(quantity) FROM pledges WHERE need_id = ${need.id}`)), 48);
  // many needs racing for one small offer
  const small = await created(c, '/api/v1/offers', { partner_id: partner.id, item: I, quantity: 20, division_code: '42', available_from: '2022-12-01' });
  const many = await created(c, '/api/v1/needs', { institution_id: inst['荆州区社会福利院'].id, item: I, quantity: 1000, urgency: 'high', needed_by: '2026-12-31' });
  const res2 = await Promise.all(Array.from({ length: 30 }, () => c.post('/api/v1/pledges', { need_id: many.id, offer_id: small.id, quantity: 1 })));
  assert.equal(res2.filter((r) => r.status === 201).length, 20);
  assert.equal(Number(sql(srv.db, `SELECT pledged FROM offers WHERE id = ${small.id}`)), 20);
  assert.equal(Number(sql(srv.db, `SELECT SUM(quantity) FROM pledges WHERE offer_id = ${small.id}`)), 20);
  // shipping one pledge from many requests at once: exactly one wins
  const pid = res2.find((r) => r.status === 201).body.id;
  const ships = await Promise.all(Array.from({ length: 8 }, () => c.patch(`/api/v1/pledges/${pid}`, { status: 'shipped' })));
  assert.equal(ships.filter((r) => r.status === 200).length, 1);
  assert.equal(Number(sql(srv.db, `SELECT in_transit FROM needs WHERE id = ${many.id}`)), 1);
});

test('scope: officials see and write only inside their division, reporters only their institution', async () => {
  const j = await srv.api('mz.jiangan');
  const hongshan = inst['洪山区珞南福利院'];
  const r = await j.post('/api/v1/needs', { institution_id: hongshan.id, item: 'antipyretic', quantity: 5, urgency: 'high', needed_by: '2026-12-31' });
  assert.equal(r.status, 404);
  const list = await j.get('/api/v1/needs?per_page=1000');
  assert.ok(list.body.items.length > 0);
  assert.ok(list.body.items.every((n) => n.division_code.startsWith('420102')));
  assert.equal((await j.get('/api/v1/needs?division=420106')).status, 404);
  const rep = await srv.api('jg.dazhi');
  const mine = await rep.get('/api/v1/needs?per_page=1000');
  assert.ok(mine.body.items.every((n) => n.institution_id === rep.user.institution_id));
  const other = await rep.post('/api/v1/needs', { institution_id: inst['江岸区一元颐养中心'].id, item: 'antipyretic', quantity: 5, needed_by: '2026-12-31' });
  assert.equal(other.status, 404);
  const own = await created(rep, '/api/v1/needs', { institution_id: rep.user.institution_id, item: 'cough', quantity: 20, needed_by: '2026-12-31' });
  assert.equal(own.urgency, 'normal');
  const wuchang = (await admin.get('/api/v1/needs?division=420106')).body.items[0];
  assert.equal((await j.get(`/api/v1/needs/${wuchang.id}`)).status, 404);
  assert.equal((await j.patch(`/api/v1/needs/${wuchang.id}`, { quantity: 1 })).status, 404);
  const sum = await j.get('/api/v1/needs/summary');
  assert.equal(sum.status, 200);
  assert.ok(sum.body.by_division.every((d) => d.code.startsWith('420102')));
  assert.equal((await rep.get('/api/v1/partners')).status, 403);
  // a province-wide offer is visible to a county official, not its to change or to make
  const wide = await created(admin, '/api/v1/offers', { partner_id: partner.id, item: 'antipyretic', quantity: 50, division_code: '42', available_from: '2022-12-01' });
  assert.ok((await j.get('/api/v1/offers?per_page=1000')).body.items.some((o) => o.id === wide.id), 'visible');
  const edit = await j.patch(`/api/v1/offers/${wide.id}`, { quantity: 1 });
  assert.equal(edit.status, 403, edit.text);
  assert.equal(edit.body.error.code, 'out_of_scope');
  assert.equal(Number(sql(srv.db, `SELECT quantity FROM offers WHERE id = ${wide.id}`)), 50, 'unchanged');
  const make = await j.post('/api/v1/offers', { partner_id: partner.id, item: 'antipyretic', quantity: 5, division_code: '42', available_from: '2022-12-01' });
  assert.equal(make.status, 422, make.text);
  assert.equal(make.body.error.code, 'out_of_scope');
  const ok = await j.post('/api/v1/offers', { partner_id: partner.id, item: 'antipyretic', quantity: 5, division_code: '420102', available_from: '2022-12-01' });
  assert.equal(ok.status, 201, ok.text);
});

test('a partner sees needs of its own area only, without personal data, and its own offers and pledges', async () => {
  const ngo = await srv.api('ngo.hubei');
  assert.equal(ngo.user.partner_id, partner.id);
  // a need in Beijing and a proposal in Hubei are not for this partner
  const bj = (await admin.get('/api/v1/institutions?division=11')).body.items[0];
  const far = await created(admin, '/api/v1/needs', { institution_id: bj.id, item: 'antipyretic', quantity: 9, urgency: 'urgent', needed_by: '2026-12-31', note: '联系人 张三 13800001111' });
  const l = await ngo.get('/api/v1/needs?per_page=1000');
  assert.equal(l.status, 200);
  assert.ok(l.body.items.length > 0);
  assert.ok(l.body.items.every((n) => n.division_code.startsWith('42') && n.state === 'active'));
  assert.ok(!l.body.items.some((n) => n.id === far.id));
  assert.equal((await ngo.get(`/api/v1/needs/${far.id}`)).status, 404);
  assert.equal((await ngo.get('/api/v1/needs?division=11')).status, 404);
  for (const n of l.body.items) { assert.ok(!('note' in n)); assert.ok(!('created_by' in n)); assert.ok(!('pledges' in n)); }
  const text = JSON.stringify(l.body) + JSON.stringify((await ngo.get('/api/v1/needs/summary')).body) + JSON.stringify((await ngo.get('/api/v1/pledges')).body);
  for (const i of Object.values(inst)) {
    if (i.contact_phone) assert.ok(!text.includes(i.contact_phone), 'no contact phone');
    if (i.contact_name) assert.ok(!text.includes(i.contact_name), 'no contact person');
  }
  assert.ok(!text.includes('院内发热老人增多'), 'no notes');
  assert.equal((await ngo.get('/api/v1/difficulties')).status, 403);
  assert.equal((await ngo.post('/api/v1/needs', { institution_id: inst['江岸区大智街敬老院'].id, item: 'antipyretic', quantity: 1, needed_by: '2026-12-31' })).status, 403);
  assert.equal((await ngo.post('/api/v1/matching/proposals', { division: '42' })).status, 403);
  // its own organisation and offers only
  const other = await created(admin, '/api/v1/partners', { name: '孝感爱心志愿者协会', kind: 'volunteer', division_code: '4209' });
  await created(admin, '/api/v1/offers', { partner_id: other.id, item: 'antipyretic', quantity: 10, division_code: '4209', available_from: '2026-12-01' });
  assert.deepEqual((await ngo.get('/api/v1/partners')).body.items.map((p) => p.id), [partner.id]);
  assert.equal((await ngo.get(`/api/v1/partners/${other.id}`)).status, 404);
  assert.ok((await ngo.get('/api/v1/offers')).body.items.every((o) => o.partner_id === partner.id));
  assert.equal((await ngo.post('/api/v1/offers', { partner_id: other.id, item: 'antipyretic', quantity: 10, division_code: '4209', available_from: '2026-12-01' })).status, 404);
  const mine = await created(ngo, '/api/v1/offers', { partner_id: partner.id, item: 'antipyretic', quantity: 10, division_code: '4201', available_from: '2026-12-01' });
  assert.equal(mine.remaining, 10);
  assert.equal((await ngo.post('/api/v1/offers', { partner_id: partner.id, item: 'antipyretic', quantity: 10, division_code: '11', available_from: '2026-12-01' })).body.error.code, 'out_of_area');
  // its pledges: it ships, it does not receive
  const pl = (await ngo.get('/api/v1/pledges?status=pledged')).body.items;
  assert.ok(pl.length > 0 && pl.every((p) => p.partner_id === partner.id));
  assert.equal((await ngo.patch(`/api/v1/pledges/${pl[0].id}`, { status: 'received' })).status, 403);
  assert.equal((await ngo.patch(`/api/v1/pledges/${pl[0].id}`, { status: 'shipped' })).status, 200);
  // partner users: the partner must exist, and the user stays inside its area
  const add = (args) => cli(['user', 'add', '--db', srv.db, '--login', 'ngo.' + Math.random().toString(36).slice(2, 7), '--role', 'partner', ...args], { input: 'Partner2026x\n' });
  assert.notEqual(add(['--scope', '42', '--partner', '99999']).status, 0);
  assert.notEqual(add(['--scope', '42']).status, 0);
  assert.notEqual(add(['--scope', '11', '--partner', String(partner.id)]).status, 0);
  const ok = add(['--scope', '4201', '--partner', String(partner.id)]);
  assert.equal(ok.status, 0, ok.stderr);
});

test('bad input: 4xx with a stable code and a Chinese message, nothing stored', async () => {
  const c = await srv.api('mz.jiangan');
  const dazhi = inst['江岸区大智街敬老院'].id;
  const good = { institution_id: dazhi, item: 'antipyretic', quantity: 5, urgency: 'high', needed_by: '2026-12-31' };
  const counts = () => ['needs', 'offers', 'pledges', 'difficulties', 'partners', 'audit'].map((t) => count(t));
  const before = counts();
  const cases = [
    ['/api/v1/needs', { ...good, item: 'unicorn' }, 422, 'unknown_item'],
    ['/api/v1/needs', { ...good, quantity: 0 }, 422, null],
    ['/api/v1/needs', { ...good, quantity: 'many' }, 422, null],
    ['/api/v1/needs', { ...good, urgency: 'asap' }, 422, null],
    ['/api/v1/needs', { ...good, needed_by: '2026-02-30' }, 422, 'invalid_date'],
    ['/api/v1/needs', { ...good, extra: 1 }, 422, null],
    ['/api/v1/needs', { ...good, institution_id: 999999 }, 404, 'not_found'],
    ['/api/v1/difficulties', { institution_id: dazhi, category: 'weather', text: '下雪了' }, 422, null],
    ['/api/v1/difficulties', { institution_id: dazhi, category: 'staff' }, 422, null],
    ['/api/v1/partners', { name: '无名组织', kind: 'company', division_code: '420102' }, 422, null],
    ['/api/v1/partners', { name: '无名组织', kind: 'charity', division_code: '429999' }, 422, 'unknown_division'],
    ['/api/v1/offers', { partner_id: partner.id, item: 'antipyretic', quantity: -1, division_code: '420102', available_from: '2026-12-01' }, 422, null],
    ['/api/v1/offers', { partner_id: partner.id, item: 'antipyretic', quantity: 5, division_code: '420102', available_from: '2026/12/01' }, 422, 'invalid_date'],
    ['/api/v1/pledges', { need_id: 1, offer_id: 1, quantity: 0 }, 422, null],
    ['/api/v1/pledges', { need_id: 1, offer_id: 1, quantity: 1000000 }, 409, 'over_pledged'],
    ['/api/v1/pledges', { need_id: 2, offer_id: 1, quantity: 1 }, 422, 'item_mismatch'],
    ['/api/v1/matching/proposals', { division: '4x' }, 422, 'invalid_division'],
  ];
  for (const [p, body, status, code] of cases) {
    const r = await c.post(p, body);
    assert.equal(r.status, status, `${p} ${JSON.stringify(body)}: ${JSON.stringify(r.body)}`);
    assert.ok(r.body.error.code && (!code || r.body.error.code === code), `${p}: ${r.body.error.code}`);
    assert.match(r.body.error.message, /[\u4e00-\u9fff]/, 'Chinese message');
  }
  const need = (await c.get('/api/v1/needs?item=antipyretic')).body.items[0];
  assert.equal((await c.patch(`/api/v1/needs/${need.id}`, { quantity: 1 })).body.error.code, 'below_pledged');
  assert.equal((await c.patch(`/api/v1/needs/${need.id}`, { action: 'cancel' })).body.error.code, 'need_has_pledges');
  assert.equal((await c.patch(`/api/v1/needs/${need.id}`, { action: 'dismiss' })).body.error.code, 'not_proposed');
  assert.equal((await c.get('/api/v1/needs?status=lost')).status, 400);
  assert.deepEqual(counts(), before);
});

test('low stock proposes a need; the reporter confirms or dismisses it', async () => {
  const rep = await srv.api('jg.dazhi');
  const id = rep.user.institution_id;
  const cur = (await rep.get(`/api/v1/reports/${T}/${id}/${today}`)).body;
  const values = { ...cur.values, stock_antiviral: 1, used_antiviral: 5, stock_oximeter: 0, used_oximeter: 1 };
  const put = await rep.put(`/api/v1/reports/${T}/${id}/${today}`, { status: 'submitted', values, confirm_warnings: true });
  assert.ok([200, 201].includes(put.status), JSON.stringify(put.body));
  assert.ok(put.body.low_supply.includes('antiviral'));
  const props = (await rep.get('/api/v1/needs?status=proposed')).body.items;
  const av = props.find((n) => n.item === 'antiviral');
  assert.ok(av, 'an antiviral need proposed');
  assert.equal(av.ref, null);
  assert.equal(av.source, 'supply');
  assert.ok(av.quantity >= 1);
  // submitting again does not propose it twice
  await rep.put(`/api/v1/reports/${T}/${id}/${today}`, { status: 'submitted', values, confirm_warnings: true });
  assert.equal((await rep.get('/api/v1/needs?status=proposed&item=antiviral')).body.total, 1);
  // partners and matching ignore proposals
  assert.ok(!(await (await srv.api('ngo.hubei')).get('/api/v1/needs?per_page=1000')).body.items.some((n) => n.id === av.id));
  const ok = await rep.patch(`/api/v1/needs/${av.id}`, { action: 'confirm', quantity: av.quantity + 10 });
  assert.equal(ok.status, 200);
  assert.match(ok.body.ref, /^420102-\d{5}$/);
  assert.equal(ok.body.status, 'open');
  assert.equal(ok.body.quantity, av.quantity + 10);
  const ox = (await rep.get('/api/v1/needs?status=proposed')).body.items.find((n) => n.item === 'oximeter');
  if (ox) {
    assert.equal((await rep.patch(`/api/v1/needs/${ox.id}`, { action: 'dismiss' })).body.status, 'dismissed');
    await rep.put(`/api/v1/reports/${T}/${id}/${today}`, { status: 'submitted', values, confirm_warnings: true });
    assert.equal((await rep.get('/api/v1/needs?status=proposed&item=oximeter')).body.total, 0, 'not proposed again the same day');
  }
  const actions = sql(srv.db, `SELECT action FROM audit WHERE object_type = 'need' AND object_id = '${av.id}' ORDER BY seq`).split('\n');
  assert.deepEqual(actions, ['need.propose', 'need.confirm']);
});

test('difficulties: raised, answered, open → coordinating → resolved, counted by category and division', async () => {
  const rep = await srv.api('jg.dazhi');
  const off = await srv.api('mz.jiangan');
  const d = await created(rep, '/api/v1/difficulties', { institution_id: rep.user.institution_id, category: 'medical', text: '签约医院停诊，需要协调就医绿色通道' });
  assert.equal(d.status, 'open');
  assert.equal((await rep.patch(`/api/v1/difficulties/${d.id}`, { status: 'resolved' })).status, 403);
  const l = await off.get('/api/v1/difficulties');
  assert.ok(l.body.counts.by_category.medical >= 1);
  assert.ok(l.body.counts.by_division.some((x) => x.code.startsWith('420102') && x.unresolved >= 1));
  const a = await off.patch(`/api/v1/difficulties/${d.id}`, { status: 'coordinating', response: '已联系区卫健局' });
  assert.equal(a.body.status, 'coordinating');
  assert.equal(a.body.response, '已联系区卫健局');
  assert.equal((await off.patch(`/api/v1/difficulties/${d.id}`, { status: 'open' })).status, 409);
  assert.equal((await off.patch(`/api/v1/difficulties/${d.id}`, { status: 'resolved' })).body.status, 'resolved');
  assert.equal((await (await srv.api('mz.hongshan')).patch(`/api/v1/difficulties/${d.id}`, { response: 'x' })).status, 404);
  const rows = sql(srv.db, `SELECT action FROM audit WHERE object_type = 'difficulty' AND object_id = '${d.id}' ORDER BY seq`).split('\n');
  assert.deepEqual(rows, ['difficulty.create', 'difficulty.respond', 'difficulty.update']);
});

test('the needs list exports as CSV and xlsx with Chinese headers, in scope, and from the command line', async () => {
  const c = await srv.api('mz.wuhan');
  const r = await c.get('/api/v1/needs/export?format=csv&division=4201');
  assert.equal(r.status, 200);
  const lines = r.text.replace(/^\ufeff/, '').trim().split(/\r?\n/).map((l) => l.split(','));
  assert.deepEqual(lines[0], ['区划代码', '地区', '物资', '单位', '需求条数', '需求数量', '已认捐', '运输中', '已到货', '缺口']);
  assert.ok(lines.slice(1).every((l) => l[0].startsWith('4201')));
  const sum = (await c.get('/api/v1/needs/summary?division=4201')).body;
  assert.equal(lines.slice(1).reduce((a, l) => a + Number(l[5]), 0), sum.total.requested);
  assert.equal(lines.slice(1).reduce((a, l) => a + Number(l[9]), 0), sum.total.outstanding);
  const det = await c.get('/api/v1/needs/export?format=csv&detail=1');
  assert.match(det.text, /需求编号/);
  const x = await c.get('/api/v1/needs/export', { raw: true });
  assert.equal(x.status, 200);
  assert.equal(Buffer.from(await x.arrayBuffer()).subarray(0, 2).toString(), 'PK');
  assert.equal((await (await srv.api('mz.jiangan')).get('/api/v1/needs/export?format=csv&division=4202')).status, 404);
  assert.equal((await (await srv.api('ngo.hubei')).get('/api/v1/needs/export?format=csv')).status, 403);
  const out = path.join(srv.dir, 'needs.csv');
  const run = cli(['export', 'needs', '--db', srv.db, '--format', 'csv', '--out', out, '--scope', '4201']);
  assert.equal(run.status, 0, run.stderr);
  assert.equal(readFileSync(out, 'utf8').replace(/^\ufeff/, '').trim(), r.text.replace(/^\ufeff/, '').trim());
});
