// bench/load.mjs — the load test of the reliability issue (make load). Builds
// the national data set (N elderly-care institutions over the real counties,
// D days of reports) on SQLite, then:
//
//   1. wrk with C (default 2,000) concurrent keep-alive connections for S
//      seconds (default 60), mixing the dashboard's reads (national roll-up,
//      completeness, a county drill-down, a province's children, the season's
//      series) with report submissions (W in 10 requests, default 2; they
//      resubmit the past days' reports, as corrections);
//      every answer must be 2xx and no socket may fail;
//   2. the deadline peak replayed: N submissions (one per institution, today)
//      paced evenly over P seconds (default 600 — all institutions within the
//      last 10 minutes before the deadline), open loop, on keep-alive
//      connections; p50/p99 and errors.
//
//   node bench/load.mjs [--institutions 45000] [--days 7] [--connections 2000]
//        [--seconds 60] [--writes 2] [--peak-seconds 600] [--threads 64]
//        [--keep FILE] (copy the generated data set to FILE) [--reuse FILE] (start from a copy of it)
//        [--timeout 30] (seconds wrk waits for an answer before counting an error, as a browser or
//        nginx's proxy_read_timeout would — far longer than any answer should take)
// Prints figures; asserts nothing about time. Exits 1 if any request failed.
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync, mkdtempSync, rmSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { startServer, cli, sql, usccWithCheck, BIN } from '../tests/lib/server.mjs';

const arg = (name, def) => { const i = process.argv.indexOf('--' + name); return i > 0 ? process.argv[i + 1] : def; };
const N = Number(arg('institutions', 45000)), D = Number(arg('days', 7)), C = Number(arg('connections', 2000));
const S = Number(arg('seconds', 60)), W = Number(arg('writes', 2)), PEAK = Number(arg('peak-seconds', 600));
const THREADS = Number(arg('threads', 64)), TIMEOUT = Number(arg('timeout', 30));
const T = 'elderly-daily-2022';
const pct = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(p / 100 * s.length))]; };
const ms = (x) => (x < 10 ? x.toFixed(2) : x.toFixed(1)) + ' ms';
const work = mkdtempSync(path.join(tmpdir(), 'cw-load-'));
const today = new Date().toLocaleDateString('sv-SE', { timeZone: 'Asia/Shanghai' });
const dayOf = (k) => { const d = new Date(today + 'T12:00:00Z'); d.setUTCDate(d.getUTCDate() - k); return d.toISOString().slice(0, 10); };
let failed = 0;

const srv = await startServer({ demo: false, threads: THREADS, env: { CAREWATCH_TEST_PG: '', CAREWATCH_CONN_LIMIT: String(Math.max(4096, C + 512)) } });
const counties = sql(srv.db, 'SELECT code FROM divisions WHERE level = 3 ORDER BY code').split('\n');
console.log(`carewatch load test: ${N} institutions over ${counties.length} counties, ${D} days of reports on SQLite; ` +
  `server threads ${THREADS}; ${new Date().toISOString()}; load average ${execFileSync('cat', ['/proc/loadavg'], { encoding: 'utf8' }).split(' ').slice(0, 3).join(' ')}`);
