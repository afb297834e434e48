// Bulk import of reports from CSV: same checks as the API, per-row report,
// all or nothing unless told to skip; roll-ups right after the import.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { startServer, cli, sql } from '../lib/server.mjs';

let srv, ids;
const T = 'elderly-daily-2022';
const DAY = '2023-02-01';
before(async () => {
  srv = await startServer({ demo: true });
  ids = sql(srv.db, "SELECT id || ':' || uscc FROM institutions WHERE type IN ('elderly_care', 'social_welfare') AND division_code LIKE '4201%' ORDER BY id")
    .split('\n').map((l) => ({ id: l.split(':')[0], uscc: l.split(':')[1] }));
});
after(async () => { await srv?.stop(); });

const header = 'institution_id,日期,在院老人数,在岗工作人员数,实行封闭管理,新增感染人数,现有感染人数,重症人数,困难问题\n';

test('a CSV of reports imports with the same checks; a bad row stops the file unless skipped', async () => {
  const f = path.join(srv.dir, 'r.csv');
  const good = ids.slice(0, 3).map((x, i) => `${x.id},${DAY},${50 + i},20,是,1,5,1,"缺少退烧药, 急需"`).join('\n');
  const bad = `${ids[3].id},${DAY},60,20,是,1,5,9,\n999999,${DAY},1,1,否,0,0,0,\n${ids[4].id},2023-02-30,1,1,否,0,0,0,\n${ids[4].id},${DAY},abc,1,否,0,0,0,\n`;
  writeFileSync(f, header + good + '\n' + bad);
  const r = cli(['import', 'reports', '--db', srv.db, '--template', T, f]);
  assert.equal(r.status, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /line 5: rule1: .*重症人数不能多于现有感染人数/);
  assert.match(r.stdout, /line 6: institution_id: .*not_found/);
  assert.match(r.stdout, /line 7: period: .*invalid_period/);
  assert.match(r.stdout, /line 8: residents_present: .*invalid_type/);
  assert.match(r.stdout, /nothing imported/);
  assert.equal(sql(srv.db, `SELECT COUNT(*) FROM reports WHERE period = '${DAY}'`), '0');
  const s = cli(['import', 'reports', '--db', srv.db, '--template', T, f, '--skip-invalid']);
  assert.equal(s.status, 0, s.stdout);
  assert.match(s.stdout, /3 imported/);
  assert.equal(sql(srv.db, `SELECT COUNT(*) FROM reports WHERE period = '${DAY}'`), '3');
  const c = await srv.api('admin');
  const roll = await c.get(`/api/v1/rollups?template=${T}&period=${DAY}&division=4201`);
  assert.equal(roll.body.division.values.residents_present, 50 + 51 + 52);
  assert.equal(roll.body.division.reports, 3);
  assert.equal(sql(srv.db, `SELECT vals FROM reports WHERE institution_id = ${ids[0].id} AND period = '${DAY}'`).includes('缺少退烧药, 急需'), true);
});

test('credit codes identify institutions; GB18030 files work; re-importing replaces, never duplicates', async () => {
  const f = path.join(srv.dir, 'gb.csv');
  const text = `统一社会信用代码,日期,在院老人数,在岗工作人员数,实行封闭管理,新增感染人数,现有感染人数,重症人数\n${ids[0].uscc},${DAY},77,20,否,0,5,1\n`;
  writeFileSync(f, execFileSync('iconv', ['-f', 'UTF-8', '-t', 'GB18030'], { input: Buffer.from(text) }));
  const r = cli(['import', 'reports', '--db', srv.db, '--template', T, f]);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /GB18030/);
  assert.equal(sql(srv.db, `SELECT COUNT(*) FROM reports WHERE institution_id = ${ids[0].id} AND period = '${DAY}'`), '1');
  const c = await srv.api('admin');
  const roll = await c.get(`/api/v1/rollups?template=${T}&period=${DAY}&division=4201`);
  assert.equal(roll.body.division.values.residents_present, 77 + 51 + 52);
  // the import writes each roll-up row once at its end: every level agrees
  for (const div of ['', '42']) {
    const up = await c.get(`/api/v1/rollups?template=${T}&period=${DAY}&division=${div}`);
    assert.equal(up.body.division.values.residents_present, 77 + 51 + 52, `level "${div}"`);
    assert.equal(up.body.division.reports, 3, `level "${div}"`);
  }
  const h = await c.get(`/api/v1/reports/${T}/${ids[0].id}/${DAY}/history`);
  assert.ok(h.body.items.some((x) => x.field === 'residents_present' && x.old === 50 && x.new === 77 && x.actor === 'cli'));
  const none = cli(['import', 'reports', '--db', srv.db, '--template', T, path.join(srv.dir, 'nope.csv')]);
  assert.notEqual(none.status, 0);
  writeFileSync(f, 'a,b\n1,2\n');
  const cols = cli(['import', 'reports', '--db', srv.db, '--template', T, f]);
  assert.notEqual(cols.status, 0);
  assert.match(cols.stderr, /missing_columns/);
});
