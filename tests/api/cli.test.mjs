// The command line: help beside every command, settings from flags, the
// environment and a file with clear errors, online backup while serving.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { startServer, cli, sql, newUscc } from '../lib/server.mjs';

let srv;
before(async () => { srv = await startServer({ demo: true }); });
after(async () => { await srv?.stop(); });

test('help lists every command; each command has its own help', () => {
  const h = cli(['help']);
  assert.equal(h.status, 0);
  for (const c of ['init', 'serve', 'user add', 'user list', 'user passwd', 'user disable', 'partner add', 'partner list', 'token create', 'import divisions',
    'import institutions', 'export institutions', 'backup', 'audit verify', 'version'])
    assert.ok(h.stdout.includes('carewatch ' + c) || h.stdout.includes('  ' + c), c);
  const one = cli(['help', 'user', 'add']);
  assert.match(one.stdout, /password is read from standard input/);
  const cfg = cli(['help', 'config']);
  assert.match(cfg.stdout, /CAREWATCH_DB/);
  assert.match(cfg.stdout, /Asia\/Shanghai/);
  assert.match(cli(['version']).stdout, /^carewatch \d+\.\d+\.\d+/);
});

test('unknown commands, options and bad settings exit non-zero with a message', () => {
  const u = cli(['frobnicate']);
  assert.equal(u.status, 2);
  assert.match(u.stderr, /unknown command/);
  const o = cli(['init', '--db', '/tmp/x.db', '--bogus']);
  assert.equal(o.status, 2);
  assert.match(o.stderr, /unknown option --bogus/);
  const t = cli(['serve', '--db', srv.db, '--threads', '0']);
  assert.equal(t.status, 2);
  assert.match(t.stderr, /threads: 0 is outside 1..256/);
  const e = cli(['serve', '--db', srv.db], { env: { CAREWATCH_BODY_LIMIT: 'lots' } });
  assert.equal(e.status, 2);
  assert.match(e.stderr, /body_limit: expected an integer/);
  const f = path.join(srv.dir, 'bad.conf');
  writeFileSync(f, 'listen = 127.0.0.1:1\nnonsense here\n');
  const c = cli(['serve', '--config', f]);
  assert.equal(c.status, 2);
  assert.match(c.stderr, /bad\.conf:2:/);
});

test('backup while serving writes a consistent copy', async () => {
  if (/^postgres/.test(srv.db)) {
    const r = cli(['backup', '--db', srv.db, path.join(srv.dir, 'x.db')]);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /pg_dump/);
    return;
  }
  const c = await srv.api('mz.jiangan');
  const writes = [];
  for (let i = 0; i < 20; i++)
    writes.push(c.post('/api/v1/institutions', { name: '备份期间写入' + i, uscc: newUscc('420102'), type: 'other', ownership: 'public', division_code: '420102' }));
  const out = path.join(srv.dir, 'backup.db');
  const r = cli(['backup', '--db', srv.db, out]);
  await Promise.all(writes);
  assert.equal(r.status, 0, r.stderr);
  assert.ok(existsSync(out));
  assert.equal(sql(out, 'PRAGMA integrity_check'), 'ok');
  const v = cli(['audit', 'verify', '--db', out]);
  assert.equal(v.status, 0, v.stdout);
  assert.equal(sql(out, 'SELECT COUNT(*) FROM divisions'), '44703');
  const again = cli(['backup', '--db', srv.db, out]);
  assert.notEqual(again.status, 0, 'never overwrites');
});

test('user add reads the password from standard input and refuses a weak one', () => {
  const weak = cli(['user', 'add', '--db', srv.db, '--login', 'cli.weak', '--role', 'leader', '--scope', '42'], { input: 'abc\n' });
  assert.notEqual(weak.status, 0);
  assert.match(weak.stderr, /weak_password/);
  const ok = cli(['user', 'add', '--db', srv.db, '--login', 'cli.ok', '--role', 'leader', '--scope', '42', '--name', '命令行用户'], { input: 'Strong2026pass\n' });
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /created with id \d+/);
});

test('partner add registers an organisation a partner user can then act for; bad input changes nothing', async () => {
  const db = ['--db', srv.db];
  const partners = () => Number(sql(srv.db, 'SELECT COUNT(*) FROM partners'));
  const before = partners();
  for (const [args, re] of [
    [['--name', '命令行志愿队', '--kind', 'bank', '--division', '4201'], /invalid_value/],
    [['--name', '命令行志愿队', '--kind', 'volunteer', '--division', '4299'], /unknown_division/],
    [['--name', '命令行志愿队', '--kind', 'volunteer'], /usage/],
  ]) {
    const r = cli(['partner', 'add', ...db, ...args]);
    assert.notEqual(r.status, 0, r.stdout);
    assert.match(r.stderr, re);
  }
  assert.equal(partners(), before);
  const ok = cli(['partner', 'add', ...db, '--name', '命令行志愿队', '--kind', 'volunteer', '--division', '4201', '--contact', '王五', '--phone', '13800001234']);
  assert.equal(ok.status, 0, ok.stderr);
  const id = Number(ok.stdout.match(/with id (\d+)/)[1]);
  assert.equal(sql(srv.db, `SELECT name || '|' || kind || '|' || division_code || '|' || contact_phone FROM partners WHERE id = ${id}`), '命令行志愿队|volunteer|4201|13800001234');
  assert.equal(sql(srv.db, `SELECT actor FROM audit WHERE action = 'partner.create' AND object_id = '${id}'`), 'cli');
  const again = cli(['partner', 'add', ...db, '--name', '命令行志愿队', '--kind', 'charity', '--division', '42']);
  assert.match(again.stderr, /partner_exists/);
  const list = cli(['partner', 'list', ...db, '--scope', '4201']);
  assert.equal(list.status, 0);
  assert.match(list.stdout, new RegExp(`^${id}\\s+volunteer\\s+4201\\s+命令行志愿队$`, 'm'));
  // a login for it, which sees its own organisation
  const u = cli(['user', 'add', ...db, '--login', 'cli.ngo', '--role', 'partner', '--scope', '4201', '--partner', String(id)], { input: 'Strong2026pass\n' });
  assert.equal(u.status, 0, u.stderr);
  const ngo = await srv.login('cli.ngo', 'Strong2026pass');
  const mine = await ngo.get('/api/v1/partners');
  assert.deepEqual(mine.body.items.map((p) => p.id), [id]);
});
