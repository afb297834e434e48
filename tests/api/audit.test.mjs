// The audit log: every state change writes a row; rows cannot be changed
// through the database; the hash chain verifies and a tampered row is found.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, cli, sql, newUscc } from '../lib/server.mjs';

let srv;
before(async () => { srv = await startServer({ demo: true }); });
after(async () => { await srv?.stop(); });

test('state changes are audited with who, what, before and after', async () => {
  const c = await srv.api('mz.jiangan');
  const r = await c.post('/api/v1/institutions', { name: '审计测试院', uscc: newUscc('420102'), type: 'other', ownership: 'public', division_code: '420102' });
  assert.equal(r.status, 201);
  await c.patch(`/api/v1/institutions/${r.body.id}`, { name: '审计测试院（改）' });
  const admin = await srv.api('admin');
  const a = await admin.get(`/api/v1/audit?object_type=institution&object_id=${r.body.id}`);
  assert.equal(a.status, 200);
  assert.deepEqual(a.body.items.map((x) => x.action).sort(), ['institution.create', 'institution.update']);
  const upd = a.body.items.find((x) => x.action === 'institution.update');
  assert.equal(upd.actor, 'mz.jiangan');
  assert.equal(upd.before.name, '审计测试院');
  assert.equal(upd.after.name, '审计测试院（改）');
  assert.equal(upd.division_code, '420102');
  // officials cannot read the audit log
  assert.equal((await c.get('/api/v1/audit')).status, 403);
});

test('audit rows cannot be updated or deleted through the database', () => {
  assert.throws(() => sql(srv.db, "UPDATE audit SET actor = 'mallory' WHERE seq = 1"));
  assert.throws(() => sql(srv.db, 'DELETE FROM audit WHERE seq = 1'));
});

test('the chain verifies, and a tampered row is reported as the first broken link', () => {
  const ok = cli(['audit', 'verify', '--db', srv.db]);
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /intact: \d+ rows/);
  const isPg = /^postgres/.test(srv.db);
  // an attacker with raw database access disables the guard and edits row 3
  if (isPg) sql(srv.db, "ALTER TABLE audit DISABLE TRIGGER audit_no_update; UPDATE audit SET actor = 'mallory' WHERE seq = 3");
  else sql(srv.db, "DROP TRIGGER audit_no_update; UPDATE audit SET actor = 'mallory' WHERE seq = 3");
  const bad = cli(['audit', 'verify', '--db', srv.db]);
  assert.equal(bad.status, 1);
  assert.match(bad.stdout, /BROKEN at row 3/);
});

test('a removed row is found too', async () => {
  const s2 = await startServer({ demo: true });
  try {
    if (/^postgres/.test(s2.db)) sql(s2.db, 'ALTER TABLE audit DISABLE TRIGGER audit_no_update; DELETE FROM audit WHERE seq = 2');
    else sql(s2.db, 'DROP TRIGGER audit_no_delete; DELETE FROM audit WHERE seq = 2');
    const bad = cli(['audit', 'verify', '--db', s2.db]);
    assert.equal(bad.status, 1);
    assert.match(bad.stdout, /BROKEN at row 2/);
  } finally { await s2.stop(); }
});
