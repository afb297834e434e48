// bench/dispatch.mjs — the daily-dispatch benchmark (make bench). Builds a
// national data set over the real divisions — N elderly-care institutions
// spread over the 2,978 real counties and D days of elderly-daily-2022 reports
// with plausible values — and measures, in one run, side by side:
//
//   carewatch on SQLite       the whole season through `carewatch import reports`
//   carewatch on PostgreSQL   the last --pg-days days of it (its import is slower)
//   baseline                  PostgreSQL 15 with a straightforward schema (one
//                             row per report, a column per field) loaded with
//                             COPY, and plain GROUP BY queries over the raw
//                             rows, driven by pgbench
//
// Figures: bulk import of one national day; durable single-report HTTP
// submissions (wrk at a fixed concurrency, then an open-loop client paced at
// 500/s); the national roll-up, completeness, a county drill-down and the
// season's national series over HTTP; freshness; the server's peak RSS; the
// database size. The baseline's figures are measured by pgbench over the
// PostgreSQL protocol (no HTTP, no JSON), on the last full day.
//
//   node bench/dispatch.mjs [--institutions 45000] [--days 3] [--submissions 20000]
//        [--engines sqlite,pg,baseline] [--pg-days 2] [--pg URI] [--threads 32] [--concurrency 32]
//
// PostgreSQL: --pg URI (or $CAREWATCH_PG_URI) of a cluster where it may create
// databases; without one it starts a throwaway cluster (scripts/pg-cluster.sh)
// when PostgreSQL 15 is installed, else it measures SQLite only. Never run by
// the tests; it asserts nothing about time.
import { writeFileSync, statSync, readFileSync, existsSync, mkdtempSync, readdirSync, rmSync, chmodSync } from 'node:fs';
import { execFileSync, spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import path from 'node:path';
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { startServer, cli, sql, usccWithCheck, BIN, ROOT } from '../tests/lib/server.mjs';

const arg = (name, def) => { const i = process.argv.indexOf('--' + name); return i > 0 ? process.argv[i + 1] : def; };
const N = Number(arg('institutions', 45000)), D = Number(arg('days', 3)), CONC = Number(arg('concurrency', 32));
const THREADS = Number(arg('threads', 32));
const PG_DAYS = Math.min(D, Number(arg('pg-days', 2)));
const PACED = Math.min(5000, Math.floor(N / 5));
const SUB = Math.min(N - PACED - 1, Number(arg('submissions', 20000)));
let engines = arg('engines', 'sqlite,pg,baseline').split(',');
const T = 'elderly-daily-2022';
const pct = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(p / 100 * s.length))]; };
const ms = (x) => (x === undefined ? '—' : x < 10 ? x.toFixed(2) + ' ms' : x.toFixed(1) + ' ms');
const run = (cmd, args, opts = {}) => {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 28, ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.slice(0, 3).join(' ')} failed: ${(r.stdout || '').slice(-1500)}${r.stderr}`);
  return r.stdout;
};
const work = mkdtempSync(path.join(tmpdir(), 'cw-bench-'));
chmodSync(work, 0o755); // a throwaway cluster below it runs as the postgres user when we are root

// ---- PostgreSQL: the given cluster or a throwaway one
let pgUri = arg('pg', process.env.CAREWATCH_PG_URI || ''), pgDir = '';
if (!pgUri && engines.some((e) => e !== 'sqlite')) {
  if (existsSync('/usr/lib/postgresql/15/bin/postgres')) {
    pgDir = path.join(work, 'pg');
    const out = run(path.join(ROOT, 'scripts/pg-cluster.sh'), ['start', pgDir]);
    pgUri = out.match(/CAREWATCH_PG_URI=(\S+)/)[1];
  } else {
    console.log('PostgreSQL 15 is not installed: measuring carewatch on SQLite only');
    engines = engines.filter((e) => e === 'sqlite');
  }
}
const newPgDb = (name) => {
  run('psql', [pgUri, '-v', 'ON_ERROR_STOP=1', '-qc', `CREATE DATABASE ${name}`]);
  const u = new URL(pgUri); u.pathname = '/' + name; return u.toString();
};

// ---- the data set, written once and shared by every engine. Ids are 1..N
// in file order (checked after each registry import); values are a pure
// function of (institution, day) so every engine gets the same numbers.
const today = new Date().toLocaleDateString('sv-SE', { timeZone: 'Asia/Shanghai' });
const dayOf = (k) => { const d = new Date(today + 'T12:00:00Z'); d.setUTCDate(d.getUTCDate() - (D - k)); return d.toISOString().slice(0, 10); };
const hash = (a, b, c) => { let h = (a * 2654435761 + b * 40503 + c * 2246822519) >>> 0; h ^= h >>> 15; h = Math.imul(h, 2246822507) >>> 0; h ^= h >>> 13; return h >>> 0; };
const rnd = (id, k, salt, n) => hash(id, k, salt) % n;

const srv0 = await startServer({ demo: false, threads: 1, env: { CAREWATCH_TEST_PG: '' } });
const counties = sql(srv0.db, 'SELECT code FROM divisions WHERE level = 3 ORDER BY code').split('\n');
await srv0.stop();
const county = counties[hash(7, 7, 7) % counties.length];
console.log(`carewatch dispatch benchmark: ${N} institutions over ${counties.length} counties, ${D} days (${D * N} reports) + today; ` +
  `engines: ${engines.join(', ')}${engines.includes('pg') ? ` (carewatch on PostgreSQL: the last ${PG_DAYS} days)` : ''}; ` +
  `server threads ${THREADS}, client concurrency ${CONC}; ${new Date().toISOString()}`);

const instCsv = path.join(work, 'inst.csv'), baseInst = path.join(work, 'inst-baseline.csv');
{
  let csv = '机构名称,统一社会信用代码,机构类型,举办性质,行政区划代码,床位数,联系电话\n', base = '';
  for (let i = 0; i < N; i++) {
    const c = counties[i % counties.length], phone = '1380000' + String(i).padStart(4, '0').slice(-4);
    csv += `养老院${i},${usccWithCheck('52' + c + String(10000000 + i).slice(-8) + (i % 10))},养老机构,民办,${c},${50 + rnd(i, 0, 1, 200)},${phone}\n`;
    base += `${i + 1},养老院${i},${c},elderly_care,active,${phone}\n`;
  }
  writeFileSync(instCsv, csv);
  writeFileSync(baseInst, base);
}
const FIELDS = ['residents_present', 'staff_on_duty', 'closed_management', 'new_infected', 'currently_infected', 'severe_cases',
  'stock_antipyretic', 'used_antipyretic', 'stock_antiviral', 'used_antiviral'];
function dayFile(k) {
  const f = path.join(work, `day-${dayOf(k)}.csv`);
  if (existsSync(f)) return f;
  const rows = ['institution_id,日期,' + FIELDS.join(',')];
  for (let id = 1; id <= N; id++) {
    const cur = rnd(id, k, 5, 10);
    rows.push(`${id},${dayOf(k)},${40 + rnd(id, 0, 2, 150) + rnd(id, k, 3, 5)},${10 + rnd(id, k, 4, 40)},${rnd(id, k, 9, 4) ? 1 : 0},` +
      `${rnd(id, k, 6, 3)},${cur},${rnd(id, k, 7, cur + 1)},${100 + rnd(id, k, 8, 500)},${1 + rnd(id, k, 10, 20)},${rnd(id, k, 11, 50)},${rnd(id, k, 12, 3)}`);
  }
  writeFileSync(f, rows.join('\n') + '\n');
  return f;
}

const results = {}; // engine -> figure -> text

// ---- carewatch on one engine
async function carewatch(engine) {
  const r = (results[engine] = {});
  const days = engine === 'pg' ? PG_DAYS : D;
  const srv = await startServer({ demo: false, threads: THREADS, env: { CAREWATCH_TEST_PG: engine === 'pg' ? pgUri : '' } });
  const say = (s) => console.log(`  [${engine === 'pg' ? 'carewatch/PostgreSQL' : 'carewatch/SQLite'}] ${s}`);
  let t0 = performance.now();
  run(BIN, ['import', 'institutions', '--db', srv.db, instCsv]);
  r.registry = `${((performance.now() - t0) / 1000).toFixed(1)} s`;
  say(`registry import: ${N} institutions in ${r.registry}`);
  const idr = sql(srv.db, 'SELECT MIN(id), MAX(id), COUNT(*) FROM institutions');
  if (idr !== `1|${N}|${N}`) throw new Error('institution ids are not 1..N: ' + idr);

  const times = [];
  for (let k = D - days; k < D; k++) {
    const f = dayFile(k);
    t0 = performance.now();
    run(BIN, ['import', 'reports', '--db', srv.db, '--template', T, f]);
    times.push((performance.now() - t0) / 1000);
    if (k === D - days || k === D - 1 || (D - k) % 10 === 0) say(`bulk import of ${dayOf(k)}: ${N} reports in ${times.at(-1).toFixed(2)} s`);
  }
  const med = pct(times, 50);
  r.import = `${med.toFixed(2)} s (${Math.round(N / med).toLocaleString('en')}/s)${times.length > 1 ? `, median of ${times.length} days` : ''}`;

  // HTTP submissions for today, each institution once
  cli(['user', 'add', '--db', srv.db, '--login', 'bench', '--role', 'admin', '--scope', ''], { input: 'Bench2026pass\n' });
  const token = cli(['token', 'create', '--db', srv.db, '--login', 'bench', '--label', 'bench']).stdout.trim().split(/\s+/).at(-1);
  const wrk = execFileSync('wrk', ['-t2', `-c${CONC}`, `-d${Math.max(20, Math.ceil(SUB / 300))}s`, '--latency', '-s', path.join(import.meta.dirname, 'submit.lua'),
    srv.base, '--', token, T, today, '1', String(SUB), '2'], { encoding: 'utf8' });
  const w = Object.fromEntries(wrk.match(/BENCH (.*)/)[1].split(' ').map((kv) => kv.split('=')).map(([k, v]) => [k, Number(v)]));
  const inDb = Number(sql(srv.db, `SELECT COUNT(*) FROM reports WHERE template_code = '${T}' AND period = '${today}' AND status = 'submitted'`));
  r.sub = `${Math.round(w.completed / w.seconds).toLocaleString('en')}/s, p50 ${ms(w.p50)}, p99 ${ms(w.p99)}${w.bad ? `, ${w.bad} errors` : ''}`;
  say(`HTTP submissions (wrk, concurrency ${CONC}): ${w.completed} in ${w.seconds.toFixed(1)} s = ${r.sub}; ${inDb} in the database`);

  const paced = [];
  let errors = 0;
  {
    const t0p = performance.now();
    let k = 0;
    const agent = new http.Agent({ keepAlive: true, keepAliveMsecs: 1000 });
    const hdr = { authorization: 'Bearer ' + token, 'content-type': 'application/json' };
    const body = JSON.stringify({ status: 'submitted', values: { residents_present: 80, staff_on_duty: 20, closed_management: true, new_infected: 1, currently_infected: 3, severe_cases: 1, stock_antipyretic: 200, used_antipyretic: 10 } });
    await new Promise((resolve) => {
      let done = 0;
      const finish = () => { if (++done === PACED) { clearInterval(tick); resolve(); } };
      const tick = setInterval(() => {
        const due = Math.min(PACED, Math.floor((performance.now() - t0p) / 2) + 1);
        for (; k < due; k++) {
          const id = SUB + 1 + k, s = performance.now();
          const req = http.request(`${srv.base}/api/v1/reports/${T}/${id}/${today}`, { method: 'PUT', headers: hdr, agent }, (res) => {
            res.resume();
            res.on('end', () => { if (res.statusCode > 201) errors++; paced.push(performance.now() - s); finish(); });
          });
          req.on('error', () => { errors++; finish(); });
          req.end(body);
        }
      }, 1);
    });
    agent.destroy();
  }
  r.paced = `p50 ${ms(pct(paced, 50))}, p99 ${ms(pct(paced, 99))}${errors ? `, ${errors} errors` : ''}`;
  say(`HTTP submissions paced at 500/s: ${paced.length}, ${r.paced}`);

  // reads over HTTP (a fresh session: the submissions' keep-alive sockets are gone)
  const admin = await srv.login('bench', 'Bench2026pass');
  async function timeIt(key, label, p, n = 50) {
    const xs = [];
    for (let i = 0; i < n; i++) {
      const s = performance.now();
      const res = await admin.get(p);
      xs.push(performance.now() - s);
      if (res.status !== 200) throw new Error(label + ' ' + res.status + JSON.stringify(res.body));
    }
    r[key] = `p50 ${ms(pct(xs, 50))}, p99 ${ms(pct(xs, 99))}`;
    say(`${label}: ${r[key]}`);
  }
  await timeIt('rollup', 'national roll-up (all provinces × all fields)', `/api/v1/rollups?template=${T}&period=${today}&division=`);
  await timeIt('completeness', 'national completeness (with the first 200 missing)', `/api/v1/completeness?template=${T}&period=${today}&division=`);
  await timeIt('drill', 'county drill-down (by institution)', `/api/v1/rollups?template=${T}&period=${today}&division=${county}`);
  await timeIt('series', `national series of one field (${days + 1} days)`, `/api/v1/series?template=${T}&field=residents_present&division=&from=${dayOf(D - days)}&to=${today}`);
  r.seriesDays = days + 1;

  // freshness: a submission is visible to the very next request
  const before = (await admin.get(`/api/v1/rollups?template=${T}&period=${today}&division=`)).body.division.values.residents_present;
  await admin.put(`/api/v1/reports/${T}/${N}/${today}`, { status: 'submitted', values: { residents_present: 999, staff_on_duty: 20, closed_management: true, new_infected: 1, currently_infected: 3, severe_cases: 1 } });
  const after = (await admin.get(`/api/v1/rollups?template=${T}&period=${today}&division=`)).body.division.values.residents_present;
  r.fresh = after !== before ? 'next request' : 'NOT visible';
  say(`freshness: national residents_present ${before} → ${after} on the very next request`);

  const hwm = Number(readFileSync(`/proc/${srv.proc.pid}/status`, 'utf8').match(/VmHWM:\s+(\d+)/)[1]);
  r.rss = `${(hwm / 1024).toFixed(0)} MB`;
  if (engine === 'pg') r.size = sql(srv.db, 'SELECT pg_size_pretty(pg_database_size(current_database()))');
  else r.size = `${(['', '-wal'].map((s) => existsSync(srv.db + s) ? statSync(srv.db + s).size : 0).reduce((a, b) => a + b, 0) / 1048576).toFixed(0)} MB`;
  r.size += ` (${days} days + today)`;
  say(`server peak RSS ${r.rss}; database ${r.size}`);
  await srv.stop();
}

// ---- the baseline: plain PostgreSQL, plain GROUP BY, driven by pgbench
function pgbench(uri, script, args, vars = {}) {
  const dir = mkdtempSync(path.join(work, 'pgbench-'));
  const f = path.join(dir, 'script.sql');
  writeFileSync(f, script);
  const out = run('pgbench', ['-n', '-M', 'prepared', '--log', `--log-prefix=${path.join(dir, 'log')}`, ...args,
    ...Object.entries(vars).flatMap(([k, v]) => ['-D', `${k}=${v}`]), '-f', f, uri], { cwd: dir });
  const lat = [];
  for (const name of readdirSync(dir).filter((x) => x.startsWith('log'))) {
    for (const line of readFileSync(path.join(dir, name), 'utf8').split('\n')) {
      const c = line.split(' ');
      if (c.length >= 6) lat.push(Number(c[2]) / 1000);
    }
  }
  rmSync(dir, { recursive: true });
  const tps = Number((out.match(/tps = ([\d.]+)/) || [0, 0])[1]);
  return { tps, n: lat.length, p50: pct(lat, 50), p99: pct(lat, 99) };
}

function baseline() {
  const r = (results.baseline = {});
  const uri = newPgDb('cw_baseline_' + process.pid);
  const say = (s) => console.log(`  [baseline PostgreSQL GROUP BY] ${s}`);
  const cols = FIELDS.map((f) => `${f} ${f === 'closed_management' ? 'boolean' : 'integer'}`).join(', ');
  run('psql', [uri, '-v', 'ON_ERROR_STOP=1', '-qc', `
    CREATE TABLE b_inst (id integer PRIMARY KEY, name text NOT NULL, division_code text NOT NULL, type text NOT NULL,
                         status text NOT NULL, phone text);
    CREATE INDEX ON b_inst (division_code);
    CREATE TABLE b_reports (institution_id integer NOT NULL REFERENCES b_inst(id), period date NOT NULL, ${cols},
                            submitted_at timestamptz NOT NULL DEFAULT now(), on_time boolean NOT NULL DEFAULT true,
                            PRIMARY KEY (period, institution_id));`]);
  let t0 = performance.now();
  run('psql', [uri, '-v', 'ON_ERROR_STOP=1', '-qc', `\\copy b_inst FROM '${baseInst}' CSV`]);
  r.registry = `${((performance.now() - t0) / 1000).toFixed(1)} s (COPY)`;
  const times = [];
  for (let k = 0; k < D; k++) {
    t0 = performance.now();
    run('psql', [uri, '-v', 'ON_ERROR_STOP=1', '-qc', `\\copy b_reports (institution_id, period, ${FIELDS.join(', ')}) FROM '${dayFile(k)}' CSV HEADER`]);
    times.push((performance.now() - t0) / 1000);
    if (k === 0 || k === D - 1 || (D - k) % 10 === 0) say(`COPY of ${dayOf(k)}: ${N} rows in ${times.at(-1).toFixed(2)} s`);
  }
  run('psql', [uri, '-qc', 'VACUUM ANALYZE']);
  const med = pct(times, 50);
  r.import = `${med.toFixed(2)} s (${Math.round(N / med).toLocaleString('en')}/s, COPY)`;

  // durable single-row submissions for today (synchronous_commit on), then paced at 500/s
  const ins = `\\set id random(1, ${N})\nINSERT INTO b_reports (institution_id, period, residents_present, staff_on_duty, closed_management, new_infected, currently_infected, severe_cases, stock_antipyretic, used_antipyretic) ` +
    `VALUES (:id, :day, 80, 20, true, 1, 3, 1, 200, 10) ON CONFLICT (period, institution_id) DO UPDATE SET residents_present = EXCLUDED.residents_present, submitted_at = now();\n`;
  let b = pgbench(uri, ins, ['-c', String(CONC), '-j', '2', '-T', '15'], { day: today });
  r.sub = `${Math.round(b.tps).toLocaleString('en')}/s, p50 ${ms(b.p50)}, p99 ${ms(b.p99)}`;
  say(`single-row INSERT transactions (pgbench, ${CONC} clients): ${r.sub}`);
  b = pgbench(uri, ins, ['-c', '8', '-j', '2', '-R', '500', '-T', '10'], { day: today });
  r.paced = `p50 ${ms(b.p50)}, p99 ${ms(b.p99)}`;
  say(`paced at 500/s: ${r.paced}`);

  // reads over the last full day, national = GROUP BY province with the total
  const day = dayOf(D - 1);
  const sums = FIELDS.map((f) => `sum(r.${f}${f === 'closed_management' ? '::int' : ''})`).join(', ');
  const q = {
    rollup: `SELECT substr(i.division_code, 1, 2) AS p, count(*), ${sums} FROM b_reports r JOIN b_inst i ON i.id = r.institution_id WHERE r.period = :day GROUP BY ROLLUP (1);`,
    completeness: `SELECT substr(i.division_code, 1, 2), count(*), count(r.institution_id), count(*) FILTER (WHERE r.on_time) FROM b_inst i LEFT JOIN b_reports r ON r.institution_id = i.id AND r.period = :day WHERE i.status <> 'suspended' GROUP BY ROLLUP (1);\n` +
      `SELECT i.id, i.name, i.division_code, i.phone FROM b_inst i WHERE i.status <> 'suspended' AND NOT EXISTS (SELECT 1 FROM b_reports r WHERE r.period = :day AND r.institution_id = i.id) ORDER BY i.division_code, i.id LIMIT 200;`,
    drill: `SELECT i.id, i.name, r.* FROM b_inst i LEFT JOIN b_reports r ON r.institution_id = i.id AND r.period = :day WHERE i.division_code >= :lo AND i.division_code < :hi ORDER BY i.id;`,
    series: `SELECT period, sum(residents_present) FROM b_reports WHERE period BETWEEN :from AND :to GROUP BY period ORDER BY period;`,
  };
  const hi = county.slice(0, 5) + String.fromCharCode(county.charCodeAt(5) + 1);
  for (const [key, text] of Object.entries(q)) {
    b = pgbench(uri, text, ['-c', '1', '-t', key === 'series' ? '20' : '50'], { day, lo: county, hi, from: dayOf(0), to: today });
    r[key] = `p50 ${ms(b.p50)}, p99 ${ms(b.p99)}`;
    say(`${key}: ${r[key]}`);
  }
  r.seriesDays = D + 1;
  r.fresh = 'next request (reads raw rows)';
  r.rss = '—';
  r.size = sql(uri, "SELECT pg_size_pretty(pg_total_relation_size('b_reports') + pg_total_relation_size('b_inst'))") + ` (${D} days + today)`;
  say(`size ${r.size}`);
}

try {
  for (const e of engines) {
    if (e === 'baseline') baseline();
    else await carewatch(e);
  }
} finally {
  if (pgDir) run(path.join(ROOT, 'scripts/pg-cluster.sh'), ['stop', pgDir]);
  rmSync(work, { recursive: true, force: true });
}

// ---- side by side
const names = { sqlite: 'carewatch / SQLite', pg: 'carewatch / PostgreSQL', baseline: 'PostgreSQL 15 GROUP BY (pgbench)' };
const rows = [
  ['registry import', 'registry', '—'],
  ['bulk import of one national day', 'import', `${N.toLocaleString('en')} in ≤ 5 s`],
  [`durable submissions, ${CONC} concurrent`, 'sub', '≥ 2,000/s'],
  ['durable submissions paced at 500/s', 'paced', 'p99 ≤ 20 ms'],
  ['national roll-up, provinces × fields', 'rollup', 'p50 ≤ 20 ms'],
  ['national completeness + missing list', 'completeness', 'p50 ≤ 20 ms'],
  ['county drill-down by institution', 'drill', 'p50 ≤ 10 ms'],
  ['national series of one field', 'series', '120 days ≤ 50 ms'],
  ['freshness', 'fresh', 'next request'],
  ['server peak RSS', 'rss', '≤ 512 MB'],
  ['database size', 'size', '—'],
];
const done = engines.filter((e) => results[e]);
console.log(`\n| figure (${N.toLocaleString('en')} institutions, ${D} days) | ${done.map((e) => names[e]).join(' | ')} | target |`);
console.log(`|---|${done.map(() => '---|').join('')}---|`);
for (const [label, key, target] of rows) {
  const cells = done.map((e) => (key === 'series' && results[e][key] ? `${results[e][key]} (${results[e].seriesDays} days)` : results[e][key] || '—'));
  console.log(`| ${label} | ${cells.join(' | ')} | ${target} |`);
}
