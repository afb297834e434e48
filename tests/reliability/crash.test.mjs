// crash.test.mjs — crash safety under load. A submission load runs against a
// real server that is killed with SIGKILL at a random moment, CRASH_KILLS times
// (default 50); after each kill the database must pass its integrity check and
// the audit chain must verify, and after a restart every acknowledged report
// must be present with exactly the values acknowledged (or those of the one
// request of its writer that was in flight at the kill, which may or may not
// have committed), every report row must hold one request's values whole, and
// the live roll-ups must equal the sums of the raw reports. Home visits to people
// at home run alongside: every acknowledged visit is stored exactly once, whole,
// and each person's last visit is the latest stored.
//
// Run alone: make crash   (or node --test tests/reliability/crash.test.mjs)
// The engine is SQLite, or PostgreSQL when CAREWATCH_TEST_PG is set.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BIN, cli, client, sql, DEMO_PASSWORD } from '../lib/server.mjs';

const KILLS = Number(process.env.CRASH_KILLS || 50);
const WORKERS = 6;
const TEMPLATE = 'elderly-daily-2022';
const pg = process.env.CAREWATCH_TEST_PG;
const dir = mkdtempSync(path.join(tmpdir(), 'cw-crash-'));
// the personal-data key: beside a SQLite file by default; a PostgreSQL database has none beside it
if (pg) process.env.CAREWATCH_KEY_FILE = path.join(dir, 'pii.key');
let db;

after(() => rmSync(dir, { recursive: true, force: true }));

function freshDb() {
  if (!pg) return path.join(dir, 'crash.db');
  const name = 'cw_crash_' + process.pid;
  sql(pg, `DROP DATABASE IF EXISTS ${name}`);
  sql(pg, `CREATE DATABASE ${name}`);
  const u = new URL(pg);
  u.pathname = '/' + name;
  return u.toString();
}

/* Starts `carewatch serve` on the database; resolves {proc, base}. */
function serve() {
  const proc = spawn(BIN, ['serve', '--db', db, '--listen', '127.0.0.1:0', '--threads', '4'],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CAREWATCH_LOG_LEVEL: 'error' } });
  let err = '';
  proc.stderr.on('data', (d) => { err += d; });
  return new Promise((resolve, reject) => {
    let out = '';
    const t = setTimeout(() => reject(new Error('server did not start: ' + err)), 20000);
    proc.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/listening on http:\/\/[\d.]+:(\d+)/);
      if (m) { clearTimeout(t); resolve({ proc, base: `http://127.0.0.1:${m[1]}` }); }
    });
    proc.on('exit', (c) => { clearTimeout(t); reject(new Error(`server exited ${c}: ${err}`)); });
  });
}

function period(k) { // distinct old days, far from the demo's weeks
  return new Date(Date.UTC(2019, 0, 1) + k * 86400e3).toISOString().slice(0, 10);
}

/* A request's values are all derived from one number, so a row holding parts of
 * two requests is detected: stored values must equal valuesOf(seqOf(values)). */
function valuesOf(seq) {
  return { residents_present: 1000 + (seq % 9000), staff_on_duty: Math.floor(seq / 9000) + 1, closed_management: seq % 2 === 0,
    new_infected: seq % 3, currently_infected: seq % 7, severe_cases: seq % 7 === 0 ? 0 : 1, fever_today: seq % 5 };
}

function seqOf(v) { return (v.staff_on_duty - 1) * 9000 + v.residents_present - 1000; }

