// server.mjs — starts a real carewatch binary on a free port with a fresh
// database, for scenario and browser tests.
//
//   const srv = await startServer({ demo: true });
//   const res = await srv.api('admin').get('/api/v1/institutions');
//   await srv.stop();
//
// The binary is $CAREWATCH_BIN (default build/carewatch). The engine is SQLite
// unless $CAREWATCH_TEST_PG is set to a postgres:// URI of a cluster where the
// test may create databases (scripts/pg-cluster.sh); then each server gets a
// fresh database of its own.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';

const here = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(here, '..', '..');
export const BIN = process.env.CAREWATCH_BIN || path.join(ROOT, 'build', 'carewatch');
export const DEMO_PASSWORD = 'carewatch2026';

/* Creates a fresh database URI: a SQLite file in dir, or a new PostgreSQL
 * database on the test cluster. */
function freshDb(dir, pgOverride) {
  const pg = pgOverride !== undefined ? pgOverride : process.env.CAREWATCH_TEST_PG;
  if (!pg) return path.join(dir, 'test.db');
  const name = 'cw_' + randomBytes(6).toString('hex');
  const r = spawnSync('psql', [pg, '-v', 'ON_ERROR_STOP=1', '-qc', `CREATE DATABASE ${name}`], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error('cannot create test database: ' + r.stderr);
  const u = new URL(pg);
  u.pathname = '/' + name;
  return u.toString();
}

/* Runs the CLI synchronously; returns {status, stdout, stderr}. */
export function cli(args, { input = '', env = {} } = {}) {
  const r = spawnSync(BIN, args, { input, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 120000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

export async function startServer({ demo = true, env = {}, threads = 4, extraArgs = [], clock, serveEnv = {} } = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), 'cw-test-'));
  const db = freshDb(dir, env.CAREWATCH_TEST_PG);
  // the personal-data key: beside a SQLite file by default; a PostgreSQL
  // database has no "beside", so its servers get a key file in their dir
  // (init creates it)
  if (/^postgres(ql)?:\/\//.test(db) && !env.CAREWATCH_KEY_FILE) env = { ...env, CAREWATCH_KEY_FILE: path.join(dir, 'pii.key') };
  const clockFile = path.join(dir, 'clock');
  const init = cli(['init', '--db', db, ...(demo ? ['--demo'] : [])], { env });
  if (init.status !== 0) throw new Error(`init failed (${init.status}): ${init.stderr}`);
  const fullEnv = { ...process.env, CAREWATCH_LOG_LEVEL: process.env.CAREWATCH_LOG_LEVEL || 'warn', ...env, ...serveEnv };
  if (clock !== undefined) {
    writeFileSync(clockFile, String(Math.floor(clock)));
    fullEnv.CAREWATCH_CLOCK_FILE = clockFile;
  }
  const proc = spawn(BIN, ['serve', '--db', db, '--listen', '127.0.0.1:0', '--threads', String(threads), ...extraArgs],
    { env: fullEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (d) => { stderr += d; if (stderr.length > 200000) stderr = stderr.slice(-100000); });
  const port = await new Promise((resolve, reject) => {
    let out = '';
    const t = setTimeout(() => reject(new Error('server did not start: ' + stderr)), 20000);
    proc.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/listening on http:\/\/[\d.]+:(\d+)/);
      if (m) { clearTimeout(t); resolve(Number(m[1])); }
    });
    proc.on('exit', (code) => { clearTimeout(t); reject(new Error(`server exited ${code}: ${stderr}`)); });
  });
  const base = `http://127.0.0.1:${port}`;
  const sessions = new Map();
  const srv = {
    dir, db, port, base, proc, clockFile, env,
    get stderr() { return stderr; },
    /* Sets the server's clock (Unix seconds) through the operator's clock file
     * (only when started with the clock option). */
    setClock(unixSeconds) { writeFileSync(clockFile, String(Math.floor(unixSeconds))); },
    /* Raw fetch against the server. */
    fetch(p, opts = {}) { return fetch(base + p, { redirect: 'manual', ...opts }); },
    /* Logs in (cached per login) and returns a client with get/post/put/patch/del. */
    async login(login, password = DEMO_PASSWORD) {
      const r = await srv.fetch('/api/v1/session', {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ login, password }),
      });
      const body = await r.json();
      if (r.status !== 200) throw new Error(`login ${login}: ${r.status} ${JSON.stringify(body)}`);
      const cookie = r.headers.get('set-cookie').split(';')[0];
      return client(srv, { cookie, csrf: body.csrf, user: body.user });
    },
    async api(login) {
      if (!sessions.has(login)) sessions.set(login, await srv.login(login));
      return sessions.get(login);
    },
    /* Forgets the cached sessions (after the clock moved past their end). */
    forgetSessions() { sessions.clear(); },
    bearer(token) { return client(srv, { token }); },
    anon() { return client(srv, {}); },
    async stop({ keep = false } = {}) {
      if (proc.exitCode === null) {
        const done = new Promise((res) => proc.on('exit', res));
        proc.kill('SIGTERM');
        await done;
      }
      if (!keep) rmSync(dir, { recursive: true, force: true });
    },
  };
  return srv;
}

