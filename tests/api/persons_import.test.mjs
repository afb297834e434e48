// Importing people in bulk (issue 6): rows are written many per INSERT, so
// these check the edges of that — an invalid row in the last, short chunk
// still stops the whole file; a clean row stores exactly what the API stores;
// every problem is still reported per row; every created person keeps its own
// audit row. Runs on SQLite, and on PostgreSQL when CAREWATCH_TEST_PG is set.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startServer, sql, cli, newCid, cidWithCheck } from '../lib/server.mjs';

const sh = (y, m, d, hh = 10, mm = 0) => Date.UTC(y, m - 1, d, hh - 8, mm) / 1000;
let srv, admin, jiangan, worker;
before(async () => {
  srv = await startServer({ demo: true, clock: sh(2026, 12, 28) });
  admin = await srv.api('admin');
  jiangan = await srv.api('mz.jiangan');
  worker = await srv.api('cun.dazhi');
});
after(async () => { await srv?.stop(); });

const CHUNK = 64; // PERSON_BULK_ROWS in src/person_bulk.h
const HEAD = '姓名,公民身份号码,对象类别,行政区划代码,住址,联系电话,监护人或联系人,慢性病情况,疫苗接种情况,生活状况,责任人编号\n';
const count = (where = '1=1') => Number(sql(srv.db, `SELECT COUNT(*) FROM persons WHERE ${where}`));
const audits = () => Number(sql(srv.db, "SELECT COUNT(*) FROM audit WHERE action = 'person.create'"));
const post = (client, csv, q = '') => client.post('/api/v1/imports/persons' + q, csv, { headers: { 'content-type': 'text/csv' } });
/* a cid no other test uses: birth dates by row number */
const cidOf = (i, region = '420102') => cidWithCheck(region + String(19300101 + (i % 28) + 100 * (i % 12)) + String(500 + (i % 500)).padStart(3, '0').slice(-3));
const rows = (n, from = 0, town = '420102002') => Array.from({ length: n }, (_, k) => {
  const i = from + k;
  return `批量${i},${cidOf(i)},孤寡老人,${town},大智路${i}号,13800${String(i).padStart(6, '0')},,,,,\n`;
}).join('');

