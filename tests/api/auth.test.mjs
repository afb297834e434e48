// Accounts and sessions: login, lockout, CSRF, bearer tokens, logout, disabling.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, cli, sql, DEMO_PASSWORD } from '../lib/server.mjs';

let srv;
before(async () => { srv = await startServer({ demo: true }); });
after(async () => { await srv?.stop(); });

test('login returns the user, a CSRF token and an HttpOnly SameSite=Strict cookie', async () => {
  const r = await srv.fetch('/api/v1/session', {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ login: 'mz.jiangan', password: DEMO_PASSWORD }),
  });
  assert.equal(r.status, 200);
  const body = await r.json();
  assert.equal(body.user.login, 'mz.jiangan');
  assert.equal(body.user.role, 'official');
  assert.equal(body.user.scope, '420102');
  assert.ok(body.csrf.length >= 40);
  const cookie = r.headers.get('set-cookie');
  assert.match(cookie, /cw_session=/);
  assert.match(cookie, /HttpOnly/);
  assert.match(cookie, /SameSite=Strict/);
  assert.ok(!JSON.stringify(body).includes('password'));
});

test('wrong password and unknown login answer the same 401', async () => {
  const a = await srv.anon().post('/api/v1/session', { login: 'mz.hubei', password: 'wrong-password-1' });
  const b = await srv.anon().post('/api/v1/session', { login: 'nobody.here', password: 'wrong-password-1' });
  assert.equal(a.status, 401);
  assert.equal(b.status, 401);
  assert.equal(a.body.error.code, 'invalid_credentials');
  assert.equal(b.body.error.code, 'invalid_credentials');
});

test('five failed logins lock the account for 15 minutes, even with the right password', async () => {
  const c = srv.anon();
  for (let i = 0; i < 4; i++) {
    const r = await c.post('/api/v1/session', { login: 'mz.hongshan', password: 'bad-password-' + i });
    assert.equal(r.status, 401);
  }
  const fifth = await c.post('/api/v1/session', { login: 'mz.hongshan', password: 'bad-password-5' });
  assert.equal(fifth.status, 429);
  assert.equal(fifth.body.error.code, 'account_locked');
  assert.match(fifth.body.error.message, /锁定/);
  const right = await c.post('/api/v1/session', { login: 'mz.hongshan', password: DEMO_PASSWORD });
  assert.equal(right.status, 429);
  assert.equal(right.body.error.code, 'account_locked');
  // the lock is in the database, audited
  assert.equal(sql(srv.db, "SELECT COUNT(*) FROM audit WHERE action = 'user.lock'"), '1');
  // an operator's password reset unlocks it
  const reset = cli(['user', 'passwd', '--db', srv.db, '--login', 'mz.hongshan'], { input: 'NewPassw0rd\n' });
  assert.equal(reset.status, 0, reset.stderr);
  const ok = await c.post('/api/v1/session', { login: 'mz.hongshan', password: 'NewPassw0rd' });
  assert.equal(ok.status, 200);
});

test('state changes on a cookie session need the X-CSRF-Token header', async () => {
  const s = await srv.login('mz.jiangan');
  const body = { name: 'CSRF 测试', uscc: '52420102MJY123456X', type: 'elderly_care', ownership: 'private', division_code: '420102' };
  const before = sql(srv.db, 'SELECT COUNT(*) FROM institutions');
  const none = await s.post('/api/v1/institutions', body, { noCsrf: true });
  assert.equal(none.status, 403);
  assert.equal(none.body.error.code, 'csrf_failed');
  const wrong = await s.post('/api/v1/institutions', body, { noCsrf: true, headers: { 'x-csrf-token': 'x'.repeat(43) } });
  assert.equal(wrong.status, 403);
  assert.equal(wrong.body.error.code, 'csrf_failed');
  assert.equal(sql(srv.db, 'SELECT COUNT(*) FROM institutions'), before);
  // reads need no token
  const list = await s.get('/api/v1/institutions');
  assert.equal(list.status, 200);
});

test('requests without credentials get 401; a bad bearer token gets 401', async () => {
  const r = await srv.anon().get('/api/v1/institutions');
  assert.equal(r.status, 401);
  assert.equal(r.body.error.code, 'unauthenticated');
  const t = await srv.bearer('not-a-real-token').get('/api/v1/institutions');
  assert.equal(t.status, 401);
  assert.equal(t.body.error.code, 'invalid_token');
});

test('bearer tokens from the CLI work without CSRF and follow the user', async () => {
  const made = cli(['token', 'create', '--db', srv.db, '--login', 'mz.wuhan', '--label', 'provincial system']);
  assert.equal(made.status, 0, made.stderr);
  const token = made.stdout.trim();
  assert.ok(token.length >= 40);
  const c = srv.bearer(token);
  const me = await c.get('/api/v1/session');
  assert.equal(me.status, 200);
  assert.equal(me.body.user.login, 'mz.wuhan');
  assert.equal(me.body.csrf, undefined);
  const list = await c.get('/api/v1/institutions?per_page=100');
  assert.equal(list.status, 200);
  assert.ok(list.body.items.length > 0);
  assert.ok(list.body.items.every((i) => i.division_code.startsWith('4201')));
  // a write with a bearer token needs no CSRF header
  const w = await c.patch(`/api/v1/institutions/${list.body.items[0].id}`, { beds: 321 });
  assert.equal(w.status, 200, JSON.stringify(w.body));
  // disabling the user stops the token at once
  const dis = cli(['user', 'disable', '--db', srv.db, '--login', 'mz.wuhan']);
  assert.equal(dis.status, 0, dis.stderr);
  const after = await c.get('/api/v1/institutions');
  assert.equal(after.status, 401);
});

test('logout ends the session on the server', async () => {
  const s = await srv.login('leader');
  assert.equal((await s.get('/api/v1/session')).status, 200);
  const out = await s.del('/api/v1/session');
  assert.equal(out.status, 204);
  const after = await s.get('/api/v1/session');
  assert.equal(after.status, 200);
  assert.equal(after.body.user, null);
  assert.equal((await s.get('/api/v1/institutions')).status, 401);
});

test('login input is checked', async () => {
  const r = await srv.anon().post('/api/v1/session', { login: 'admin' });
  assert.equal(r.status, 422);
  assert.equal(r.body.error.field, 'password');
  const x = await srv.anon().post('/api/v1/session', { login: 'admin', password: DEMO_PASSWORD, extra: 1 });
  assert.equal(x.status, 422);
  assert.equal(x.body.error.code, 'unknown_field');
});
