// Vulnerable people at home (issue 6): registry, citizen-ID checks, risk
// scoring, visits and due dates in Asia/Shanghai, masking and audit of
// personal data, the key, scope, subsidies, gap checks, import and export.
// Runs on SQLite, and on PostgreSQL when CAREWATCH_TEST_PG is set.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync, writeFileSync } from 'node:fs';
import { spawnSync, execFileSync } from 'node:child_process';
import path from 'node:path';
import { startServer, sql, cli, newCid, cidWithCheck, BIN } from '../lib/server.mjs';

/* Unix seconds of a wall-clock time in Asia/Shanghai (UTC+8, no DST). */
const sh = (y, m, d, hh = 10, mm = 0) => Date.UTC(y, m - 1, d, hh - 8, mm) / 1000;
const T0 = sh(2026, 12, 28);
let srv, admin, jiangan, worker;
const isPg = () => /^postgres/.test(srv.db);

before(async () => {
  srv = await startServer({ demo: true, clock: T0, env: { CAREWATCH_SESSION_HOURS: '720' } });
  admin = await srv.api('admin');
  jiangan = await srv.api('mz.jiangan');
  worker = await srv.api('cun.dazhi');
});
after(async () => { await srv?.stop(); });

const count = (where = '1=1') => Number(sql(srv.db, `SELECT COUNT(*) FROM persons WHERE ${where}`));
const person = (over = {}) => ({
  name: '测试对象' + Math.random().toString(36).slice(2, 6), citizen_id: newCid('19400312', 'F'),
  categories: ['isolated_elderly'], division_code: '420102002', address: '大智街道友谊路1号', phone: '13812345678',
  guardian: '张三 13900001111', chronic_disease: 'none', vaccination: 'full', ...over,
});

test('citizen IDs: real ones are accepted with birth date and sex derived; wrong ones refused, nothing stored', async () => {
  const id = cidWithCheck('11010519491231002'); // the GB 11643 example: check character X
  assert.equal(id, '11010519491231002X');
  const r = await admin.post('/api/v1/persons', person({ citizen_id: id.toLowerCase() }));
  assert.equal(r.status, 201, r.text);
  assert.equal(r.body.birth_date, '1949-12-31');
  assert.equal(r.body.sex, 'F');
  assert.equal((await admin.get(`/api/v1/persons/${r.body.id}`)).body.citizen_id, id, 'admin holds the personal-data permission: unmasked, normalised X');
  const before = count();
  const bad = [
    ['11010519491231002Y', 'cid_chars'],
    ['110105194912310021', 'cid_checksum'],
    [cidWithCheck('42010219990230123'), 'cid_birth_date'], // 30 February
    [cidWithCheck('42010220270101123'), 'cid_birth_date'], // born after today
    [cidWithCheck('42010218991231123'), 'cid_birth_date'],
    ['4201021940031212', 'cid_length'],
    [cidWithCheck('99010219400312123'), 'cid_region'],
  ];
  for (const [cid, code] of bad) {
    const b = await admin.post('/api/v1/persons', person({ citizen_id: cid }));
    assert.equal(b.status, 422, cid);
    assert.equal(b.body.error.code, code, cid);
    assert.equal(b.body.error.field, 'citizen_id');
    assert.match(b.body.error.message, /[\u4e00-\u9fa5]/);
  }
  assert.equal(count(), before, 'nothing stored');
});

test('bad input answers 4xx with a stable code and stores nothing', async () => {
  const before = count();
  const cases = [
    [{ categories: [] }, 'invalid_category'],
    [{ categories: ['orphan'] }, 'invalid_category'],
    [{ categories: ['left_behind_child', 'left_behind_child'] }, 'invalid_category'],
    [{ division_code: '420102' }, 'division_level'],
    [{ division_code: '420102999' }, 'unknown_division'],
    [{ phone: 'call me' }, 'invalid_phone'],
    [{ chronic_disease: 'bad' }, 'invalid_value'],
    [{ vaccination: 'some' }, 'invalid_value'],
    [{ name: undefined }, 'required'],
    [{ extra: 1 }, 'unknown_field'],
    [{ worker_id: 999999 }, 'invalid_worker'],
  ];
  for (const [over, code] of cases) {
    const r = await admin.post('/api/v1/persons', person(over));
    assert.equal(r.status, 422, JSON.stringify(over) + r.text);
    assert.equal(r.body.error.code, code, JSON.stringify(over));
  }
  const notJson = await admin.post('/api/v1/persons', 'not json', { headers: { 'content-type': 'application/json' } });
  assert.equal(notJson.status, 400);
  assert.equal(count(), before);
});

