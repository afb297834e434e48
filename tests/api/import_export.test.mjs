// Registry import (CSV in UTF-8 or GB18030, Chinese or English headers,
// all-or-nothing unless told to skip) and export (CSV, xlsx) in scope.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { startServer, cli, sql, newUscc } from '../lib/server.mjs';

let srv;
before(async () => { srv = await startServer({ demo: true }); });
after(async () => { await srv?.stop(); });

const header = '机构名称,统一社会信用代码,机构类型,举办性质,行政区划代码,地址,床位数,联系人,联系电话,医疗条件,运营状态\n';
const row = (name, uscc, div = '420106', extra = '') =>
  `${name},${uscc},养老机构,民办,${div},"武昌区某路1号, 2栋",60,王五,13900001111,签约医疗机构,封闭管理${extra}\n`;
function gb18030(text) {
  // iconv from glibc, the same converter the server uses, produces real GB18030 bytes
  return execFileSync('iconv', ['-f', 'UTF-8', '-t', 'GB18030'], { input: Buffer.from(text, 'utf8') });
}

test('a UTF-8 CSV with BOM imports every row through the CLI', () => {
  const f = path.join(srv.dir, 'utf8.csv');
  writeFileSync(f, '\ufeff' + header + row('武昌区导入一院', newUscc('420106')) + row('武昌区导入二院', newUscc('420106')));
  const r = cli(['import', 'institutions', '--db', srv.db, f]);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /2 rows \(UTF-8\), 2 valid, 0 rejected; 2 imported/);
  assert.equal(sql(srv.db, "SELECT status || '/' || ownership || '/' || beds FROM institutions WHERE name = '武昌区导入一院'"), 'closed/private/60');
  assert.equal(sql(srv.db, "SELECT address FROM institutions WHERE name = '武昌区导入二院'"), '武昌区某路1号, 2栋');
  // the counts behind "expected" follow a bulk import at every level (on
  // PostgreSQL the import recounts them once instead of through the trigger)
  const counts = "SELECT division_code || ':' || type || ':' || n FROM inst_counts ORDER BY division_code, type";
  const recount = "SELECT p || ':' || type || ':' || COUNT(*) FROM (SELECT '' AS p, type FROM institutions WHERE status <> 'suspended' " +
    "UNION ALL SELECT substr(division_code, 1, 2), type FROM institutions WHERE status <> 'suspended' " +
    "UNION ALL SELECT substr(division_code, 1, 4), type FROM institutions WHERE status <> 'suspended' " +
    "UNION ALL SELECT substr(division_code, 1, 6), type FROM institutions WHERE status <> 'suspended') x GROUP BY p, type ORDER BY p, type";
  assert.equal(sql(srv.db, counts), sql(srv.db, recount));
  assert.match(sql(srv.db, counts), /^:elderly_care:\d+$/m);
  // and the trigger keeps them after the import's transaction, too
  const before = Number(sql(srv.db, "SELECT n FROM inst_counts WHERE division_code = '420106' AND type = 'elderly_care'"));
  sql(srv.db, "UPDATE institutions SET status = 'suspended' WHERE name = '武昌区导入一院'");
  assert.equal(Number(sql(srv.db, "SELECT n FROM inst_counts WHERE division_code = '420106' AND type = 'elderly_care'")), before - 1);
  sql(srv.db, "UPDATE institutions SET status = 'closed' WHERE name = '武昌区导入一院'");
});

test('a GB18030 CSV (as Excel in China saves it) is detected and imported', () => {
  const f = path.join(srv.dir, 'gb.csv');
  writeFileSync(f, gb18030(header + row('武昌区国标编码院', newUscc('420106'))));
  const r = cli(['import', 'institutions', '--db', srv.db, f]);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /\(GB18030\)/);
  assert.equal(sql(srv.db, "SELECT COUNT(*) FROM institutions WHERE name = '武昌区国标编码院'"), '1');
});

test('English headers and codes work too', () => {
  const f = path.join(srv.dir, 'en.csv');
  writeFileSync(f, `name,uscc,type,ownership,division_code,beds\nEnglish Header Home,${newUscc('420106')},child_welfare,public,420106001,12\n`);
  const r = cli(['import', 'institutions', '--db', srv.db, f]);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.equal(sql(srv.db, "SELECT type FROM institutions WHERE name = 'English Header Home'"), 'child_welfare');
});

