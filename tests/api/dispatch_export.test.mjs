// Exports of the daily dispatch: the day's roll-up by sub-division, the missing
// list and the raw reports, as CSV and xlsx, in scope, through API and CLI.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { startServer, cli } from '../lib/server.mjs';

let srv, today;
const T = 'elderly-daily-2022';
before(async () => {
  srv = await startServer({ demo: true });
  today = new Date().toLocaleDateString('sv-SE', { timeZone: 'Asia/Shanghai' });
});
after(async () => { await srv?.stop(); });

const rows = (text) => text.replace(/^\ufeff/, '').trim().split(/\r?\n/).map((l) => l.split(','));

test('the roll-up export matches the live roll-up and completeness, with a total row', async () => {
  const c = await srv.api('mz.wuhan');
  const r = await c.get(`/api/v1/exports/rollup?template=${T}&period=${today}&division=4201&format=csv`);
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-disposition'), /attachment/);
  const t = rows(r.text);
  assert.deepEqual(t[0].slice(0, 7), ['区划代码', '地区', '应报', '已报', '按时', '迟报', '未报']);
  const col = t[0].indexOf('在院老人数（人）');
  const roll = await c.get(`/api/v1/rollups?template=${T}&period=${today}&division=4201`);
  const comp = await c.get(`/api/v1/completeness?template=${T}&period=${today}&division=4201`);
  const total = t[t.length - 1];
  assert.equal(total[1], '武汉市（合计）');
  assert.equal(Number(total[col]), roll.body.division.values.residents_present);
  assert.equal(Number(total[3]), comp.body.division.submitted);
  for (const child of comp.body.children) {
    const line = t.find((x) => x[0] === child.code);
    assert.ok(line, child.code);
    assert.equal(Number(line[2]), child.expected);
    assert.equal(Number(line[6]), child.missing);
  }
});

test('missing list and raw reports, in scope; xlsx is a real workbook', async () => {
  const c = await srv.api('mz.jiangan');
  const m = await c.get(`/api/v1/exports/missing?template=${T}&period=${today}&format=csv`);
  const mt = rows(m.text);
  assert.deepEqual(mt[0], ['机构名称', '区划代码', '联系人', '联系电话']);
  assert.ok(mt.slice(1).every((x) => x[1].startsWith('420102')));
  assert.ok(mt.some((x) => x[0] === '武汉市江岸区社会福利院'));
  const rep = await c.get(`/api/v1/exports/reports?template=${T}&period=${today}&format=csv`);
  const rt = rows(rep.text);
  assert.ok(rt.length > 1);
  assert.ok(rt.slice(1).every((x) => x[1].startsWith('420102')));
  const x = await c.get(`/api/v1/exports/reports?template=${T}&period=${today}&format=xlsx`, { raw: true });
  assert.equal(Buffer.from(await x.arrayBuffer()).subarray(0, 2).toString(), 'PK');
  assert.equal((await c.get(`/api/v1/exports/rollup?template=${T}&period=${today}&division=4201`)).status, 404, 'out of scope');
  assert.equal((await c.get(`/api/v1/exports/bogus?template=${T}&period=${today}`)).status, 404);
  assert.equal((await c.get(`/api/v1/exports/rollup?template=${T}&period=2022-02-30`)).status, 400);
  const rep2 = await srv.api('jg.dazhi');
  assert.equal((await rep2.get(`/api/v1/exports/rollup?template=${T}&period=${today}`)).status, 403);
});

test('the CLI writes the same exports', () => {
  const f = path.join(srv.dir, 'r.xlsx');
  const r = cli(['export', 'rollup', '--db', srv.db, '--template', T, '--period', today, '--format', 'xlsx', '--out', f, '--scope', '42']);
  assert.equal(r.status, 0, r.stderr);
  const xml = execFileSync('unzip', ['-p', f], { encoding: 'utf8' }).toString();
  assert.ok(xml.includes('武汉市'));
  assert.ok(xml.includes('湖北省（合计）'));
  const bad = cli(['export', 'missing', '--db', srv.db, '--template', 'nope', '--period', today, '--format', 'csv', '--out', f]);
  assert.notEqual(bad.status, 0);
  const csvf = path.join(srv.dir, 'm.csv');
  assert.equal(cli(['export', 'missing', '--db', srv.db, '--template', T, '--period', today, '--format', 'csv', '--out', csvf]).status, 0);
  assert.match(readFileSync(csvf, 'utf8'), /联系电话/);
});