test('risk class is scored as SPEC §3.6 with reasons', async () => {
  const cases = [
    // birth, chronic, vaccination → score, class (today 2026-12-28)
    ['19400312', 'unstable', 'none', 6, 'red'],
    ['19560601', 'stable', 'full', 2, 'yellow'],
    ['19461229', 'none', 'incomplete', 2, 'yellow'], // 79 until tomorrow: 1 + 1
    ['19461228', 'none', 'incomplete', 3, 'yellow'], // 80 today: 2 + 1
    ['19461228', 'stable', 'incomplete', 4, 'red'],
    ['20150505', 'none', 'full', 0, 'green'],
    ['19610101', 'none', 'full', 1, 'green'], // 65
    ['19621231', 'unstable', 'full', 2, 'yellow'], // 64
  ];
  for (const [birth, chronic, vaccination, score, cls] of cases) {
    const r = await admin.post('/api/v1/persons', person({ citizen_id: newCid(birth), chronic_disease: chronic, vaccination }));
    assert.equal(r.status, 201, r.text);
    assert.equal(r.body.risk_score, score, `${birth} ${chronic} ${vaccination}`);
    assert.equal(r.body.risk_class, cls);
    assert.equal(r.body.risk_reasons.reduce((s, x) => s + x.points, 0), score);
    for (const x of r.body.risk_reasons) assert.match(x.message, /[\u4e00-\u9fa5]/);
  }
  // the class follows an edit
  const p = (await admin.post('/api/v1/persons', person({ citizen_id: newCid('20150505') }))).body;
  const e = await admin.patch(`/api/v1/persons/${p.id}`, { chronic_disease: 'unstable', vaccination: 'none' });
  assert.equal(e.status, 200, e.text);
  assert.equal(e.body.risk_class, 'red');
  assert.equal(e.body.next_due, '2027-01-04', 'registered 2026-12-28 + 7 days for red');
});