test(`${KILLS} SIGKILLs under a submission load: acknowledged reports and home visits kept whole, integrity and audit chain intact`, { timeout: 30 * 60e3 }, async () => {
  db = freshDb();
  const init = cli(['init', '--db', db, '--demo']);
  assert.equal(init.status, 0, init.stderr);
  const insts = sql(db, "SELECT id FROM institutions WHERE type IN ('elderly_care','social_welfare') AND status <> 'closed' ORDER BY id")
    .split('\n').map(Number).slice(0, 12);
  assert.ok(insts.length >= 4);
  // state per report key "inst/period": the last acknowledged seq and the seqs sent after it
  const state = new Map();
  // people at home (when the registry exists): visits by client_key, acknowledged or in flight
  const persons = (() => { try { return sql(db, 'SELECT id FROM persons ORDER BY id LIMIT 8').split('\n').filter(Boolean).map(Number); } catch { return []; } })();
  const visitAcked = new Map(), visitPending = new Map();
  const visitDay = (k) => new Date(Date.UTC(2025, 0, 1) + k * 86400e3).toISOString().slice(0, 10);
  let seq = 0, acks = 0, lost = 0, cookie, csrf;

  for (let round = 0; round < KILLS; round++) {
    const { proc, base } = await serve();
    const fetchBase = (p, o = {}) => fetch(base + p, { redirect: 'manual', ...o });
    if (!cookie) { // the session lives in the database: it survives every crash
      const r = await fetchBase('/api/v1/session', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ login: 'admin', password: DEMO_PASSWORD }) });
      assert.equal(r.status, 200);
      csrf = (await r.json()).csrf;
      cookie = r.headers.get('set-cookie').split(';')[0];
    }
    const api = client({ fetch: fetchBase }, { cookie, csrf });
    let stop = false;
    async function worker(w) {
      // each worker owns its reports, so requests to one report never overlap
      for (let k = 0; !stop; k++) {
        const inst = insts[(w * 2 + (k & 1)) % insts.length];
        const key = `${inst}/${period(w * 100 + (k % 40))}`;
        const s = ++seq;
        const st = state.get(key) || { acked: null, pending: [] };
        st.pending.push(s);
        state.set(key, st);
        let r;
        try {
          r = await api.put(`/api/v1/reports/${TEMPLATE}/${key}`, { client_key: `crash-test-${s}`, status: 'submitted', values: valuesOf(s), confirm_warnings: true });
        } catch { lost++; return; } // killed in flight: the request stays pending (unknown outcome)
        if (r.status === 200 || r.status === 201) {
          st.acked = s; st.pending = []; acks++;
        } else if (r.status === 503) {
          continue; // refused whole (busy); stays pending, which also covers "maybe"
        } else {
          throw new Error(`unexpected ${r.status} ${r.text}`);
        }
      }
    }
    async function visitor(w) {
      for (let k = 0; !stop && persons.length; k++) {
        const s = ++seq, key = `crash-visit-${s}`, person = persons[(w * 4 + k) % persons.length];
        const body = { date: visitDay(s % 300), mode: 'phone', findings: { health: `seq ${s}` }, help: `help ${s}`, follow_up: '', client_key: key };
        visitPending.set(key, { s, person });
        let r;
        try { r = await api.post(`/api/v1/persons/${person}/visits`, body); } catch { lost++; return; }
        if (r.status === 200 || r.status === 201) { visitAcked.set(key, { s, person }); visitPending.delete(key); acks++; }
        else if (r.status === 503) await new Promise((res) => setTimeout(res, 50));
        else throw new Error(`visit: unexpected ${r.status} ${r.text}`);
      }
    }
    const load = Promise.all([...Array.from({ length: WORKERS }, (_, w) => worker(w)), visitor(0), visitor(1)]);
    await new Promise((res) => setTimeout(res, 150 + Math.random() * 600));
    proc.kill('SIGKILL');
    stop = true;
    await load;
    await new Promise((res) => (proc.exitCode !== null || proc.signalCode ? res() : proc.on('exit', res)));

    // the database as the crash left it
    if (!pg) assert.equal(sql(db, 'PRAGMA integrity_check'), 'ok', `round ${round}: integrity_check`);
    const v = cli(['audit', 'verify', '--db', db]);
    assert.equal(v.status, 0, `round ${round}: ${v.stdout}${v.stderr}`);
  }

  // restart once more and read everything back through SQL and the API
  const { proc, base } = await serve();
  try {
    const rows = sql(db, `SELECT institution_id || '/' || period, vals, status FROM reports WHERE template_code = '${TEMPLATE}' AND period < '2021-01-01'`);
    const stored = new Map();
    for (const line of rows.split('\n').filter(Boolean)) {
      const [key, vals, status] = line.split('|');
      stored.set(key, { vals: JSON.parse(vals), status });
    }
    let checked = 0;
    for (const [key, st] of state) {
      const row = stored.get(key);
      if (st.acked === null) { // never acknowledged: absent, or one pending request whole
        if (!row) continue;
      } else {
        assert.ok(row, `acknowledged report ${key} is missing`);
      }
      const got = seqOf(row.vals);
      const allowed = [st.acked, ...st.pending].filter((x) => x !== null);
      assert.ok(allowed.includes(got), `${key}: stored request ${got}, acknowledged ${st.acked}, pending ${st.pending}`);
      const want = valuesOf(got);
      for (const f of Object.keys(want)) assert.deepEqual(row.vals[f], want[f], `${key}: ${f} is not request ${got}'s`);
      assert.equal(row.status, 'submitted');
      checked++;
    }
    for (const key of stored.keys()) assert.ok(state.has(key), `a report nobody sent: ${key}`);
    // no duplicate report per (template, institution, period), and roll-ups equal the raw rows
    const sums = sql(db, `SELECT period, COUNT(*), SUM(CAST(${pg ? "(vals::json->>'residents_present')::bigint" : "json_extract(vals, '$.residents_present')"} AS BIGINT)) FROM reports WHERE template_code = '${TEMPLATE}' AND period < '2021-01-01' GROUP BY period ORDER BY period`);
    const fetchBase = (p, o = {}) => fetch(base + p, { redirect: 'manual', ...o });
    const api = client({ fetch: fetchBase }, { cookie, csrf });
    for (const line of sums.split('\n').filter(Boolean)) {
      const [p, n, total] = line.split('|');
      const r = await api.get(`/api/v1/rollups?template=${TEMPLATE}&period=${p}`);
      assert.equal(r.status, 200, r.text);
      assert.equal(r.body.division.values.residents_present, Number(total), `roll-up of ${p}`);
      const c = await api.get(`/api/v1/completeness?template=${TEMPLATE}&period=${p}`);
      assert.equal(c.body.division.submitted, Number(n), `completeness of ${p}`);
    }
    // visits: each acknowledged one exactly once and whole; in-flight ones at most once; nothing else
    if (persons.length) {
      const vrows = sql(db, "SELECT client_key, person_id, help, findings FROM visits WHERE client_key LIKE 'crash-visit-%'").split('\n').filter(Boolean);
      const seen = new Map();
      for (const line of vrows) {
        const [key, person, help, findings] = line.split('|');
        assert.ok(!seen.has(key), `visit ${key} stored twice`);
        seen.set(key, true);
        const want = visitAcked.get(key) || visitPending.get(key);
        assert.ok(want, `a visit nobody sent: ${key}`);
        assert.equal(Number(person), want.person, key);
        assert.equal(help, `help ${want.s}`, `${key}: help is not its request's`);
        assert.equal(JSON.parse(findings).health, `seq ${want.s}`, `${key}: findings are not its request's`);
      }
      for (const key of visitAcked.keys()) assert.ok(seen.has(key), `acknowledged visit ${key} is missing`);
      // each person's last visit is the latest one stored
      const mism = sql(db, 'SELECT COUNT(*) FROM persons p WHERE p.id IN (' + persons.join(',') + ') AND COALESCE(p.last_visit, \'\') <> COALESCE((SELECT MAX(visit_date) FROM visits v WHERE v.person_id = p.id), \'\')');
      assert.equal(mism, '0', 'persons.last_visit equals the latest stored visit');
      console.log(`# crash: ${visitAcked.size} acknowledged visits checked`);
    }
    console.log(`# crash: ${KILLS} kills, ${acks} acknowledged submissions, ${lost} in flight at a kill, ${checked} reports checked`);
    assert.ok(acks >= KILLS, `only ${acks} acknowledged`);
  } finally {
    proc.kill('SIGTERM');
    if (pg) sql(pg, `DROP DATABASE IF EXISTS cw_crash_${process.pid} WITH (FORCE)`);
  }
});