test(`an invalid row in the last, short chunk (${3 * CHUNK}+1 rows) imports nothing; skipped, the others are stored, each with its audit row`, async () => {
  const good = rows(3 * CHUNK, 1000);
  const bad = `批量坏行,${cidOf(9999).slice(0, 17)}${cidOf(9999)[17] === '0' ? '1' : '0'},孤寡老人,420102002,,,,,,,\n`;
  const before = count(), auditBefore = audits();
  let r = await post(jiangan, HEAD + good + bad);
  assert.equal(r.status, 422, r.text);
  assert.equal(r.body.rows, 3 * CHUNK + 1);
  assert.equal(r.body.rejected, 1);
  assert.equal(r.body.valid, 3 * CHUNK);
  assert.equal(r.body.imported, 0);
  assert.deepEqual(r.body.problems.map((p) => [p.line, p.field, p.code]), [[3 * CHUNK + 2, 'citizen_id', 'cid_checksum']]);
  assert.equal(count(), before, 'nothing imported');
  assert.equal(audits(), auditBefore, 'nothing audited');
  // the invalid row first: nothing either
  r = await post(jiangan, HEAD + bad + good);
  assert.equal(r.status, 422);
  assert.equal(r.body.problems[0].line, 2);
  assert.equal(count(), before);
  // a dry run stores nothing and counts the valid rows
  r = await post(jiangan, HEAD + good, '?dry_run=1');
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.valid, 3 * CHUNK);
  assert.equal(r.body.committed, false);
  assert.equal(count(), before);
  // skipped: every other row stored, and audited one by one
  r = await post(jiangan, HEAD + good + bad, '?skip_invalid=1');
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.imported, 3 * CHUNK);
  assert.equal(count(), before + 3 * CHUNK);
  assert.equal(audits(), auditBefore + 3 * CHUNK);
  const ids = sql(srv.db, "SELECT id FROM persons WHERE name LIKE '批量%' ORDER BY id").split('\n').map(Number);
  assert.equal(ids.length, 3 * CHUNK);
  const audited = Number(sql(srv.db, `SELECT COUNT(DISTINCT object_id) FROM audit WHERE action = 'person.create' AND object_type = 'person' AND object_id IN (${ids.map((i) => `'${i}'`).join(',')})`));
  assert.equal(audited, ids.length, 'each created person has its own audit row');
  // the creation is found through the API, masked
  const last = ids[ids.length - 1];
  const a = await admin.get(`/api/v1/audit?object_type=person&object_id=${last}`);
  assert.equal(a.status, 200, a.text);
  const created = a.body.items.find((x) => x.action === 'person.create');
  assert.ok(created, 'creation audited');
  assert.equal(created.actor, 'mz.jiangan');
  assert.equal(created.division_code, '420102002');
  assert.equal(created.after.name, `批量${1000 + 3 * CHUNK - 1}`);
  assert.match(created.after.citizen_id, /^4201\*+\d{3}[\dX]$/);
  assert.match(created.after.phone, /\*/);
  assert.ok(!a.text.includes(cidOf(1000 + 3 * CHUNK - 1)), 'no citizen ID in the audit log');
  const first = await admin.get(`/api/v1/audit?object_type=person&object_id=${ids[0]}`);
  assert.equal(first.body.items.filter((x) => x.action === 'person.create').length, 1);
  const v = cli(['audit', 'verify', '--db', srv.db], { env: srv.env });
  assert.equal(v.status, 0, v.stdout + v.stderr);
});

test('a long import crosses the helper thread\'s hand-overs (2×512+65 rows): all or nothing, each person stored once with its own audit row', async () => {
  // person_bulk.c hands rows to its helper thread 512 at a time and inserts
  // them 64 per statement: this file takes two full hand-overs and a short one
  const N = 2 * 8 * CHUNK + CHUNK + 1, FROM = 6000;
  const good = rows(N, FROM, '420102003');
  const bad = `批量坏行2,${cidOf(9998).slice(0, 17)}${cidOf(9998)[17] === '0' ? '1' : '0'},孤寡老人,420102003,,,,,,,\n`;
  const before = count(), auditBefore = audits();
  let r = await post(jiangan, HEAD + good + bad);
  assert.equal(r.status, 422, r.text);
  assert.equal(r.body.valid, N);
  assert.equal(count(), before, 'nothing imported');
  assert.equal(audits(), auditBefore, 'nothing audited');
  r = await post(jiangan, HEAD + good);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.imported, N);
  const got = sql(srv.db, `SELECT p.id, p.name, p.phone_masked, a.object_id FROM persons p LEFT JOIN audit a ON a.action = 'person.create' AND a.object_id = CAST(p.id AS TEXT) WHERE p.division_code = '420102003' AND p.name LIKE '批量%' ORDER BY p.id`)
    .split('\n').map((l) => l.split('|'));
  assert.equal(got.length, N, 'every row stored once');
  got.forEach(([id, name, phone, audited], k) => {
    assert.equal(name, `批量${FROM + k}`, 'in file order');
    assert.equal(audited, id, `person ${id} has its audit row`);
    assert.ok(phone.endsWith(String(FROM + k).padStart(6, '0').slice(-4)), 'its own phone');
  });
  assert.equal(audits(), auditBefore + N);
});