test('visits: next due computed across month and year ends; overdue and due lists in Asia/Shanghai', async () => {
  const red = (await admin.post('/api/v1/persons', person({ name: '红色对象', citizen_id: newCid('19400312', 'M'), chronic_disease: 'unstable', vaccination: 'none' }))).body;
  const green = (await admin.post('/api/v1/persons', person({ name: '绿色对象', citizen_id: newCid('20150505'), categories: ['left_behind_child'] }))).body;
  assert.equal(red.risk_class, 'red');
  assert.equal(red.next_due, '2027-01-04');
  assert.equal(green.next_due, '2027-01-27');
  assert.equal(red.sex, 'M');
  // a visit today: next due across the year end
  const v = await admin.post(`/api/v1/persons/${red.id}/visits`, { date: '2026-12-28', mode: 'in_person', findings: { health: '血压偏高', supplies: '粮油充足', safety: '燃气正常' }, help: '送药', follow_up: true });
  assert.equal(v.status, 201, v.text);
  assert.equal(v.body.next_due, '2027-01-04');
  assert.equal(v.body.follow_up_needed, true);
  // due within 7 days (today .. today+7) lists it; within 6 does not
  let due = await admin.get('/api/v1/visits/due?division=420102002&within=7');
  assert.equal(due.status, 200);
  assert.ok(due.body.items.some((x) => x.person_id === red.id && x.due === '2027-01-04'));
  due = await admin.get('/api/v1/visits/due?division=420102002&within=6');
  assert.ok(!due.body.items.some((x) => x.person_id === red.id));
  // 2027-01-05 00:30 in Shanghai is still 2027-01-04 in UTC: overdue by the local date
  srv.setClock(sh(2027, 1, 5, 0, 30));
  let od = await admin.get('/api/v1/visits/overdue?division=420102002');
  assert.equal(od.status, 200);
  assert.equal(od.body.today, '2027-01-05');
  const item = od.body.items.find((x) => x.person_id === red.id);
  assert.ok(item, 'overdue on the local date');
  assert.equal(item.due, '2027-01-04');
  assert.equal(item.days_overdue, 1);
  assert.equal(item.name, '红色对象');
  assert.ok(!od.body.items.some((x) => x.person_id === green.id));
  // one minute earlier (23:29 local on the 4th) it is due today, not overdue
  srv.setClock(sh(2027, 1, 4, 23, 59));
  od = await admin.get('/api/v1/visits/overdue?division=420102002');
  assert.ok(!od.body.items.some((x) => x.person_id === red.id));
  // a future date is refused; a visit dated today in Shanghai (still yesterday in UTC) is not
  srv.setClock(sh(2027, 2, 1, 0, 30));
  const a2 = await srv.login('admin'); // the sessions of December have expired by February
  const fut = await a2.post(`/api/v1/persons/${green.id}/visits`, { date: '2027-02-02', mode: 'phone' });
  assert.equal(fut.status, 422);
  assert.equal(fut.body.error.code, 'future_date');
  const g = await a2.post(`/api/v1/persons/${green.id}/visits`, { date: '2027-02-01', mode: 'video', findings: '情况良好' });
  assert.equal(g.status, 201, g.text);
  assert.equal(g.body.next_due, '2027-03-03', '2027-02-01 + 30 days (February has 28)');
  // a late-entered older visit does not move the due date back
  const old = await a2.post(`/api/v1/persons/${green.id}/visits`, { date: '2027-01-31', mode: 'phone' });
  assert.equal(old.body.next_due, '2027-03-03');
  const month = await a2.post(`/api/v1/persons/${red.id}/visits`, { date: '2027-01-31', mode: 'phone' });
  assert.equal(month.body.next_due, '2027-02-07', 'January 31 + 7 crosses the month end');
  // a phone retrying a visit it could not confirm stores it once
  const key = 'visit-' + Math.random().toString(36).slice(2, 10);
  const k1 = await a2.post(`/api/v1/persons/${red.id}/visits`, { date: '2027-01-30', mode: 'in_person', client_key: key });
  const k2 = await a2.post(`/api/v1/persons/${red.id}/visits`, { date: '2027-01-30', mode: 'in_person', client_key: key });
  assert.equal(k1.status, 201);
  assert.equal(k2.status, 200);
  assert.equal(k2.body.replayed, true);
  assert.equal(k2.body.id, k1.body.id);
  assert.equal((await a2.post(`/api/v1/persons/${green.id}/visits`, { date: '2027-01-30', mode: 'phone', client_key: key })).status, 409);
  const list = await a2.get(`/api/v1/persons/${green.id}/visits`);
  assert.equal(list.body.total, 2);
  assert.equal(list.body.items[0].date, '2027-02-01');
  for (const bad of [{ date: '2027-02-30', mode: 'phone' }, { date: '2027-01-01', mode: 'letter' }, { date: '2027-01-01', mode: 'phone', findings: 5 }, { mode: 'phone' }]) {
    const r = await a2.post(`/api/v1/persons/${green.id}/visits`, bad);
    assert.equal(r.status, 422, JSON.stringify(bad));
  }
  assert.equal(Number(sql(srv.db, `SELECT COUNT(*) FROM visits WHERE person_id = ${green.id}`)), 2, 'bad visits stored nothing');
  // coverage rolls up by division and category
  const cov = await a2.get('/api/v1/visits/coverage?division=420102');
  assert.equal(cov.status, 200);
  const dz = cov.body.by_division.find((x) => x.division_code === '420102002');
  assert.ok(dz.people >= 2 && dz.visited >= 2);
  assert.ok(cov.body.by_category.some((c) => c.category === 'left_behind_child' && c.visited >= 1));
  assert.equal(cov.body.total.people, cov.body.by_division.reduce((s, x) => s + x.people, 0));
  srv.setClock(T0);
  srv.forgetSessions(); // expired while the clock was ahead
  admin = await srv.api('admin');
  jiangan = await srv.api('mz.jiangan');
  worker = await srv.api('cun.dazhi');
});

