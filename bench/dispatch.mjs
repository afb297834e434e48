// bench/dispatch.mjs — daily-dispatch benchmark (first cut). Builds a data set
// over the real divisions (N institutions spread over real counties, D days of
// elderly-daily-2022 reports through `carewatch import reports`), then measures
// over HTTP: bulk import rate, durable single-report submissions (throughput and
// p50/p99 at a fixed concurrency), the national roll-up with completeness, a
// county drill-down, a series, freshness, peak RSS and the database size.
//
//   node bench/dispatch.mjs [--institutions 45000] [--days 3] [--db postgres://…]
//
// Prints its figures beside the targets. Never run by the tests.
import { writeFileSync, statSync, readFileSync, existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { startServer, cli, sql, usccWithCheck } from '../tests/lib/server.mjs';

const arg = (name, def) => { const i = process.argv.indexOf('--' + name); return i > 0 ? process.argv[i + 1] : def; };
const N = Number(arg('institutions', 45000)), D = Number(arg('days', 3)), CONC = Number(arg('concurrency', 32));
const pg = arg('db', '');
const T = 'elderly-daily-2022';
let seed = 42;
const rnd = (n) => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n; };
const pct = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(p / 100 * s.length))]; };
const ms = (x) => x.toFixed(2) + ' ms';

const THREADS = Number(arg('threads', 32));
const srv = await startServer({ demo: false, threads: THREADS, env: pg ? { CAREWATCH_TEST_PG: pg } : { CAREWATCH_TEST_PG: '' } });
const counties = sql(srv.db, 'SELECT code FROM divisions WHERE level = 3 ORDER BY code').split('\n');
console.log(`carewatch dispatch benchmark: ${N} institutions, ${D} days, ${pg ? 'PostgreSQL' : 'SQLite'}, ${counties.length} counties`);