test('an imported row stores exactly what the API stores for the same person', async () => {
  const cid = newCid('19440505', 'M');
  const body = {
    name: '对照甲', citizen_id: cid, categories: ['left_behind_elderly', 'extremely_poor'], division_code: '420102002',
    address: '大智路"引号",逗号 1号', phone: '138-1234 5678', guardian: '李四 13900001111', chronic_disease: 'stable',
    vaccination: 'none', situation: 'in_hospital', worker_id: worker.user.id,
  };
  const r1 = await jiangan.post('/api/v1/persons', body);
  assert.equal(r1.status, 201, r1.text);
  const csv = HEAD + `对照甲,${cid.toLowerCase()},留守老人、特困人员,420102002,"大智路""引号"",逗号 1号",138-1234 5678,李四 13900001111,稳定,未接种,住院,${worker.user.id}\n`;
  const r2 = await post(jiangan, csv);
  assert.equal(r2.status, 200, r2.text);
  assert.equal(r2.body.imported, 1);
  const cols = 'name, categories, division_code, address, cid_hash, cid_key, cid_masked, phone_masked, birth_date, sex, guardian, ' +
    'worker_id, situation, chronic_disease, vaccination, risk_class, risk_score, risk_reasons, registered, next_due, visit_count';
  const [a, b] = sql(srv.db, `SELECT ${cols} FROM persons WHERE name = '对照甲' ORDER BY id`).split('\n');
  assert.equal(b, a);
  // both decrypt to the same ID and phone
  const ids = sql(srv.db, "SELECT id FROM persons WHERE name = '对照甲' ORDER BY id").split('\n');
  for (const id of ids) {
    const p = (await admin.get(`/api/v1/persons/${id}`)).body;
    assert.equal(p.citizen_id, cid);
    assert.equal(p.phone, '138-1234 5678');
  }
  // a worker's import: the worker looks after the people, as when they register one
  const w = await post(worker, '姓名,公民身份号码,对象类别,行政区划代码\n' + `对照乙,${newCid('20150101')},留守儿童,420102002\n`);
  assert.equal(w.status, 200, w.text);
  assert.equal(sql(srv.db, "SELECT worker_id FROM persons WHERE name = '对照乙'"), String(worker.user.id));
});

test('every kind of bad row is still reported on its line, and nothing is imported', async () => {
  const long = '长'.repeat(51);
  const lines = [
    [`重复类别,${newCid('19400101')},孤寡老人、isolated_elderly,420102002,,,,,,,`, 'categories', 'invalid_category'],
    [`未知类别,${newCid('19400101')},孤儿,420102002,,,,,,,`, 'categories', 'invalid_category'],
    [`责任人错,${newCid('19400101')},孤寡老人,420102002,,,,,,,abc`, 'worker_id', 'invalid_type'],
    [`责任人无,${newCid('19400101')},孤寡老人,420102002,,,,,,,999999`, 'worker_id', 'invalid_worker'],
    [`${long},${newCid('19400101')},孤寡老人,420102002,,,,,,,`, 'name', 'too_long'],
    [`越权,${newCid('19400101')},孤寡老人,420111001,,,,,,,`, 'division_code', 'out_of_scope'],
    [`不存在,${newCid('19400101')},孤寡老人,420102999,,,,,,,`, 'division_code', 'unknown_division'],
    [`区县级,${newCid('19400101')},孤寡老人,420102,,,,,,,`, 'division_code', 'division_level'],
    [`电话错,${newCid('19400101')},孤寡老人,420102002,,call me,,,,,`, 'phone', 'invalid_phone'],
    [`慢病错,${newCid('19400101')},孤寡老人,420102002,,,,有点,,,`, 'chronic_disease', 'invalid_value'],
    [`缺号码,,孤寡老人,420102002,,,,,,,`, 'citizen_id', 'required'],
  ];
  const good = rows(CHUNK, 5000);
  const before = count();
  const r = await post(jiangan, HEAD + good + lines.map((l) => l[0] + '\n').join(''));
  assert.equal(r.status, 422, r.text);
  assert.equal(r.body.rejected, lines.length);
  assert.equal(r.body.valid, CHUNK);
  const got = r.body.problems.map((p) => [p.line, p.field, p.code]);
  lines.forEach((l, i) => assert.ok(got.some((g) => g[0] === CHUNK + 2 + i && g[1] === l[1] && g[2] === l[2]),
    `line ${CHUNK + 2 + i}: ${l[1]} ${l[2]} in ${JSON.stringify(got)}`));
  assert.equal(count(), before);
});

