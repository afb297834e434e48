// PostgreSQL stopped and restarted under the server: requests get 503 with a
// clear code, nothing is half-written, and service resumes by itself.
// Runs in the PostgreSQL pass (CAREWATCH_TEST_PG set) on a cluster of its own,
// so stopping it disturbs no other test.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startServer, sql, newUscc, ROOT } from '../lib/server.mjs';

const enabled = !!process.env.CAREWATCH_TEST_PG;
const script = path.join(ROOT, 'scripts', 'pg-cluster.sh');
let dir, srv, uri;

function pgctl(action) {
  execFileSync(script, ['ctl', dir, action], { stdio: 'ignore' });
}

before(async () => {
  if (!enabled) return;
  dir = mkdtempSync(path.join(tmpdir(), 'cw-pgfault-'));
  const out = execFileSync(script, ['start', dir]).toString();
  uri = out.match(/CAREWATCH_PG_URI=(\S+)/)[1];
  srv = await startServer({ demo: true, env: { CAREWATCH_TEST_PG: uri } });
});
after(async () => {
  if (!enabled) return;
  await srv?.stop();
  execFileSync(script, ['stop', dir]);
});

test('PostgreSQL down: 503 db_unavailable, nothing stored; back up: the same server serves again', { skip: !enabled }, async () => {
  const c = await srv.api('mz.jiangan');
  const body = () => ({ name: '断库测试院', uscc: newUscc('420102'), type: 'other', ownership: 'public', division_code: '420102' });
  assert.equal((await c.post('/api/v1/institutions', body())).status, 201);
  const before = sql(srv.db, 'SELECT COUNT(*) FROM institutions');
  pgctl('stop');
  const w = await c.post('/api/v1/institutions', { ...body(), name: '断库期间写入' });
  assert.equal(w.status, 503, JSON.stringify(w.body));
  assert.equal(w.body.error.code, 'db_unavailable');
  assert.match(w.body.error.message, /数据库/);
  assert.ok(w.headers.get('retry-after'));
  const r = await c.get('/api/v1/institutions');
  assert.equal(r.status, 503);
  const h = await srv.fetch('/healthz');
  assert.equal(h.status, 503);
  pgctl('start');
  let ok = false;
  for (let i = 0; i < 50 && !ok; i++) {
    ok = (await c.get('/api/v1/institutions')).status === 200;
    if (!ok) await new Promise((res) => setTimeout(res, 100));
  }
  assert.ok(ok, 'service resumed without a restart');
  assert.equal(sql(srv.db, 'SELECT COUNT(*) FROM institutions'), before, 'the write during the outage left nothing');
  assert.equal(sql(srv.db, "SELECT COUNT(*) FROM institutions WHERE name = '断库期间写入'"), '0');
  const again = await c.post('/api/v1/institutions', body());
  assert.equal(again.status, 201, JSON.stringify(again.body));
  // every worker thread's connection recovers, not just one
  const all = await Promise.all(Array.from({ length: 16 }, () => c.get('/api/v1/institutions')));
  assert.ok(all.every((x) => x.status === 200), all.map((x) => x.status).join(','));
});

test('PostgreSQL restarted under a submission load: only 2xx or 503, every retried submission stored once and whole, roll-ups equal the rows', { skip: !enabled }, async () => {
  const { execFile } = await import('node:child_process');
  const ctl = (action) => new Promise((res, rej) => execFile(script, ['ctl', dir, action], (e) => (e ? rej(e) : res())));
  const c = await srv.api('admin');
  const ids = sql(srv.db, "SELECT id FROM institutions WHERE type IN ('elderly_care','social_welfare') AND status <> 'closed' ORDER BY id").split('\n').map(Number);
  const day = (k) => new Date(Date.UTC(2020, 5, 1) + k * 86400e3).toISOString().slice(0, 10);
  const statuses = new Map(), done = new Map();
  let stop = false;
  async function writer(w) {
    for (let k = 0; !stop || k < 3; k++) {
      const inst = ids[w % ids.length], period = day(w * 100 + k), key = `pg-restart-${w}-${k}`;
      const body = { client_key: key, status: 'submitted', values: { residents_present: 100 + w * 1000 + k, staff_on_duty: 5, closed_management: false, new_infected: 0, currently_infected: 0, severe_cases: 0 }, confirm_warnings: true };
      for (;;) { // a client retries a 503 with the same key until it is acknowledged
        let r;
        try { r = await c.put(`/api/v1/reports/elderly-daily-2022/${inst}/${period}`, body); } catch { r = { status: 0 }; }
        statuses.set(r.status, (statuses.get(r.status) || 0) + 1);
        if (r.status === 200 || r.status === 201) { done.set(`${inst}/${period}`, body.values.residents_present); break; }
        assert.equal(r.status, 503, `only 503 while the database restarts, got ${r.status} ${r.text}`);
        assert.ok(['db_unavailable', 'db_busy'].includes(r.body.error.code), r.text);
        await new Promise((res) => setTimeout(res, 100));
      }
    }
  }
  const load = Promise.all([0, 1, 2, 3, 4, 5].map(writer));
  await new Promise((res) => setTimeout(res, 500));
  await ctl('stop');
  await new Promise((res) => setTimeout(res, 700));
  await ctl('start');
  await new Promise((res) => setTimeout(res, 800));
  stop = true;
  await load;
  assert.ok((statuses.get(503) || 0) > 0, 'the restart was felt: ' + JSON.stringify([...statuses]));
  const rows = sql(srv.db, "SELECT institution_id || '/' || period, vals FROM reports WHERE template_code = 'elderly-daily-2022' AND period BETWEEN '2020-06-01' AND '2022-12-31'").split('\n').filter(Boolean);
  assert.equal(rows.length, done.size, 'every acknowledged report once, nothing else');
  for (const line of rows) {
    const [key, vals] = line.split('|');
    assert.equal(JSON.parse(vals).residents_present, done.get(key), key);
  }
  const n = sql(srv.db, "SELECT COALESCE(SUM(n_reports), 0) FROM rollups WHERE template_code = 'elderly-daily-2022' AND period BETWEEN '2020-06-01' AND '2022-12-31' AND division_code = ''");
  assert.equal(Number(n), done.size, 'roll-ups count each report once');
});