const reuse = arg('reuse', ''), keep = arg('keep', '');
if (reuse) {
  await srv.stop({ keep: true });
  copyFileSync(reuse, srv.db);
  copyFileSync(reuse + '.key', srv.db + '.key'); // the personal-data key that belongs to it
  rmSync(srv.db + '-wal', { force: true });
  Object.assign(srv, await restart(srv.db));
} else {
  let csv = '机构名称,统一社会信用代码,机构类型,举办性质,行政区划代码,床位数,联系电话\n';
  for (let i = 0; i < N; i++) {
    const c = counties[i % counties.length];
    csv += `养老院${i},${usccWithCheck('52' + c + String(10000000 + i).slice(-8) + (i % 10))},养老机构,民办,${c},${50 + (i % 200)},1380000${String(i % 10000).padStart(4, '0')}\n`;
  }
  writeFileSync(path.join(work, 'inst.csv'), csv);
  execFileSync(BIN, ['import', 'institutions', '--db', srv.db, path.join(work, 'inst.csv')]);
  for (let k = D; k >= 1; k--) { // past days: bulk import
    const rows = ['institution_id,日期,residents_present,staff_on_duty,closed_management,new_infected,currently_infected,severe_cases'];
    for (let id = 1; id <= N; id++) rows.push(`${id},${dayOf(k)},${40 + (id * 7 + k) % 150},${10 + (id + k) % 40},${(id + k) % 4 ? 1 : 0},${(id * k) % 3},${(id + k) % 10},0`);
    writeFileSync(path.join(work, 'day.csv'), rows.join('\n') + '\n');
    execFileSync(BIN, ['import', 'reports', '--db', srv.db, '--template', T, path.join(work, 'day.csv')]);
  }
  if (keep) { sql(srv.db, `VACUUM INTO '${keep}'`); copyFileSync(srv.db + '.key', keep + '.key'); }
}
console.log(`  data set ready: ${sql(srv.db, 'SELECT COUNT(*) FROM institutions')} institutions, ${sql(srv.db, 'SELECT COUNT(*) FROM reports')} reports`);

/* Starts a server on an existing database file (for --reuse). */
async function restart(db) {
  const { spawn } = await import('node:child_process');
  const proc = spawn(BIN, ['serve', '--db', db, '--listen', '127.0.0.1:0', '--threads', String(THREADS)],
    { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, CAREWATCH_LOG_LEVEL: 'warn', CAREWATCH_CONN_LIMIT: String(Math.max(4096, C + 512)) } });
  const port = await new Promise((res) => { let out = ''; proc.stdout.on('data', (d) => { out += d; const m = out.match(/:(\d+)\n/); if (m) res(Number(m[1])); }); });
  return { proc, port, base: `http://127.0.0.1:${port}`, async stop() { proc.kill('SIGTERM'); await new Promise((r) => proc.on('exit', r)); } };
}
cli(['user', 'add', '--db', srv.db, '--login', 'load', '--role', 'admin', '--scope', ''], { input: 'Load2026pass\n' });
const token = cli(['token', 'create', '--db', srv.db, '--login', 'load', '--label', 'load']).stdout.trim().split(/\s+/).at(-1);

// 1. mixed keep-alive load
{
  const county = counties[Math.floor(counties.length / 2)];
  const reads = [
    `/api/v1/rollups?template=${T}&period=${dayOf(1)}&division=`,
    `/api/v1/completeness?template=${T}&period=${dayOf(1)}&division=`,
    `/api/v1/rollups?template=${T}&period=${dayOf(1)}&division=${county}&by=institution`,
    `/api/v1/completeness?template=${T}&period=${today}&division=${county.slice(0, 2)}`,
    `/api/v1/series?template=${T}&field=residents_present&division=&from=${dayOf(D)}&to=${today}`,
  ];
  // submissions of the mixed load edit the past days (corrections); today is left whole for the peak
  const periods = Array.from({ length: D }, (_, k) => dayOf(k + 1)).join(',');
  const r = spawnSync('wrk', ['-t2', `-c${C}`, `-d${S}s`, '--timeout', `${TIMEOUT}s`, '--latency', '-s', path.join(import.meta.dirname, 'mixed.lua'),
    srv.base, '--', token, T, String(N), String(W), '2', periods, ...reads], { encoding: 'utf8', maxBuffer: 1 << 26 });
  const line = (r.stdout || '').match(/BENCH (.*)/);
  if (!line) { console.log(r.stdout, r.stderr); process.exit(1); }
  const w = Object.fromEntries(line[1].split(' ').map((kv) => kv.split('=')).map(([k, v]) => [k, Number(v)]));
  const sockErr = w.connect + w.read + w.write + w.timeout;
  failed += w.non2xx + sockErr;
  console.log(`  mixed load, ${C} keep-alive connections, ${S} s, ${W} in 10 requests a submission: ` +
    `${w.requests.toLocaleString('en')} requests (${Math.round(w.requests / w.seconds).toLocaleString('en')}/s, ${w.writes.toLocaleString('en')} submissions), ` +
    `p50 ${ms(w.p50)}, p99 ${ms(w.p99)}, max ${ms(w.max)}; errors: ${w.non2xx} non-2xx, ${sockErr} socket (connect ${w.connect}, read ${w.read}, write ${w.write}, timeout ${w.timeout})`);
  // requests wrk gave up on may still be finishing: wait until nothing changes, then read both in one snapshot
  let rows = -1, rolled = -2, prev = '';
  for (let i = 0; i < 60; i++) {
    const now = sql(srv.db, `SELECT (SELECT COUNT(*) FROM reports WHERE template_code = '${T}'), (SELECT SUM(n_reports) FROM rollups WHERE template_code = '${T}' AND division_code = '')`);
    [rows, rolled] = now.split('|').map(Number);
    if (now === prev) break;
    prev = now;
    await new Promise((r) => setTimeout(r, 1000));
  }
  console.log(`  after the load: ${rows} reports, national roll-ups count ${rolled}${rows === rolled ? ' (equal)' : ' — MISMATCH'}`);
  if (rows !== rolled) failed++;
}

