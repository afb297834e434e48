// bench/matching.mjs — the matching benchmark (make bench-matching). Builds a
// national needs list over the real divisions — N institutions spread over
// the 2,978 real counties (and some townships), one outstanding need each of
// a catalogue item — and M partners' offers nationwide, at township, county,
// city, province and national level, then times
// POST /api/v1/matching/proposals for the whole country (and for one
// province) on SQLite and on PostgreSQL. The target is ≤ 1 s for
// 45,000 needs against 5,000 offers.
//
//   node bench/matching.mjs [--institutions 45000] [--offers 5000] [--runs 5] [--engines sqlite,pg] [--pg URI]
//
// PostgreSQL: --pg URI (or $CAREWATCH_PG_URI) of a cluster where it may create
// databases; without one it starts a throwaway cluster (scripts/pg-cluster.sh)
// when PostgreSQL 15 is installed. Never run by the tests; asserts nothing
// about time, only that the proposals keep the rules (never more than a need
// lacks or an offer holds).
import { writeFileSync, readFileSync, existsSync, mkdtempSync, rmSync, chmodSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir, loadavg, cpus } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { startServer, cli, sql, usccWithCheck, BIN, ROOT } from '../tests/lib/server.mjs';

const arg = (name, def) => { const i = process.argv.indexOf('--' + name); return i > 0 ? process.argv[i + 1] : def; };
const N = Number(arg('institutions', 45000)), M = Number(arg('offers', 5000)), RUNS = Number(arg('runs', 5));
let engines = arg('engines', 'sqlite,pg').split(',');
const run = (cmd, args, opts = {}) => {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 28, ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.slice(0, 3).join(' ')} failed: ${(r.stdout || '').slice(-1500)}${r.stderr}`);
  return r.stdout;
};
const work = mkdtempSync(path.join(tmpdir(), 'cw-bench-match-'));
chmodSync(work, 0o755); // a throwaway cluster below it runs as the postgres user when we are root
const hash = (a, b, c) => { let h = (a * 2654435761 + b * 40503 + c * 2246822519) >>> 0; h ^= h >>> 15; h = Math.imul(h, 2246822507) >>> 0; h ^= h >>> 13; return h >>> 0; };
// CPU time (user + system, ms) the server process has used: on a shared
// machine the wall time of a request also measures the neighbours
const cpuMs = (pid) => { const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' '); return (Number(f[11]) + Number(f[12])) * 10; };
const pct = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(p / 100 * s.length))]; };

let pgUri = arg('pg', process.env.CAREWATCH_PG_URI || '');
if (!pgUri && engines.includes('pg')) {
  if (existsSync('/usr/lib/postgresql/15/bin/postgres')) {
    const out = run(path.join(ROOT, 'scripts/pg-cluster.sh'), ['start', path.join(work, 'pg')]);
    pgUri = out.match(/CAREWATCH_PG_URI=(\S+)/)[1];
  } else {
    console.log('PostgreSQL 15 is not installed: measuring SQLite only');
    engines = engines.filter((e) => e === 'sqlite');
  }
}

// ---- the data set: the same for both engines
const srv0 = await startServer({ demo: false, threads: 1, env: { CAREWATCH_TEST_PG: '' } });
const counties = sql(srv0.db, 'SELECT code FROM divisions WHERE level = 3 ORDER BY code').split('\n');
const townships = sql(srv0.db, 'SELECT code FROM divisions WHERE level = 4 ORDER BY code').split('\n');
await srv0.stop();
const ITEMS = ['antipyretic', 'children_antipyretic', 'cough', 'chinese_medicine', 'antiviral', 'antigen_kit', 'oximeter',
  'oxygen_concentrator', 'oxygen_bag', 'mask_surgical', 'mask_n95', 'protective_suit', 'gloves', 'disinfectant', 'goggles', 'living_supplies'];
const URG = ['urgent', 'high', 'normal'];
const instDiv = [];
let csv = '机构名称,统一社会信用代码,机构类型,举办性质,行政区划代码\n';
for (let i = 1; i <= N; i++) {
  const c = i % 5 === 0 ? townships[hash(i, 1, 2) % townships.length] : counties[hash(i, 3, 4) % counties.length];
  instDiv.push(c);
  csv += `养老院${i},${usccWithCheck('52' + c.slice(0, 6) + String(10000000 + i).slice(-8) + (i % 10))},养老机构,民办,${c}\n`;
}
writeFileSync(path.join(work, 'inst.csv'), csv);
const chunks = (rows, head) => { const out = []; for (let i = 0; i < rows.length; i += 1000) out.push(head + rows.slice(i, i + 1000).join(',\n') + ';'); return out.join('\n'); };
const now = Math.floor(Date.now() / 1000);
const needRows = [], offerRows = [], partnerRows = [];
for (let i = 1; i <= N; i++) {
  const d = instDiv[i - 1], day = String(1 + hash(i, 5, 6) % 28).padStart(2, '0');
  needRows.push(`('${d.slice(0, 6)}-${String(i).padStart(5, '0')}', ${i}, '${d}', '${ITEMS[hash(i, 7, 8) % ITEMS.length]}', ${10 + hash(i, 9, 10) % 300}, '${URG[hash(i, 11, 12) % 3]}', '2026-12-${day}', 'active', 'bench', ${now}, ${now})`);
}
const PARTNERS = 200;
for (let p = 1; p <= PARTNERS; p++) partnerRows.push(`('爱心组织${p}', 'charity', '', 'bench', ${now})`);
for (let o = 1; o <= M; o++) {
  const c = counties[hash(o, 13, 14) % counties.length], lvl = hash(o, 15, 16) % 10;
  const div = lvl < 1 ? '' : lvl < 3 ? c.slice(0, 2) : lvl < 6 ? c.slice(0, 4) : lvl < 9 ? c : townships[hash(o, 17, 18) % townships.length];
  offerRows.push(`(${1 + o % PARTNERS}, '${ITEMS[hash(o, 19, 20) % ITEMS.length]}', ${100 + hash(o, 21, 22) % 2000}, '${div}', '2022-12-01', 'bench', ${now}, ${now})`);
}
const load = chunks(partnerRows, 'INSERT INTO partners(name, kind, division_code, created_by, created_at) VALUES\n') + '\n' +
  chunks(needRows, 'INSERT INTO needs(ref, institution_id, division_code, item, quantity, urgency, needed_by, state, created_by, created_at, updated_at) VALUES\n') + '\n' +
  chunks(offerRows, 'INSERT INTO offers(partner_id, item, quantity, division_code, available_from, created_by, created_at, updated_at) VALUES\n') + '\n';
writeFileSync(path.join(work, 'load.sql'), 'BEGIN;\n' + load + 'COMMIT;\n');

console.log(`matching benchmark: ${N.toLocaleString('en')} institutions' needs, ${M.toLocaleString('en')} offers, ${RUNS} runs each; ` +
  `${cpus().length} cores, load ${loadavg()[0].toFixed(2)}`);