test('masking for every role; unmasked views and exports are audited; partners and reporters never reach it', async () => {
  const cid = newCid('19380704', 'M');
  const p = (await worker.post('/api/v1/persons', person({ citizen_id: cid, phone: '13912345678' }))).body;
  assert.equal(p.citizen_id.length, 18);
  assert.match(p.citizen_id, /^4201\*{10}\d{3}[\dX]$/);
  assert.equal(p.phone, '139****5678');
  assert.equal(p.worker_id, worker.user.id, 'a worker registers the people in their own care');
  const roles = { admin: true, 'mz.wuhan': true, 'mz.hubei': false, 'mz.jiangan': false, leader: false, 'cun.dazhi': false };
  for (const [login, pii] of Object.entries(roles)) {
    const c = await srv.api(login);
    const auditBefore = Number(sql(srv.db, `SELECT COUNT(*) FROM audit WHERE action = 'person.view_pii' AND actor = '${login}'`));
    const g = await c.get(`/api/v1/persons/${p.id}`);
    assert.equal(g.status, 200, login);
    assert.equal(g.body.citizen_id === cid, pii, login);
    assert.equal(g.body.phone === '13912345678', pii, login);
    assert.equal(g.body.masked, !pii);
    if (!pii) assert.equal(g.body.citizen_id, cid.slice(0, 4) + '**********' + cid.slice(14));
    const l = await c.get(`/api/v1/persons?division=420102002&citizen_id=${cid}`);
    assert.equal(l.status, 200);
    assert.equal(l.body.total, 1, 'exact citizen-ID search through the keyed hash');
    assert.equal(l.body.items[0].citizen_id === cid, pii);
    const auditAfter = Number(sql(srv.db, `SELECT COUNT(*) FROM audit WHERE action = 'person.view_pii' AND actor = '${login}'`));
    assert.equal(auditAfter - auditBefore, pii ? 1 : 0, login);
    if (pii) assert.equal(sql(srv.db, `SELECT COUNT(*) FROM audit WHERE action = 'person.list_pii' AND actor = '${login}'`) > 0, true);
    // ?masked=1 asks for masked values and writes no audit row
    const m = await c.get(`/api/v1/persons/${p.id}?masked=1`);
    assert.notEqual(m.body.citizen_id, cid);
  }
  for (const login of ['jg.dazhi', 'ngo.hubei']) {
    const c = await srv.api(login);
    for (const u of [`/api/v1/persons/${p.id}`, '/api/v1/persons', '/api/v1/visits/overdue', '/api/v1/gaps', '/api/v1/exports/persons'])
      assert.equal((await c.get(u)).status, 403, `${login} ${u}`);
  }
  // exports: masked without the permission, audited always
  const e1 = await jiangan.get('/api/v1/exports/persons?format=csv&division=420102002');
  assert.equal(e1.status, 200);
  assert.ok(!e1.text.includes(cid));
  assert.ok(e1.text.includes(cid.slice(0, 4) + '**********'));
  assert.ok(!e1.text.includes('13912345678'));
  const e2 = await admin.get('/api/v1/exports/persons?format=csv&division=420102002');
  assert.ok(e2.text.includes(cid));
  const x = await admin.call('GET', '/api/v1/exports/persons?format=xlsx&division=420102', undefined, { raw: true });
  assert.equal(x.status, 200);
  assert.equal((await x.arrayBuffer()).byteLength > 1000, true);
  const rows = sql(srv.db, "SELECT actor || ':' || after_json FROM audit WHERE action = 'person.export' ORDER BY seq");
  assert.match(rows, /mz\.jiangan:.*"unmasked":false/);
  assert.match(rows, /admin:.*"unmasked":true/);
  // the log of changes holds masked values only
  assert.equal(Number(sql(srv.db, `SELECT COUNT(*) FROM audit WHERE after_json LIKE '%${cid}%' OR before_json LIKE '%${cid}%'`)), 0);
});

test('the database never holds a citizen ID or phone in clear', async () => {
  const cid = newCid('19330303', 'F');
  const phone = '13755554444';
  const p = await admin.post('/api/v1/persons', person({ citizen_id: cid, phone }));
  assert.equal(p.status, 201);
  if (isPg()) {
    const dump = sql(srv.db, "SELECT COALESCE(string_agg(p::text, '|'), '') FROM persons p") + sql(srv.db, "SELECT COALESCE(string_agg(a::text, '|'), '') FROM audit a");
    assert.ok(!dump.includes(cid) && !dump.includes(phone));
  } else {
    sql(srv.db, 'PRAGMA wal_checkpoint(FULL)');
    for (const f of [srv.db, srv.db + '-wal']) {
      if (!existsSync(f)) continue;
      const bytes = readFileSync(f).toString('latin1');
      assert.ok(!bytes.includes(cid), `${f} holds the citizen ID`);
      assert.ok(!bytes.includes(phone), `${f} holds the phone`);
    }
    assert.ok(!readFileSync(srv.db).toString('latin1').includes(readFileSync(path.join(srv.dir, 'test.db.key'), 'utf8').trim()), 'the key is not in the database');
  }
  // the ciphertext is bound to its record: moved to another record it does not decrypt
  const other = (await admin.post('/api/v1/persons', person())).body;
  sql(srv.db, `UPDATE persons SET cid_enc = (SELECT cid_enc FROM persons WHERE id = ${p.body.id}) WHERE id = ${other.id}`);
  const g = await admin.get(`/api/v1/persons/${other.id}`);
  assert.equal(g.status, 200);
  assert.equal(g.body.pii_error, true);
  assert.notEqual(g.body.citizen_id, cid);
});

