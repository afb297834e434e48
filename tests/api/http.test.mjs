// HTTP foundation: health, metrics, security headers, the OpenAPI document
// against the route table, static files, graceful shutdown.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { startServer, ROOT } from '../lib/server.mjs';

let srv;
before(async () => { srv = await startServer({ demo: true }); });
after(async () => { await srv?.stop(); });

test('healthz reports the database', async () => {
  const r = await srv.fetch('/healthz');
  assert.equal(r.status, 200);
  const b = await r.json();
  assert.equal(b.status, 'ok');
  assert.ok(['sqlite', 'postgresql'].includes(b.database));
});

test('metrics count requests by route and status, with a latency histogram', async () => {
  const c = await srv.api('admin');
  await c.get('/api/v1/institutions');
  await c.get('/api/v1/institutions/999999');
  const r = await srv.fetch('/metrics');
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /text\/plain/);
  const t = await r.text();
  assert.match(t, /carewatch_http_requests_total\{method="GET",route="\/api\/v1\/institutions",status="200"\} [1-9]/);
  assert.match(t, /carewatch_http_requests_total\{method="GET",route="\/api\/v1\/institutions\/\{id\}",status="404"\} [1-9]/);
  assert.match(t, /carewatch_http_request_duration_seconds_bucket\{method="GET",route="\/api\/v1\/institutions",le="\+Inf"\} [1-9]/);
});

test('every response carries the security headers', async () => {
  for (const p of ['/', '/api/v1/institutions', '/healthz']) {
    const r = await srv.fetch(p);
    const csp = r.headers.get('content-security-policy');
    assert.match(csp, /default-src 'self'/);
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(r.headers.get('x-frame-options'), 'DENY');
    assert.equal(r.headers.get('referrer-policy'), 'no-referrer');
  }
});

test('the web UI is served from the binary with ETags', async () => {
  const r = await srv.fetch('/');
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /text\/html/);
  assert.match(await r.text(), /<html/i);
  const etag = r.headers.get('etag');
  assert.ok(etag);
  const again = await srv.fetch('/', { headers: { 'if-none-match': etag } });
  assert.equal(again.status, 304);
  assert.equal((await srv.fetch('/vendor/echarts.min.js')).status, 200);
  assert.equal((await srv.fetch('/../etc/passwd')).status, 404);
  assert.equal((await srv.fetch('/nope.html')).status, 404);
});

test('the OpenAPI document describes exactly the route table', async () => {
  const r = await srv.fetch('/api/v1/openapi.json');
  assert.equal(r.status, 200);
  const doc = await r.json();
  assert.equal(doc.openapi.slice(0, 2), '3.');
  const served = new Set();
  for (const [p, ops] of Object.entries(doc.paths))
    for (const m of Object.keys(ops)) served.add(`${m.toUpperCase()} ${p}`);
  const src = readFileSync(path.join(ROOT, 'src', 'routes.c'), 'utf8');
  const table = new Set([...src.matchAll(/\{"(GET|POST|PUT|PATCH|DELETE)", "([^"]+)"/g)].map((m) => `${m[1]} ${m[2]}`));
  assert.ok(table.size >= 15);
  const missing = [...table].filter((x) => !served.has(x));
  const extra = [...served].filter((x) => !table.has(x));
  assert.deepEqual(missing, [], 'routes without OpenAPI entry');
  assert.deepEqual(extra, [], 'OpenAPI entries without a route');
  for (const [p, ops] of Object.entries(doc.paths))
    for (const op of Object.values(ops)) assert.ok(op.summary, `${p} has a summary`);
});

test('SIGTERM lets an in-flight request finish, then the server exits 0', async () => {
  const s2 = await startServer({ demo: false });
  const c = s2.anon();
  const pending = c.post('/api/v1/session', { login: 'nobody', password: 'slow-argon2-check' });
  await new Promise((res) => setTimeout(res, 20));
  const exited = new Promise((res) => s2.proc.on('exit', (code) => res(code)));
  s2.proc.kill('SIGTERM');
  const r = await pending;
  assert.equal(r.status, 401);
  assert.equal(await exited, 0);
  await s2.stop();
});