test('the citizen-ID key is the first 15 hex digits of the keyed hash, as sql/010 computes it for older rows; ID search looks it up', async () => {
  const cids = Array.from({ length: 10 }, () => newCid('19450607', 'M'));
  const r = await post(jiangan, HEAD + cids.map((c, i) => `键${i},${c},孤寡老人,420102002,,,,,,,\n`).join(''));
  assert.equal(r.status, 200, r.text);
  const pg = /^postgres/.test(srv.db);
  const check = () => {
    const got = sql(srv.db, 'SELECT cid_key, cid_hash FROM persons ORDER BY id').split('\n').map((l) => l.split('|'));
    assert.ok(got.length >= 10);
    for (const [k, h] of got) assert.equal(BigInt(k), BigInt('0x' + h.slice(0, 15)), h);
    return got.length;
  };
  const n = check();
  // the migration's own UPDATE for this engine, on rows whose key was lost
  const mig = readFileSync(new URL('../../sql/010_persons_cid_key.sql', import.meta.url), 'utf8');
  const section = mig.split(pg ? '--@pg\n' : '--@sqlite\n')[1].split('\n--@')[0];
  const update = section.split('\n').find((l) => l.startsWith('UPDATE persons SET cid_key'));
  assert.ok(update, 'the migration fills cid_key');
  sql(srv.db, 'UPDATE persons SET cid_key = 0');
  sql(srv.db, update);
  assert.equal(check(), n);
  // an exact-ID search finds the person, and only them, through the key
  const cid = cids[3];
  const l = await jiangan.get(`/api/v1/persons?citizen_id=${cid}`);
  assert.equal(l.status, 200, l.text);
  assert.equal(l.body.total, 1);
  assert.equal(l.body.items[0].name, '键3');
  const e = await jiangan.get(`/api/v1/exports/persons?format=csv&citizen_id=${cid}`);
  assert.equal(e.status, 200);
  assert.equal(e.text.trim().split('\n').length, 2, e.text);
});