test('the key: missing → 503 pii_key_unavailable, wrong → serve refuses to start, never plaintext', async () => {
  const s2 = await startServer({ demo: true, serveEnv: { CAREWATCH_KEY_FILE: '/nonexistent/carewatch.key' } });
  try {
    const a = await s2.api('admin');
    for (const [m, u, b] of [['GET', '/api/v1/persons'], ['GET', '/api/v1/persons/1'], ['POST', '/api/v1/persons', person()], ['GET', '/api/v1/visits/overdue'], ['GET', '/api/v1/exports/persons']]) {
      const r = await a.call(m, u, b);
      assert.equal(r.status, 503, `${m} ${u}`);
      assert.equal(r.body.error.code, 'pii_key_unavailable');
    }
    assert.equal((await a.get('/api/v1/institutions')).status, 200, 'the rest of the system works');
  } finally { await s2.stop(); }
  // a wrong key: serve refuses to start, with a clear message
  const wrong = path.join(srv.dir, 'wrong.key');
  writeFileSync(wrong, 'ab'.repeat(32) + '\n', { mode: 0o600 });
  const r = spawnSync(BIN, ['serve', '--db', srv.db, '--listen', '127.0.0.1:0'], { encoding: 'utf8', timeout: 20000, env: { ...process.env, CAREWATCH_KEY_FILE: wrong } });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /key does not match/);
  const bad = path.join(srv.dir, 'bad.key');
  writeFileSync(bad, 'not a key\n', { mode: 0o600 });
  const r2 = spawnSync(BIN, ['serve', '--db', srv.db, '--listen', '127.0.0.1:0'], { encoding: 'utf8', timeout: 20000, env: { ...process.env, CAREWATCH_KEY_FILE: bad } });
  assert.notEqual(r2.status, 0);
  assert.match(r2.stderr, /malformed/);
  // init never replaces a lost key with a new one that could not read the data
  const lost = cli(['init', '--db', srv.db], { env: { ...srv.env, CAREWATCH_KEY_FILE: path.join(srv.dir, 'lost.key') } });
  assert.notEqual(lost.status, 0);
  assert.match(lost.stderr, /missing/);
  assert.ok(!existsSync(path.join(srv.dir, 'lost.key')));
  // the key file init created: mode 0600, beside the SQLite database
  if (!isPg()) assert.equal(spawnSync('stat', ['-c', '%a', path.join(srv.dir, 'test.db.key')], { encoding: 'utf8' }).stdout.trim(), '600');
});

test('scope: nothing outside the caller\'s area is read or written', async () => {
  const out = (await admin.post('/api/v1/persons', person({ name: '洪山保密对象', division_code: '420111001' }))).body;
  assert.ok(out.id);
  assert.equal((await jiangan.get(`/api/v1/persons/${out.id}`)).status, 404);
  assert.equal((await jiangan.patch(`/api/v1/persons/${out.id}`, { address: 'x' })).status, 404);
  assert.equal((await jiangan.post(`/api/v1/persons/${out.id}/visits`, { date: '2026-12-28', mode: 'phone' })).status, 404);
  assert.equal((await jiangan.put(`/api/v1/persons/${out.id}/subsidies/2026-12`, { amount: 100 })).status, 404);
  assert.equal((await jiangan.get('/api/v1/persons?division=420111')).status, 404);
  const all = await jiangan.get('/api/v1/persons?per_page=500');
  assert.ok(!all.text.includes('洪山保密对象'));
  assert.ok(!(await jiangan.get('/api/v1/visits/due?within=60')).text.includes('洪山保密对象'));
  const c = await jiangan.post('/api/v1/persons', person({ division_code: '420111001' }));
  assert.equal(c.status, 422);
  assert.equal(c.body.error.code, 'out_of_scope');
  const mv = await jiangan.post('/api/v1/persons', person());
  assert.equal((await jiangan.patch(`/api/v1/persons/${mv.body.id}`, { division_code: '420111001' })).body.error.code, 'out_of_scope');
  // a worker sees their township only
  const w = await worker.get('/api/v1/persons?per_page=500');
  assert.ok(w.body.items.every((x) => x.division_code === '420102002'));
  assert.equal((await worker.get('/api/v1/persons?division=420102003')).status, 404);
  const mine = await worker.get('/api/v1/persons?worker=me');
  assert.ok(mine.body.items.every((x) => x.worker_id === worker.user.id));
  assert.equal(Number(sql(srv.db, "SELECT COUNT(*) FROM audit WHERE actor IN ('mz.jiangan', 'cun.dazhi') AND division_code LIKE '420111%'")), 0);
});

