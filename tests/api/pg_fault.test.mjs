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