test('citizen-ID lookups reach every generation of ids (persons_cid_gen, sql/011): search, the duplicate warning, the gap check', async () => {
  const GEN = 1 << 20;
  const pg = /^postgres/.test(srv.db);
  const cids = Array.from({ length: 6 }, () => newCid('19380303', 'F'));
  let r = await post(jiangan, HEAD + cids.map((c, i) => `代甲${i},${c},孤寡老人,420102002,,,,,,,\n`).join(''));
  assert.equal(r.status, 200, r.text);
  // the last of them moves to generation 3, and new people follow it there
  const last = Number(sql(srv.db, "SELECT MAX(id) FROM persons WHERE name LIKE '代甲%'"));
  const moved = 3 * GEN + 7;
  sql(srv.db, `UPDATE persons SET id = ${moved} WHERE id = ${last}`);
  if (pg) sql(srv.db, `SELECT setval(pg_get_serial_sequence('persons', 'id'), ${moved})`);
  // three of the same IDs again (duplicates across generations) and two new ones
  const again = [cids[0], cids[1], cids[5]], fresh = [newCid('19380404', 'M'), newCid('19380405', 'M')];
  r = await post(jiangan, HEAD + [...again, ...fresh].map((c, i) => `代乙${i},${c},孤寡老人,420102003,,,,,,,\n`).join(''));
  assert.equal(r.status, 200, r.text);
  const gens = sql(srv.db, "SELECT id FROM persons WHERE name LIKE '代乙%' ORDER BY id").split('\n').map((x) => Math.floor(Number(x) / GEN));
  assert.deepEqual(gens, [3, 3, 3, 3, 3], 'the second file is in generation 3');
  const found = async (c) => (await jiangan.get(`/api/v1/persons?citizen_id=${c}`)).body.items.map((x) => x.name).sort();
  assert.deepEqual(await found(cids[0]), ['代乙0', '代甲0']);
  assert.deepEqual(await found(cids[5]), ['代乙2', '代甲5']);
  assert.deepEqual(await found(cids[3]), ['代甲3']);
  assert.deepEqual(await found(fresh[1]), ['代乙4']);
  // the API's duplicate warning looks in every generation too
  const w = await jiangan.post('/api/v1/persons', { name: '代丙', citizen_id: cids[2], categories: ['isolated_elderly'], division_code: '420102004' });
  assert.equal(w.status, 201, w.text);
  assert.equal(w.body.warnings?.[0]?.code, 'duplicate_citizen_id');
  const g = await jiangan.get('/api/v1/gaps');
  assert.equal(g.status, 200, g.text);
  const twins = g.body.duplicate_ids.items.map((x) => x.records.map((rec) => rec.name).sort().join('+'));
  for (const pair of ['代乙0+代甲0', '代乙1+代甲1', '代乙2+代甲5', '代丙+代甲2']) assert.ok(twins.includes(pair), `${pair} in ${twins}`);
  assert.ok(!twins.some((t) => t.includes('代甲3') || t.includes('代乙3')), 'no false twins');
  if (!pg) {
    const plan = sql(srv.db, "EXPLAIN QUERY PLAN SELECT COUNT(*) FROM persons p WHERE (p.id >> 20) IN (WITH RECURSIVE gen(n) AS " +
      '(SELECT 0 UNION ALL SELECT n + 1 FROM gen WHERE n < (SELECT COALESCE(MAX(id), 0) >> 20 FROM persons)) SELECT n FROM gen) ' +
      "AND p.cid_key = 5 AND p.cid_hash = 'x'");
    assert.match(plan, /persons_cid_gen \(<expr>=\? AND cid_key=\?\)/);
  }
});

test('people are written township by township, in file order within one; problems stay in line order', async () => {
  const towns = ['420102005', '420102002', '420102004'];
  const lines = [];
  for (let i = 0; i < 12; i++) lines.push(`序${i},${newCid('19420202')},孤寡老人,${towns[i % 3]},,,,,,,`);
  lines.splice(4, 0, `序坏甲,${newCid('19420202').slice(0, 17)}Y,孤寡老人,420102005,,,,,,,`); // line 6
  lines.splice(9, 0, `序坏乙,${newCid('19420202')},孤寡老人,420102000,,,,,,,`); // line 11: sorts first
  const csv = HEAD + lines.map((l) => l + '\n').join('');
  let r = await post(jiangan, csv);
  assert.equal(r.status, 422, r.text);
  assert.deepEqual(r.body.problems.map((p) => [p.line, p.field]), [[6, 'citizen_id'], [11, 'division_code']]);
  assert.equal(count("name LIKE '序%'"), 0);
  r = await post(jiangan, csv, '?skip_invalid=1');
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.imported, 12);
  assert.deepEqual(r.body.problems.map((p) => p.line), [6, 11]);
  const got = sql(srv.db, "SELECT name, division_code FROM persons WHERE name LIKE '序%' ORDER BY id").split('\n');
  const want = [...towns].sort().flatMap((t) => Array.from({ length: 12 }, (_, i) => i).filter((i) => towns[i % 3] === t).map((i) => `序${i}|${t}`));
  assert.deepEqual(got, want);
  // each with its audit row, in the same order
  const audited = sql(srv.db, "SELECT p.name FROM audit a JOIN persons p ON a.object_id = CAST(p.id AS TEXT) " +
    "WHERE a.action = 'person.create' AND p.name LIKE '序%' ORDER BY a.seq").split('\n');
  assert.deepEqual(audited, want.map((w) => w.split('|')[0]));
});