test('search by name, category and area; edits are audited', async () => {
  const p = (await admin.post('/api/v1/persons', person({ name: '搜索王小明', categories: ['left_behind_child', 'child_in_difficulty'], citizen_id: newCid('20120101', 'M'), division_code: '420102003' }))).body;
  let r = await admin.get('/api/v1/persons?q=王小明');
  assert.equal(r.body.total, 1);
  r = await admin.get('/api/v1/persons?category=child_in_difficulty&division=420102003');
  assert.ok(r.body.items.some((x) => x.id === p.id));
  assert.deepEqual(r.body.items.find((x) => x.id === p.id).category_labels, ['留守儿童', '困境儿童']);
  r = await admin.get('/api/v1/persons?category=foster_child&division=420102003');
  assert.ok(!r.body.items.some((x) => x.id === p.id));
  assert.equal((await admin.get('/api/v1/persons?category=bad')).status, 400);
  assert.equal((await admin.get('/api/v1/persons?citizen_id=123')).status, 400);
  const e = await admin.patch(`/api/v1/persons/${p.id}`, { situation: 'moved', phone: '13700000000' });
  assert.equal(e.status, 200, e.text);
  assert.equal(e.body.next_due, null, 'moved away: no visits due');
  assert.equal(e.body.phone, '137****0000', 'a write answers masked');
  assert.equal((await admin.get(`/api/v1/persons/${p.id}`)).body.phone, '13700000000');
  const row = sql(srv.db, `SELECT before_json || after_json FROM audit WHERE action = 'person.update' AND object_id = '${p.id}'`);
  assert.match(row, /"situation":"moved"/);
  assert.ok(!row.includes('13700000000'));
  // a new citizen ID re-derives birth date and sex, and the phone survives
  const nid = newCid('20100606', 'F');
  const e2 = await admin.patch(`/api/v1/persons/${p.id}`, { citizen_id: nid });
  assert.equal(e2.body.birth_date, '2010-06-06');
  assert.equal(e2.body.sex, 'F');
  assert.equal((await admin.get(`/api/v1/persons/${p.id}`)).body.phone, '13700000000', 'the phone survives a new ID');
  assert.equal((await admin.get(`/api/v1/persons?citizen_id=${nid}`)).body.total, 1);
});

test('subsidies: monthly amounts and payments, unpaid months flagged, export', async () => {
  const p = (await admin.post('/api/v1/persons', person({ categories: ['scattered_orphan'], citizen_id: newCid('20140202') }))).body;
  let r = await admin.put(`/api/v1/persons/${p.id}/subsidies/2026-11`, { amount: 1200.5 });
  assert.equal(r.status, 201, r.text);
  assert.equal(r.body.late, true, 'November unpaid at the end of December');
  r = await admin.put(`/api/v1/persons/${p.id}/subsidies/2026-12`, { amount: 1200, paid_date: '2026-12-10' });
  assert.equal(r.body.unpaid, false);
  r = await admin.put(`/api/v1/persons/${p.id}/subsidies/2026-11`, { amount: 1200.5, paid_date: '2026-12-20' });
  assert.equal(r.status, 200);
  r = await admin.put(`/api/v1/persons/${p.id}/subsidies/2026-10`, { amount: 1200 });
  const l = await admin.get(`/api/v1/persons/${p.id}/subsidies`);
  assert.equal(l.body.total, 3);
  assert.equal(l.body.late, 1);
  assert.equal(l.body.items.find((x) => x.month === '2026-11').amount, 1200.5);
  for (const [m, b] of [['2026-13', { amount: 1 }], ['2026-12', { amount: -1 }], ['2026-12', { amount: 1, paid_date: '2027-01-01' }], ['2026-12', {}]])
    assert.ok([400, 422].includes((await admin.put(`/api/v1/persons/${p.id}/subsidies/${m}`, b)).status), m + JSON.stringify(b));
  const u = await jiangan.get('/api/v1/subsidies?unpaid=1');
  assert.ok(u.body.items.some((x) => x.person_id === p.id && x.month === '2026-10' && x.late));
  const x = await jiangan.get('/api/v1/exports/subsidies?format=csv');
  assert.equal(x.status, 200);
  assert.ok(x.text.includes('逾期未发放'));
  assert.ok(Number(sql(srv.db, "SELECT COUNT(*) FROM audit WHERE action = 'subsidy.export'")) >= 1);
  assert.ok(Number(sql(srv.db, `SELECT COUNT(*) FROM audit WHERE action = 'subsidy.set' AND object_id = '${p.id}/2026-11'`)) === 2);
});