// 2. the deadline peak: every institution once, evenly over PEAK seconds, open loop
{
  const ids = Array.from({ length: N }, (_, i) => i + 1); // every institution files today's report once
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const hdr = { authorization: 'Bearer ' + token, 'content-type': 'application/json' };
  const body = JSON.stringify({ status: 'submitted', values: { residents_present: 81, staff_on_duty: 21, closed_management: true, new_infected: 0, currently_infected: 2, severe_cases: 0 } });
  const lat = []; let errors = 0, k = 0;
  const rate = ids.length / PEAK;
  const t0 = performance.now();
  await new Promise((resolve) => {
    let answered = 0;
    if (!ids.length) return resolve();
    const finish = () => { if (++answered === ids.length) { clearInterval(tick); resolve(); } };
    const tick = setInterval(() => {
      const due = Math.min(ids.length, Math.floor((performance.now() - t0) / 1000 * rate) + 1);
      for (; k < due; k++) {
        const s = performance.now();
        const req = http.request(`${srv.base}/api/v1/reports/${T}/${ids[k]}/${today}`, { method: 'PUT', headers: hdr, agent }, (res) => {
          res.resume();
          res.on('end', () => { if (res.statusCode > 201) errors++; lat.push(performance.now() - s); finish(); });
        });
        req.on('error', () => { errors++; finish(); });
        req.end(body);
      }
    }, 2);
  });
  agent.destroy();
  const secs = (performance.now() - t0) / 1000;
  failed += errors;
  const stored = Number(sql(srv.db, `SELECT COUNT(*) FROM reports WHERE template_code = '${T}' AND period = '${today}'`));
  console.log(`  deadline peak: ${ids.length.toLocaleString('en')} submissions paced over ${PEAK} s (${rate.toFixed(0)}/s), done in ${secs.toFixed(1)} s: ` +
    `p50 ${ms(pct(lat, 50))}, p99 ${ms(pct(lat, 99))}, max ${ms(Math.max(...lat))}, ${errors} errors; today's reports in the database: ${stored} of ${N}`);
}
const hwm = Number(execFileSync('cat', [`/proc/${srv.proc.pid}/status`], { encoding: 'utf8' }).match(/VmHWM:\s+(\d+)/)[1]);
console.log(`  server peak RSS ${(hwm / 1024).toFixed(0)} MB`);
await srv.stop();
rmSync(work, { recursive: true, force: true });
if (reuse) rmSync(path.dirname(srv.db), { recursive: true, force: true });
process.exit(failed ? 1 : 0);
