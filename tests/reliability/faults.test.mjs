// faults.test.mjs — the server under faults it does not control: a full disk
// and a read-only database file answer writes with 503 and a clear code, change
// nothing, keep serving reads, and writes resume by themselves once the fault
// clears (no restart); slow or stalled clients (slowloris, trickled bodies,
// silent connections) do not starve others.
//
// The disk and file faults need root (a small tmpfs; a server run as nobody so
// file permissions bind it); without root those two tests are skipped.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, mkdirSync, chmodSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import net from 'node:net';
import path from 'node:path';
import { BIN, cli, client, sql, startServer, DEMO_PASSWORD } from '../lib/server.mjs';

const root = process.getuid && process.getuid() === 0;
const pg = process.env.CAREWATCH_TEST_PG;
const fileSkip = pg ? 'SQLite file faults (PostgreSQL pass)' : !root ? 'needs root (tmpfs, setpriv)' : false;
const TEMPLATE = 'elderly-daily-2022';
const cleanups = [];
after(() => { for (const f of cleanups.reverse()) try { f(); } catch { /* best effort */ } });

function serve(db, { asNobody = false, env = {} } = {}) {
  const cmd = asNobody ? 'setpriv' : BIN;
  const args = ['serve', '--db', db, '--listen', '127.0.0.1:0', '--threads', '2'];
  const argv = asNobody ? ['--reuid=65534', '--regid=65534', '--clear-groups', BIN, ...args] : args;
  const proc = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CAREWATCH_LOG_LEVEL: 'error', ...env } });
  let err = '';
  proc.stderr.on('data', (d) => { err += d; });
  cleanups.push(() => proc.kill('SIGKILL'));
  return new Promise((resolve, reject) => {
    let out = '';
    const t = setTimeout(() => reject(new Error('server did not start: ' + err)), 20000);
    proc.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/listening on http:\/\/[\d.]+:(\d+)/);
      if (m) { clearTimeout(t); resolve({ proc, base: `http://127.0.0.1:${m[1]}`, get stderr() { return err; } }); }
    });
    proc.on('exit', (c) => { clearTimeout(t); reject(new Error(`server exited ${c}: ${err}`)); });
  });
}

async function adminOf(base) {
  const f = (p, o = {}) => fetch(base + p, { redirect: 'manual', ...o });
  const r = await f('/api/v1/session', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ login: 'admin', password: DEMO_PASSWORD }) });
  assert.equal(r.status, 200);
  const csrf = (await r.json()).csrf;
  return client({ fetch: f }, { cookie: r.headers.get('set-cookie').split(';')[0], csrf });
}

function firstInstitution(db) {
  return Number(sql(db, "SELECT id FROM institutions WHERE type = 'elderly_care' AND status <> 'closed' ORDER BY id LIMIT 1"));
}

const report = (k) => ({ client_key: `fault-test-${k}`, status: 'submitted', values: { residents_present: 40 + k, staff_on_duty: 9, closed_management: false, new_infected: 0, currently_infected: 0, severe_cases: 0 }, confirm_warnings: true });

test('a full disk: writes answer 503 storage_full and store nothing; reads go on; writes resume when space returns', { skip: fileSkip, timeout: 120e3 }, async () => {
  const mnt = mkdtempSync(path.join(tmpdir(), 'cw-full-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=24m', 'tmpfs', mnt]);
  cleanups.push(() => { spawnSync('umount', ['-l', mnt]); rmSync(mnt, { recursive: true, force: true }); });
  const db = path.join(mnt, 'cw.db');
  assert.equal(cli(['init', '--db', db, '--demo']).status, 0);
  const srv = await serve(db);
  const api = await adminOf(srv.base);
  const inst = firstInstitution(db);
  const before = sql(db, 'SELECT COUNT(*) FROM reports') + '/' + sql(db, 'SELECT COUNT(*) FROM audit');
  // fill the filesystem
  spawnSync('dd', ['if=/dev/zero', `of=${path.join(mnt, 'filler')}`, 'bs=64k'], { stdio: 'ignore' });
  let refused = 0;
  for (let k = 0; k < 20; k++) { // enough writes to need new pages
    const r = await api.put(`/api/v1/reports/${TEMPLATE}/${inst}/2020-03-${String(k + 1).padStart(2, '0')}`, report(k));
    if (r.status === 503) {
      refused++;
      assert.equal(r.body.error.code, 'storage_full', r.text);
      assert.match(r.body.error.message, /[\u4e00-\u9fff]/);
      assert.ok(r.headers.get('retry-after'));
    } else {
      assert.ok(r.status === 200 || r.status === 201, r.text);
    }
  }
  assert.ok(refused > 0, 'no write was refused on a full disk');
  const read = await api.get('/api/v1/institutions');
  assert.equal(read.status, 200, 'reads go on while the disk is full');
  const h = await fetch(srv.base + '/healthz');
  assert.ok(h.status === 200 || h.status === 503);
  // space returns: the same requests go through, each stored once
  rmSync(path.join(mnt, 'filler'));
  for (let k = 0; k < 20; k++) {
    const r = await api.put(`/api/v1/reports/${TEMPLATE}/${inst}/2020-03-${String(k + 1).padStart(2, '0')}`, report(k));
    assert.ok(r.status === 200 || r.status === 201, r.text);
  }
  srv.proc.kill('SIGKILL');
  assert.equal(sql(db, 'PRAGMA integrity_check'), 'ok');
  assert.equal(cli(['audit', 'verify', '--db', db]).status, 0);
  assert.equal(sql(db, `SELECT COUNT(*) FROM reports WHERE period LIKE '2020-03-%'`), '20');
  const rolled = sql(db, `SELECT COALESCE(SUM(n_reports), 0) FROM rollups WHERE template_code = '${TEMPLATE}' AND period LIKE '2020-03-%' AND division_code = ''`);
  assert.equal(rolled, '20', 'roll-ups count each report once');
  assert.notEqual(before, '', 'sanity');
});