test('gap checks: duplicate IDs across areas, unsupported children without subsidy, never visited', async () => {
  const cid = newCid('20160606', 'M');
  const a = (await admin.post('/api/v1/persons', person({ name: '重复甲', citizen_id: cid, division_code: '420102002', categories: ['de_facto_unsupported_child'] }))).body;
  const b = await admin.post('/api/v1/persons', person({ name: '重复乙', citizen_id: cid, division_code: '420111001' }));
  assert.equal(b.status, 201);
  assert.equal(b.body.warnings[0].code, 'duplicate_citizen_id');
  const g = await jiangan.get('/api/v1/gaps');
  assert.equal(g.status, 200);
  const dup = g.body.duplicate_ids.items.find((x) => x.records.some((r) => r.person_id === a.id));
  assert.ok(dup, 'duplicate found');
  assert.equal(dup.records.length, 2);
  const outside = dup.records.find((r) => r.division_code === '420111001');
  assert.equal(outside.outside_scope, true);
  assert.equal(outside.name, undefined, 'the twin outside the scope shows only its area');
  assert.ok(!g.text.includes(cid));
  assert.ok(g.body.unsupported_without_subsidy.items.some((x) => x.person_id === a.id));
  assert.ok(g.body.never_visited.items.some((x) => x.person_id === a.id));
  await admin.put(`/api/v1/persons/${a.id}/subsidies/2026-12`, { amount: 950 });
  await admin.post(`/api/v1/persons/${a.id}/visits`, { date: '2026-12-28', mode: 'in_person' });
  const g2 = await jiangan.get('/api/v1/gaps');
  assert.ok(!g2.body.unsupported_without_subsidy.items.some((x) => x.person_id === a.id));
  assert.ok(!g2.body.never_visited.items.some((x) => x.person_id === a.id));
});

test('import: UTF-8 and GB18030 with a per-row report; an invalid row imports nothing unless skipped', async () => {
  const ids = [newCid('19450101'), newCid('19500505', 'M'), newCid('20180808')];
  const csv = `姓名,公民身份号码,对象类别,行政区划代码,住址,联系电话,慢性病情况,疫苗接种情况\n` +
    `导入甲,${ids[0]},孤寡老人,420102002,大智路1号,13800000001,慢性病稳定,全程接种\n` +
    `导入乙,${ids[1]},留守老人、特困人员,420102003,一元路2号,,不稳定,未接种\n` +
    `导入丙,${ids[2].slice(0, 17)}${ids[2][17] === '0' ? '1' : '0'},留守儿童,420102002,,,,\n`;
  const before = count();
  let r = await jiangan.post('/api/v1/imports/persons', csv, { headers: { 'content-type': 'text/csv' } });
  assert.equal(r.status, 422, r.text);
  assert.equal(r.body.rejected, 1);
  assert.equal(r.body.problems[0].line, 4);
  assert.equal(r.body.problems[0].field, 'citizen_id');
  assert.equal(count(), before, 'nothing imported');
  r = await jiangan.post('/api/v1/imports/persons?skip_invalid=1', execFileSync('iconv', ['-f', 'UTF-8', '-t', 'GB18030'], { input: Buffer.from(csv, 'utf8') }), { headers: { 'content-type': 'text/csv' } });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.encoding, 'GB18030');
  assert.equal(r.body.imported, 2);
  assert.equal(count(), before + 2);
  const yi = (await jiangan.get(`/api/v1/persons?citizen_id=${ids[1]}`)).body.items[0];
  assert.deepEqual(yi.categories, ['left_behind_elderly', 'extremely_poor']);
  assert.equal(yi.risk_class, 'red'); // 76: 1, unstable 2, none 2
  assert.equal(Number(sql(srv.db, "SELECT COUNT(*) FROM audit WHERE action = 'person.create' AND actor = 'mz.jiangan'")) >= 2, true);
  // out of scope rows are refused
  const out = `姓名,公民身份号码,对象类别,行政区划代码\n越权,${newCid('19400101')},孤寡老人,420111001\n`;
  r = await jiangan.post('/api/v1/imports/persons', out, { headers: { 'content-type': 'text/csv' } });
  assert.equal(r.status, 422);
  assert.equal(r.body.problems[0].code, 'out_of_scope');
  r = await jiangan.post('/api/v1/imports/persons', '名字,号码\n1,2\n', { headers: { 'content-type': 'text/csv' } });
  assert.equal(r.body.error.code, 'missing_columns');
});

