// Moving up: `carewatch migrate-db` copies a whole SQLite database into
// PostgreSQL and checks it; a server on the copy answers exactly as before.
// Runs in the PostgreSQL pass.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { startServer, cli, sql, newUscc } from '../lib/server.mjs';

const pg = process.env.CAREWATCH_TEST_PG;

test('a SQLite database moves to PostgreSQL with counts, audit chain and roll-ups checked', { skip: !pg }, async () => {
  // a SQLite server with some history
  const lite = await startServer({ demo: true, env: { CAREWATCH_TEST_PG: '' } });
  const name = 'mig_' + randomBytes(5).toString('hex');
  const u = new URL(pg);
  u.pathname = '/' + name;
  const target = u.toString();
  let onPg;
  try {
    assert.ok(!/^postgres/.test(lite.db));
    const c = await lite.api('mz.jiangan');
    const made = await c.post('/api/v1/institutions', { name: '迁移前登记', uscc: newUscc('420102'), type: 'elderly_care', ownership: 'public', division_code: '420102' });
    assert.equal(made.status, 201);
    // a suspended institution leaves the trigger-kept counts, which must match too
    assert.equal((await c.patch(`/api/v1/institutions/${made.body.id}`, { status: 'suspended' })).status, 200);
    const today = new Date().toLocaleDateString('sv-SE', { timeZone: 'Asia/Shanghai' });
    const before = await (await lite.api('admin')).get(`/api/v1/rollups?template=elderly-daily-2022&period=${today}&division=42`);
    await lite.stop({ keep: true });
    assert.equal(spawnSync('psql', [pg, '-qc', `CREATE DATABASE ${name}`]).status, 0);
    const r = cli(['migrate-db', '--from', lite.db, '--to', target]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /audit chain intact on PostgreSQL/);
    assert.match(r.stdout, /migration complete/);
    assert.equal(sql(target, 'SELECT COUNT(*) FROM reports'), sql(lite.db, 'SELECT COUNT(*) FROM reports'));
    // a second run into the same database is refused
    const again = cli(['migrate-db', '--from', lite.db, '--to', target]);
    assert.notEqual(again.status, 0);
    assert.match(again.stderr, /not empty/);
    // serve the copy: same roll-ups, logins work, new ids continue after the copied ones
    onPg = await startServerOn(target);
    const after = await (await onPg.api('admin')).get(`/api/v1/rollups?template=elderly-daily-2022&period=${today}&division=42`);
    assert.deepEqual(after.body, before.body);
    const c2 = await onPg.api('mz.jiangan');
    const next = await c2.post('/api/v1/institutions', { name: '迁移后登记', uscc: newUscc('420102'), type: 'elderly_care', ownership: 'public', division_code: '420102' });
    assert.equal(next.status, 201, JSON.stringify(next.body));
    assert.ok(next.body.id > made.body.id);
    assert.equal(cli(['audit', 'verify', '--db', target]).status, 0);
  } finally {
    await onPg?.stop();
  }
});

/* A server on an existing database (no init). */
async function startServerOn(db) {
  const { spawn } = await import('node:child_process');
  const { BIN, client } = await import('../lib/server.mjs');
  const proc = spawn(BIN, ['serve', '--db', db, '--listen', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CAREWATCH_LOG_LEVEL: 'warn' } });
  const port = await new Promise((res, rej) => {
    let out = '';
    proc.stdout.on('data', (d) => { out += d; const m = out.match(/:(\d+)\n/); if (m) res(Number(m[1])); });
    proc.on('exit', (code) => rej(new Error('exited ' + code)));
  });
  const base = `http://127.0.0.1:${port}`;
  const srv = {
    fetch: (p, o = {}) => fetch(base + p, { redirect: 'manual', ...o }),
    async api(login) {
      const r = await srv.fetch('/api/v1/session', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ login, password: 'carewatch2026' }) });
      const b = await r.json();
      return client(srv, { cookie: r.headers.get('set-cookie').split(';')[0], csrf: b.csrf, user: b.user });
    },
    async stop() { const done = new Promise((res) => proc.on('exit', res)); proc.kill('SIGTERM'); await done; },
  };
  return srv;
}