// institutions
let csv = '机构名称,统一社会信用代码,机构类型,举办性质,行政区划代码,床位数,联系电话\n';
for (let i = 0; i < N; i++) {
  const c = counties[i % counties.length];
  csv += `养老院${i},${usccWithCheck('52' + c + String(10000000 + i).slice(-8) + (i % 10))},养老机构,民办,${c},${50 + rnd(200)},1380000${String(i).padStart(4, '0').slice(-4)}\n`;
}
writeFileSync(path.join(srv.dir, 'inst.csv'), csv);
let t0 = performance.now();
let r = cli(['import', 'institutions', '--db', srv.db, path.join(srv.dir, 'inst.csv')]);
if (r.status !== 0) throw new Error(r.stdout + r.stderr);
console.log(`registry import: ${N} institutions in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
const ids = sql(srv.db, 'SELECT id FROM institutions ORDER BY id').split('\n').map(Number);

// D days of reports through the bulk import, one file per day
const today = new Date().toLocaleDateString('sv-SE', { timeZone: 'Asia/Shanghai' });
const dayOf = (k) => { const d = new Date(today + 'T12:00:00Z'); d.setUTCDate(d.getUTCDate() - (D - k)); return d.toISOString().slice(0, 10); };
const head = 'institution_id,日期,residents_present,staff_on_duty,closed_management,new_infected,currently_infected,severe_cases,stock_antipyretic,used_antipyretic,stock_antiviral,used_antiviral\n';
const importTimes = [];
for (let k = 0; k < D; k++) {
  let body = head;
  for (const id of ids) { const res = 40 + rnd(150), cur = rnd(10); body += `${id},${dayOf(k)},${res},${10 + rnd(40)},是,${rnd(3)},${cur},${rnd(cur + 1)},${100 + rnd(500)},${1 + rnd(20)},${rnd(50)},${rnd(3)}\n`; }
  const f = path.join(srv.dir, `day${k}.csv`);
  writeFileSync(f, body);
  t0 = performance.now();
  r = cli(['import', 'reports', '--db', srv.db, '--template', T, f]);
  if (r.status !== 0) throw new Error(r.stdout.slice(-2000) + r.stderr);
  importTimes.push((performance.now() - t0) / 1000);
  console.log(`bulk import of day ${dayOf(k)}: ${ids.length} reports in ${importTimes.at(-1).toFixed(1)} s (${Math.round(ids.length / importTimes.at(-1))}/s)   target: 45,000 in ≤ 5 s`);
}

// HTTP submissions for today, each report once: wrk (a C load generator) at
// concurrency CONC until SUB reports are in, then an open-loop client paced at
// 500/s for the latency target.
cli(['user', 'add', '--db', srv.db, '--login', 'bench', '--role', 'admin', '--scope', ''], { input: 'Bench2026pass\n' });
const admin = await srv.login('bench', 'Bench2026pass');
const token = cli(['token', 'create', '--db', srv.db, '--login', 'bench', '--label', 'bench']).stdout.trim().split(/\s+/).at(-1);
const SUB = Math.min(ids.length - 5000, Number(arg('submissions', 20000)));
const wrk = execFileSync('wrk', ['-t2', `-c${CONC}`, `-d${Math.max(20, Math.ceil(SUB / 500))}s`, '--latency', '-s', path.join(import.meta.dirname, 'submit.lua'),
  srv.base, '--', token, T, today, String(ids[0]), String(SUB), '2'], { encoding: 'utf8' });
const w = Object.fromEntries(wrk.match(/BENCH (.*)/)[1].split(' ').map((kv) => kv.split('=')).map(([k, v]) => [k, Number(v)]));
const inDb = Number(sql(srv.db, `SELECT COUNT(*) FROM reports WHERE template_code = '${T}' AND period = '${today}' AND status = 'submitted'`));
console.log(`HTTP submissions (wrk, concurrency ${CONC}): ${w.completed} in ${w.seconds.toFixed(1)} s = ${Math.round(w.completed / w.seconds)}/s, p50 ${ms(w.p50)}, p99 ${ms(w.p99)}, errors ${w.bad}; ${inDb} new reports in the database   target: ≥ 2,000/s`);

const paced = [];
let errors = 0;
{
  const N500 = 5000, t0p = performance.now();
  let k = 0;
  const agent = new http.Agent({ keepAlive: true, keepAliveMsecs: 1000 });
  const hdr = { authorization: 'Bearer ' + token, 'content-type': 'application/json' };
  const body = JSON.stringify({ status: 'submitted', values: { residents_present: 80, staff_on_duty: 20, closed_management: true, new_infected: 1, currently_infected: 3, severe_cases: 1 } });
  await new Promise((resolve) => {
    let done = 0;
    const tick = setInterval(() => {
      const due = Math.min(N500, Math.floor((performance.now() - t0p) / 2) + 1);
      for (; k < due; k++) {
        const id = ids[SUB + k], s = performance.now();
        const req = http.request(`${srv.base}/api/v1/reports/${T}/${id}/${today}`, { method: 'PUT', headers: hdr, agent }, (res) => {
          res.resume();
          res.on('end', () => {
            if (res.statusCode > 201) errors++;
            paced.push(performance.now() - s);
            if (++done === N500) { clearInterval(tick); resolve(); }
          });
        });
        req.on('error', () => { errors++; if (++done === N500) { clearInterval(tick); resolve(); } });
        req.end(body);
      }
    }, 1);
  });
}
console.log(`HTTP submissions paced at 500/s: ${paced.length}, p50 ${ms(pct(paced, 50))}, p99 ${ms(pct(paced, 99))}, errors ${errors}   target: p99 ≤ 20 ms`);

// reads
async function timeIt(label, p, target, n = 50) {
  const xs = [];
  for (let i = 0; i < n; i++) { const s = performance.now(); const res = await admin.get(p); xs.push(performance.now() - s); if (res.status !== 200) throw new Error(label + ' ' + res.status); }
  console.log(`${label}: p50 ${ms(pct(xs, 50))}, p99 ${ms(pct(xs, 99))}   target: ${target}`);
}
const county = counties[rnd(counties.length)];
await timeIt('national roll-up (all provinces × all fields)', `/api/v1/rollups?template=${T}&period=${today}&division=`, 'p50 ≤ 20 ms');
await timeIt('national completeness', `/api/v1/completeness?template=${T}&period=${today}&division=`, 'p50 ≤ 20 ms (with the roll-up)');
await timeIt('county drill-down (by institution)', `/api/v1/rollups?template=${T}&period=${today}&division=${county}`, 'p50 ≤ 10 ms');
await timeIt(`series of one field (${D + 1} days, national)`, `/api/v1/series?template=${T}&field=residents_present&division=&from=${dayOf(0)}&to=${today}`, '120 days ≤ 50 ms');

// freshness: a submission is visible to the very next request
const before = (await admin.get(`/api/v1/rollups?template=${T}&period=${today}&division=`)).body.division.values.residents_present;
const id = ids[ids.length - 1];
await admin.put(`/api/v1/reports/${T}/${id}/${today}`, { status: 'submitted', values: { residents_present: 999, staff_on_duty: 20, closed_management: true, new_infected: 1, currently_infected: 3, severe_cases: 1 } });
const after = (await admin.get(`/api/v1/rollups?template=${T}&period=${today}&division=`)).body.division.values.residents_present;
console.log(`freshness: national residents_present ${before} → ${after} on the very next request (${after !== before ? 'visible' : 'NOT visible'})   target: next request`);

const status = readFileSync(`/proc/${srv.proc.pid}/status`, 'utf8');
const hwm = Number(status.match(/VmHWM:\s+(\d+)/)[1]);
console.log(`server peak RSS: ${(hwm / 1024).toFixed(0)} MB   target: ≤ 512 MB`);
if (!pg) {
  const size = ['', '-wal'].map((s) => existsSync(srv.db + s) ? statSync(srv.db + s).size : 0).reduce((a, b) => a + b, 0);
  console.log(`database size: ${(size / 1048576).toFixed(0)} MB for ${N} institutions × ${D + 1} days`);
} else {
  console.log('database size: ' + sql(srv.db, 'SELECT pg_size_pretty(pg_database_size(current_database()))'));
}
await srv.stop();
