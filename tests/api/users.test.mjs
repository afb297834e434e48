// User administration: admins create users only inside their scope and never
// with more power than they have.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, cli, sql } from '../lib/server.mjs';

let srv, hubeiAdmin;
before(async () => {
  srv = await startServer({ demo: true });
  const r = cli(['user', 'add', '--db', srv.db, '--login', 'admin.hubei', '--role', 'admin', '--scope', '42', '--name', '湖北管理员'],
    { input: 'HubeiAdmin2026\n' });
  assert.equal(r.status, 0, r.stderr);
  hubeiAdmin = await srv.login('admin.hubei', 'HubeiAdmin2026');
});
after(async () => { await srv?.stop(); });

test('an admin creates a user inside its scope', async () => {
  const r = await hubeiAdmin.post('/api/v1/users', { login: 'mz.xiaogan', name: '孝感市民政局', role: 'official', scope: '4209', password: 'Xiaogan2026' });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  assert.equal(r.body.scope, '4209');
  assert.equal(r.body.role, 'official');
  const login = await srv.login('mz.xiaogan', 'Xiaogan2026');
  assert.equal(login.user.scope, '4209');
  assert.ok(sql(srv.db, "SELECT COUNT(*) FROM audit WHERE action = 'user.create' AND actor = 'admin.hubei'") >= '1');
});

test('an admin cannot create a user outside its scope or above it', async () => {
  const n0 = sql(srv.db, 'SELECT COUNT(*) FROM users');
  const outside = await hubeiAdmin.post('/api/v1/users', { login: 'mz.beijing', role: 'official', scope: '11', password: 'Beijing2026' });
  assert.equal(outside.status, 403);
  assert.equal(outside.body.error.code, 'scope_exceeded');
  const national = await hubeiAdmin.post('/api/v1/users', { login: 'mz.nation', role: 'official', scope: '', password: 'Nation2026' });
  assert.equal(national.status, 403);
  assert.equal(national.body.error.code, 'scope_exceeded');
  assert.equal(sql(srv.db, 'SELECT COUNT(*) FROM users'), n0);
});

test('an admin without the personal-data permission cannot grant it', async () => {
  const r = await hubeiAdmin.post('/api/v1/users', { login: 'mz.pii', role: 'official', scope: '42', pii: true, password: 'Piipii2026' });
  assert.equal(r.status, 403);
  assert.equal(r.body.error.code, 'pii_not_grantable');
  const admin = await srv.api('admin'); // the demo national admin holds pii
  const ok = await admin.post('/api/v1/users', { login: 'mz.pii', role: 'official', scope: '42', pii: true, password: 'Piipii2026' });
  assert.equal(ok.status, 201);
  assert.equal(ok.body.pii, true);
});

test('only admins manage users', async () => {
  const official = await srv.api('mz.jiangan');
  const r = await official.post('/api/v1/users', { login: 'x.y', role: 'reporter', scope: '420102', password: 'Abcdefg123' });
  assert.equal(r.status, 403);
  assert.equal(r.body.error.code, 'forbidden');
  assert.equal((await official.get('/api/v1/users')).status, 403);
});

test('a scoped admin lists only users in its scope', async () => {
  const r = await hubeiAdmin.get('/api/v1/users?per_page=500');
  assert.equal(r.status, 200);
  assert.ok(r.body.items.length > 0);
  assert.ok(r.body.items.every((u) => u.scope.startsWith('42')), 'no user outside Hubei');
  assert.ok(!r.body.items.some((u) => u.login === 'admin'));
  const other = await hubeiAdmin.get('/api/v1/users?division=11');
  assert.equal(other.status, 404);
});

test('reporters belong to an institution in scope', async () => {
  const admin = await srv.api('admin');
  const insts = await admin.get('/api/v1/institutions?division=110105');
  const beijing = insts.body.items[0];
  const bad = await hubeiAdmin.post('/api/v1/users', { login: 'jg.bj', role: 'reporter', institution_id: beijing.id, password: 'Reporter2026' });
  assert.equal(bad.status, 422);
  assert.equal(bad.body.error.code, 'invalid_institution');
  const missing = await hubeiAdmin.post('/api/v1/users', { login: 'jg.none', role: 'reporter', scope: '42', password: 'Reporter2026' });
  assert.equal(missing.status, 422);
  assert.equal(missing.body.error.field, 'institution_id');
});

test('weak passwords, bad logins and duplicate logins are refused', async () => {
  const weak = await hubeiAdmin.post('/api/v1/users', { login: 'weak.one', role: 'leader', scope: '42', password: 'short' });
  assert.equal(weak.status, 422);
  assert.equal(weak.body.error.code, 'weak_password');
  const badLogin = await hubeiAdmin.post('/api/v1/users', { login: '<script>', role: 'leader', scope: '42', password: 'Abcdefg123' });
  assert.equal(badLogin.status, 422);
  assert.equal(badLogin.body.error.code, 'invalid_login');
  const dup = await hubeiAdmin.post('/api/v1/users', { login: 'mz.hubei', role: 'leader', scope: '42', password: 'Abcdefg123' });
  assert.equal(dup.status, 409);
  assert.equal(dup.body.error.code, 'login_taken');
});

test('disabling a user through the API ends its sessions', async () => {
  const admin = await srv.api('admin');
  const victim = await srv.login('mz.hubei');
  const list = await admin.get('/api/v1/users?per_page=500');
  const id = list.body.items.find((u) => u.login === 'mz.hubei').id;
  const r = await admin.patch(`/api/v1/users/${id}`, { disabled: true });
  assert.equal(r.status, 200);
  assert.equal(r.body.disabled, true);
  assert.equal((await victim.get('/api/v1/institutions')).status, 401);
  const relog = await srv.anon().post('/api/v1/session', { login: 'mz.hubei', password: 'carewatch2026' });
  assert.equal(relog.status, 403);
  assert.equal(relog.body.error.code, 'account_disabled');
});

test('the CLI refuses bad input with a message and a non-zero exit', () => {
  const r = cli(['user', 'add', '--db', srv.db, '--login', 'cli.bad', '--role', 'king', '--scope', '42'], { input: 'Abcdefg123\n' });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /invalid_role/);
  const s = cli(['user', 'add', '--db', srv.db, '--login', 'cli.bad', '--role', 'official', '--scope', '4299'], { input: 'Abcdefg123\n' });
  assert.notEqual(s.status, 0);
  assert.match(s.stderr, /unknown_division/);
  const list = cli(['user', 'list', '--db', srv.db, '--scope', '4201']);
  assert.equal(list.status, 0);
  assert.match(list.stdout, /mz\.wuhan/);
  assert.doesNotMatch(list.stdout, /mz\.hubei/);
});