test('CLI: import persons and export persons|subsidies', async () => {
  const f = path.join(srv.dir, 'p.csv');
  const cid = newCid('19420202');
  writeFileSync(f, `name,citizen_id,categories,division_code\n命令行导入,${cid},isolated_elderly,420106001\n`);
  const env = srv.env;
  let r = cli(['import', 'persons', '--db', srv.db, f], { env });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /1 imported/);
  const out = path.join(srv.dir, 'p.csv.out');
  r = cli(['export', 'persons', '--db', srv.db, '--format', 'csv', '--out', out, '--scope', '420106'], { env });
  assert.equal(r.status, 0, r.stderr);
  const text = readFileSync(out, 'utf8');
  assert.ok(text.includes('命令行导入') && !text.includes(cid));
  r = cli(['export', 'persons', '--db', srv.db, '--format', 'xlsx', '--out', out + '.xlsx', '--unmasked'], { env });
  assert.equal(r.status, 0, r.stderr);
  r = cli(['export', 'subsidies', '--db', srv.db, '--format', 'csv', '--out', out + '.s.csv'], { env });
  assert.equal(r.status, 0, r.stderr);
  assert.ok(Number(sql(srv.db, "SELECT COUNT(*) FROM audit WHERE action = 'person.export' AND actor = 'cli'")) >= 2);
  // a wrong key refuses
  const wrong = path.join(srv.dir, 'wrong2.key');
  writeFileSync(wrong, 'cd'.repeat(32));
  r = cli(['import', 'persons', '--db', srv.db, f], { env: { ...env, CAREWATCH_KEY_FILE: wrong } });
  assert.notEqual(r.status, 0);
});

test('racing writes to one person lose nothing: concurrent visits and edits leave the latest visit and its due date', async () => {
  const p = (await admin.post('/api/v1/persons', person({ name: '并发对象' }))).body;
  // 24 visits from three sessions at once, the latest (12-27) somewhere in the middle
  const dates = Array.from({ length: 24 }, (_, i) => `2026-12-${String(i === 11 ? 27 : 1 + ((i * 7) % 26)).padStart(2, '0')}`);
  const who = [admin, worker, jiangan];
  const rs = await Promise.all([
    ...dates.map((date, i) => who[i % 3].post(`/api/v1/persons/${p.id}/visits`, { date, mode: 'phone', findings: '电话询问', help: '' })),
    admin.patch(`/api/v1/persons/${p.id}`, { address: '大智街道友谊路2号' }),
    jiangan.patch(`/api/v1/persons/${p.id}`, { guardian: '李四 13900002222' }),
  ]);
  for (const r of rs) assert.ok(r.status === 200 || r.status === 201, r.text);
  const row = sql(srv.db, `SELECT last_visit, next_due, visit_count, address, guardian FROM persons WHERE id = ${p.id}`).split('|');
  assert.equal(row[0], '2026-12-27', 'the latest visit wins, whatever the order the requests committed in');
  assert.equal(row[2], String(dates.length), 'every visit counted');
  const one = await admin.get(`/api/v1/persons/${p.id}`);
  assert.equal(one.body.last_visit, '2026-12-27');
  assert.equal(one.body.next_due, row[1]);
  assert.ok(row[1] > '2026-12-27', 'the due date follows the latest visit');
  assert.equal(row[3], '大智街道友谊路2号');
});