const results = [];
for (const engine of engines) {
  const srv = await startServer({ demo: false, threads: 4, env: { CAREWATCH_TEST_PG: engine === 'pg' ? pgUri : '' } });
  const name = engine === 'pg' ? 'PostgreSQL' : 'SQLite';
  let t0 = performance.now();
  run(BIN, ['import', 'institutions', '--db', srv.db, path.join(work, 'inst.csv')]);
  if (sql(srv.db, 'SELECT MIN(id), MAX(id) FROM institutions') !== `1|${N}`) throw new Error('institution ids are not 1..N');
  if (engine === 'pg') run('psql', [srv.db, '-v', 'ON_ERROR_STOP=1', '-qf', path.join(work, 'load.sql')]);
  else run('sqlite3', [srv.db], { input: load });
  if (engine === 'pg') run('psql', [srv.db, '-qc', 'ANALYZE']);
  console.log(`  [${name}] data set loaded in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  cli(['user', 'add', '--db', srv.db, '--login', 'bench', '--role', 'admin', '--scope', ''], { input: 'Bench2026pass\n' });
  const admin = await srv.login('bench', 'Bench2026pass');
  for (const division of ['', '42']) {
    const times = [];
    let body;
    const cpu0 = cpuMs(srv.proc.pid);
    for (let k = 0; k < RUNS; k++) {
      t0 = performance.now();
      const r = await admin.post('/api/v1/matching/proposals', { division });
      times.push(performance.now() - t0);
      if (r.status !== 200) throw new Error(`matching: ${r.status} ${r.text.slice(0, 300)}`);
      body = r.body;
    }
    const cpu = (cpuMs(srv.proc.pid) - cpu0) / RUNS;
    // the rules hold: never more than a need lacks or an offer holds
    const perNeed = new Map(), perOffer = new Map();
    for (const p of body.proposals) {
      perNeed.set(p.need_id, (perNeed.get(p.need_id) || 0) + p.quantity);
      perOffer.set(p.offer_id, (perOffer.get(p.offer_id) || 0) + p.quantity);
    }
    const lacks = new Map(sql(srv.db, 'SELECT id, quantity - committed FROM needs').split('\n').map((l) => l.split('|').map(Number)));
    const holds = new Map(sql(srv.db, 'SELECT id, quantity - pledged FROM offers').split('\n').map((l) => l.split('|').map(Number)));
    for (const [id, q] of perNeed) if (q > lacks.get(id)) throw new Error(`need ${id} over-proposed`);
    for (const [id, q] of perOffer) if (q > holds.get(id)) throw new Error(`offer ${id} over-proposed`);
    const line = { engine: name, division: division || 'national', proposals: body.count, needs: perNeed.size, bytes: JSON.stringify(body).length,
      median: pct(times, 50), best: Math.min(...times), server: body.took_ms, cpu };
    results.push(line);
    console.log(`  [${name}] ${line.division}: ${line.proposals.toLocaleString('en')} proposals for ${line.needs.toLocaleString('en')} needs, ` +
      `${(line.bytes / 1e6).toFixed(1)} MB; POST /api/v1/matching/proposals median ${line.median.toFixed(0)} ms (best ${line.best.toFixed(0)} ms; ` +
      `server ${line.server} ms inside the handler; ${line.cpu.toFixed(0)} ms of server CPU per request)`);
  }
  await srv.stop();
}
console.log('\n| engine | division | proposals | median (HTTP, whole response) | best | in the handler (last run) | server CPU per request |\n|---|---|---|---|---|---|---|');
for (const l of results) console.log(`| ${l.engine} | ${l.division} | ${l.proposals.toLocaleString('en')} | ${l.median.toFixed(0)} ms | ${l.best.toFixed(0)} ms | ${l.server} ms | ${l.cpu.toFixed(0)} ms |`);
console.log(`load average at the end: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
rmSync(work, { recursive: true, force: true });