test('a read-only database file: writes answer 503 db_read_only, reads go on; writes resume once it is writable again', { skip: fileSkip, timeout: 120e3 }, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'cw-ro-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const db = path.join(dir, 'cw.db');
  assert.equal(cli(['init', '--db', db, '--demo']).status, 0);
  execFileSync('chown', ['-R', '65534:65534', dir]);
  const inst = firstInstitution(db);
  const reportsBefore = sql(db, 'SELECT COUNT(*) FROM reports');
  chmodSync(db, 0o444); // the file only: SQLite still needs its directory for -wal and -shm
  const srv = await serve(db, { asNobody: true });
  const api = await adminOf(srv.base).catch(() => null);
  // logging in writes a session: a read-only database refuses it clearly
  const f = (p, o = {}) => fetch(srv.base + p, { redirect: 'manual', ...o });
  if (!api) {
    const r = await f('/api/v1/session', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ login: 'admin', password: DEMO_PASSWORD }) });
    assert.equal(r.status, 503);
    assert.equal((await r.json()).error.code, 'db_read_only');
  } else {
    const r = await api.put(`/api/v1/reports/${TEMPLATE}/${inst}/2020-04-01`, report(1));
    assert.equal(r.status, 503, r.text);
    assert.equal(r.body.error.code, 'db_read_only');
  }
  const h = await f('/healthz');
  assert.equal(h.status, 200, 'the server still answers');
  assert.equal(sql(db, 'SELECT COUNT(*) FROM reports'), reportsBefore, 'nothing stored');
  // the operator fixes the permissions; no restart
  for (const f2 of readdirSync(dir)) chmodSync(path.join(dir, f2), 0o644);
  let ok = false;
  // a connection opened on the read-only file never outlives its request (SQLite shares
  // the file's WAL index within a process, read-only while such a connection lives)
  for (let i = 0; i < 20 && !ok; i++) {
    if (i) await new Promise((res) => setTimeout(res, 100));
    try {
      const a = await adminOf(srv.base);
      const r = await a.put(`/api/v1/reports/${TEMPLATE}/${inst}/2020-04-01`, report(1));
      ok = r.status === 200 || r.status === 201;
    } catch { /* a thread still held a connection opened read-only */ }
  }
  assert.ok(ok, 'writes resumed without a restart: ' + srv.stderr.slice(-500));
  srv.proc.kill('SIGKILL');
  assert.equal(sql(db, 'PRAGMA integrity_check'), 'ok');
  assert.equal(sql(db, `SELECT COUNT(*) FROM reports WHERE period = '2020-04-01'`), '1');
});

/* Opens a raw socket and writes the given chunks, one every `every` ms, forever
 * (until closed). Returns the socket. */
function trickle(port, first, every, next) {
  const s = net.connect(port, '127.0.0.1');
  s.on('error', () => {});
  s.write(first);
  const t = setInterval(() => { if (!s.destroyed) s.write(next()); }, every);
  s.on('close', () => clearInterval(t));
  return s;
}

test('slowloris, trickled bodies and silent connections do not starve other clients; stalled ones are closed', { timeout: 120e3 }, async () => {
  const srv = await startServer({ demo: true, threads: 2, env: { CAREWATCH_CONN_TIMEOUT: '3' } });
  cleanups.push(() => srv.stop());
  const api = await srv.api('admin');
  const slow = [];
  for (let i = 0; i < 300; i++) // headers one byte a second, never finished
    slow.push(trickle(srv.port, 'GET /api/v1/institutions HTTP/1.1\r\nHost: x\r\n', 1000, () => 'X'));
  for (let i = 0; i < 50; i++) // a body promised 10 MB, sent a few bytes at a time
    slow.push(trickle(srv.port, 'POST /api/v1/institutions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 10000000\r\n\r\n{', 500, () => ' '));
  const silent = [];
  for (let i = 0; i < 100; i++) { const s = net.connect(srv.port, '127.0.0.1'); s.on('error', () => {}); silent.push(s); }
  await new Promise((r) => setTimeout(r, 1500));
  // meanwhile ordinary clients are answered, every one of them
  const results = await Promise.all(Array.from({ length: 60 }, (_, i) =>
    (i % 3 === 0 ? api.get('/api/v1/institutions') : i % 3 === 1 ? srv.fetch('/healthz').then((r) => ({ status: r.status })) : api.get('/api/v1/templates'))));
  for (const r of results) assert.equal(r.status, 200);
  // silent connections are closed by the server after the connection timeout
  const closed = await Promise.all(silent.slice(0, 10).map((s) => new Promise((res) => {
    if (s.destroyed) return res(true);
    const t = setTimeout(() => res(false), 10000);
    s.on('close', () => { clearTimeout(t); res(true); });
  })));
  assert.ok(closed.every(Boolean), 'idle connections closed by the server');
  for (const s of [...slow, ...silent]) s.destroy();
  const h = await srv.fetch('/healthz');
  assert.equal(h.status, 200);
});