test('a file with an invalid row imports nothing and reports each problem by line', () => {
  const n0 = sql(srv.db, 'SELECT COUNT(*) FROM institutions');
  const a0 = sql(srv.db, 'SELECT COUNT(*) FROM audit');
  const dupe = newUscc('420106');
  const f = path.join(srv.dir, 'bad.csv');
  writeFileSync(f, header + row('好的一行', newUscc('420106')) + row('错误代码', '91350100M000100Y44') +
    row('不存在的区划', newUscc('420106'), '429999') + row('重复一', dupe) + row('重复二', dupe));
  const r = cli(['import', 'institutions', '--db', srv.db, f]);
  assert.equal(r.status, 1);
  assert.match(r.stdout, /line 3: uscc:/);
  assert.match(r.stdout, /line 4: division_code: .*unknown_division/);
  assert.match(r.stdout, /line 6: uscc: .*uscc_taken/);
  assert.match(r.stdout, /nothing imported/);
  assert.equal(sql(srv.db, 'SELECT COUNT(*) FROM institutions'), n0);
  assert.equal(sql(srv.db, 'SELECT COUNT(*) FROM audit'), a0);
  // --skip-invalid imports the good rows only
  const s = cli(['import', 'institutions', '--db', srv.db, f, '--skip-invalid']);
  assert.equal(s.status, 0, s.stdout);
  assert.match(s.stdout, /2 imported/);
  assert.equal(sql(srv.db, "SELECT COUNT(*) FROM institutions WHERE name IN ('好的一行', '重复一')"), '2');
});

test('broken files are refused with a clear message', () => {
  const f = path.join(srv.dir, 'broken.csv');
  writeFileSync(f, header + '"unterminated,quote\n');
  const r = cli(['import', 'institutions', '--db', srv.db, f]);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /invalid_csv/);
  writeFileSync(f, 'foo,bar\n1,2\n');
  const m = cli(['import', 'institutions', '--db', srv.db, f]);
  assert.notEqual(m.status, 0);
  assert.match(m.stderr, /missing_columns/);
  assert.notEqual(cli(['import', 'institutions', '--db', srv.db, '/nonexistent.csv']).status, 0);
});

test('the API import checks scope: rows outside the caller\'s county are rejected', async () => {
  const c = await srv.api('mz.jiangan');
  const csv = header + row('江岸区接口导入院', newUscc('420102'), '420102003') + row('越权武昌院', newUscc('420106'));
  const r = await c.post('/api/v1/imports/institutions', csv, { headers: { 'content-type': 'text/csv' } });
  assert.equal(r.status, 422);
  assert.equal(r.body.rejected, 1);
  assert.equal(r.body.problems[0].code, 'out_of_scope');
  assert.equal(r.body.imported, 0);
  const dry = await c.post('/api/v1/imports/institutions?dry_run=1', header + row('江岸区接口导入院', newUscc('420102'), '420102003'),
    { headers: { 'content-type': 'text/csv' } });
  assert.equal(dry.status, 200);
  assert.equal(dry.body.valid, 1);
  assert.equal(dry.body.imported, 0);
  const ok = await c.post('/api/v1/imports/institutions?skip_invalid=1', csv, { headers: { 'content-type': 'text/csv' } });
  assert.equal(ok.status, 200);
  assert.equal(ok.body.imported, 1);
  assert.equal(sql(srv.db, "SELECT COUNT(*) FROM institutions WHERE name = '越权武昌院'"), '0');
  assert.equal(sql(srv.db, "SELECT COUNT(*) FROM institutions WHERE name = '江岸区接口导入院'"), '1');
});

test('CSV export has Chinese headers, labels, a BOM and only rows in scope', async () => {
  const c = await srv.api('mz.jiangan');
  const r = await c.get('/api/v1/exports/institutions?format=csv', { raw: true });
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-disposition'), /attachment/);
  const buf = Buffer.from(await r.arrayBuffer());
  assert.deepEqual([...buf.subarray(0, 3)], [0xef, 0xbb, 0xbf]);
  const text = buf.toString('utf8').slice(1);
  const lines = text.trim().split(/\r?\n/);
  assert.match(lines[0], /^机构名称,统一社会信用代码,机构类型/);
  assert.ok(lines.length > 2);
  for (const l of lines.slice(1)) assert.match(l, /,420102\d*,/);
  assert.ok(text.includes('养老机构'));
});

test('xlsx export through the API and the CLI is a real workbook', async () => {
  const c = await srv.api('mz.wuhan');
  const r = await c.get('/api/v1/exports/institutions?format=xlsx&division=420106', { raw: true });
  assert.equal(r.status, 200);
  const buf = Buffer.from(await r.arrayBuffer());
  assert.equal(buf.subarray(0, 2).toString(), 'PK');
  const f = path.join(srv.dir, 'all.xlsx');
  const out = cli(['export', 'institutions', '--db', srv.db, '--format', 'xlsx', '--out', f, '--scope', '4201']);
  assert.equal(out.status, 0, out.stderr);
  assert.equal(readFileSync(f).subarray(0, 2).toString(), 'PK');
  // the sheet lists the institutions by name: unzip and look
  const xml = execFileSync('unzip', ['-p', f], { encoding: 'utf8' }).toString();
  assert.ok(xml.includes('机构名称'));
  assert.ok(xml.includes('武汉市儿童福利院'));
  assert.ok(!xml.includes('北京市朝阳区第一社会福利院'));
  const csvf = path.join(srv.dir, 'all.csv');
  assert.equal(cli(['export', 'institutions', '--db', srv.db, '--format', 'csv', '--out', csvf]).status, 0);
  assert.ok(readFileSync(csvf, 'utf8').includes('北京市朝阳区第一社会福利院'));
  assert.equal((await c.get('/api/v1/exports/institutions?format=pdf')).status, 400);
});