/* A client bound to a session cookie + CSRF token, or a bearer token. */
export function client(srv, { cookie, csrf, token, user } = {}) {
  async function call(method, p, body, { headers = {}, raw = false, noCsrf = false } = {}) {
    const h = { ...headers };
    if (cookie) h.cookie = cookie;
    if (csrf && !noCsrf && method !== 'GET') h['x-csrf-token'] = csrf;
    if (token) h.authorization = `Bearer ${token}`;
    let payload = body;
    if (body !== undefined && typeof body !== 'string' && !(body instanceof Uint8Array)) {
      payload = JSON.stringify(body);
      h['content-type'] = 'application/json';
    }
    const r = await srv.fetch(p, { method, headers: h, body: payload });
    if (raw) return r;
    const text = await r.text();
    let json = null;
    try { json = text ? JSON.parse(text) : null; } catch { json = null; }
    return { status: r.status, body: json, text, headers: r.headers };
  }
  return {
    user, csrf, cookie,
    get: (p, o) => call('GET', p, undefined, o),
    post: (p, b, o) => call('POST', p, b, o),
    put: (p, b, o) => call('PUT', p, b, o),
    patch: (p, b, o) => call('PATCH', p, b, o),
    del: (p, o) => call('DELETE', p, undefined, o),
    call,
  };
}

/* ---- GB 32100 helpers for making valid test credit codes ---- */
const USCC_ALPHA = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const USCC_W = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];
export function usccWithCheck(first17) {
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += USCC_ALPHA.indexOf(first17[i]) * USCC_W[i];
  const c = (31 - (sum % 31)) % 31;
  return first17 + USCC_ALPHA[c];
}
let usccSeq = 0;
/* A fresh valid credit code for a division (6 digits). */
export function newUscc(division = '420102') {
  usccSeq++;
  const org = String(Date.now() % 1e6).padStart(6, '0') + String(usccSeq % 1000).padStart(3, '0');
  return usccWithCheck('52' + division.slice(0, 6).padEnd(6, '0') + org);
}

/* Runs SQL against the test database (sqlite3 CLI or psql); returns stdout. */
export function sql(db, statement) {
  const isPg = /^postgres(ql)?:\/\//.test(db);
  const r = isPg
    ? spawnSync('psql', [db, '-v', 'ON_ERROR_STOP=1', '-qAtc', statement], { encoding: 'utf8' })
    : spawnSync('sqlite3', [db, statement], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`sql failed: ${r.stderr}`);
  return r.stdout.trim();
}

/* ---- GB 11643 helpers for making valid test citizen IDs ---- */
const CID_W = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
export function cidWithCheck(first17) {
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(first17[i]) * CID_W[i];
  return first17 + '10X98765432'[sum % 11];
}
let cidSeq = 0;
/* A fresh valid citizen ID: region (6 digits), birth YYYYMMDD, sex 'M'/'F'. */
export function newCid(birth = '19400312', sex = 'F', region = '420102') {
  cidSeq++;
  const seq = String((cidSeq * 7 + (Date.now() % 50)) % 100).padStart(2, '0');
  let last = (cidSeq % 5) * 2 + (sex === 'M' ? 1 : 0);
  return cidWithCheck(region + birth + seq + String(last));
}
