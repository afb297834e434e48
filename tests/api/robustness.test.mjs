// Bad input anywhere gets a clear 4xx, changes nothing, and the server keeps
// serving: malformed JSON, wrong types, oversized bodies, invalid UTF-8,
// unknown fields, unknown routes and methods.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startServer, sql, newUscc } from '../lib/server.mjs';

let srv, off;
const counts = () => sql(srv.db, "SELECT (SELECT COUNT(*) FROM institutions) || '/' || (SELECT COUNT(*) FROM audit) || '/' || (SELECT COUNT(*) FROM users)");
before(async () => {
  srv = await startServer({ demo: true });
  off = await srv.api('mz.jiangan');
});
after(async () => { await srv?.stop(); });

const good = () => ({ name: '健壮性测试院', uscc: newUscc('420102'), type: 'elderly_care', ownership: 'public', division_code: '420102' });

function isError(r, status, code) {
  assert.equal(r.status, status, JSON.stringify(r.body));
  assert.equal(typeof r.body.error.code, 'string');
  if (code) assert.equal(r.body.error.code, code);
  assert.ok(/[\u4e00-\u9fff]/.test(r.body.error.message), 'message in Chinese');
}

test('malformed JSON → 400 invalid_json', async () => {
  const c0 = counts();
  for (const body of ['{', '{"name": }', 'null', '[1,2]', '"text"', '{"a":1}{"b":2}', '{"name":"a","name":"b"}']) {
    const r = await off.post('/api/v1/institutions', body, { headers: { 'content-type': 'application/json' } });
    isError(r, 400, 'invalid_json');
  }
  const empty = await off.post('/api/v1/institutions', '', { headers: { 'content-type': 'application/json' } });
  isError(empty, 400, 'invalid_json');
  assert.equal(counts(), c0);
});

test('wrong types and unknown fields → 422 with the field, nothing stored', async () => {
  const c0 = counts();
  const cases = [
    [{ ...good(), beds: '12' }, 'beds', 'invalid_type'],
    [{ ...good(), beds: 1.5 }, 'beds', 'invalid_type'],
    [{ ...good(), name: 42 }, 'name', 'invalid_type'],
    [{ ...good(), name: ['a'] }, 'name', 'invalid_type'],
    [{ ...good(), name: null }, 'name', 'invalid_type'],
    [{ ...good(), surprise: true }, 'surprise', 'unknown_field'],
    [{ ...good(), name: 'x'.repeat(101) }, 'name', 'too_long'],
    [{ ...good(), beds: 1e12 }, 'beds', 'out_of_range'],
  ];
  for (const [body, field, code] of cases) {
    const r = await off.post('/api/v1/institutions', body);
    isError(r, 422, code);
    assert.equal(r.body.error.field, field);
  }
  const { name, ...noName } = good();
  const missing = await off.post('/api/v1/institutions', noName);
  isError(missing, 422, 'required');
  assert.equal(missing.body.error.field, 'name');
  assert.equal(counts(), c0);
});

test('invalid UTF-8 in a body, a path or a query → 400', async () => {
  const c0 = counts();
  const head = Buffer.from('{"name":"');
  const tail = Buffer.from('","uscc":"x","type":"elderly_care","ownership":"public","division_code":"420102"}');
  const bad = Buffer.concat([head, Buffer.from([0xc3, 0x28, 0xff]), tail]);
  const r = await off.post('/api/v1/institutions', new Uint8Array(bad), { headers: { 'content-type': 'application/json' } });
  isError(r, 400, 'invalid_utf8');
  const q = await off.get('/api/v1/institutions?q=%C3%28');
  isError(q, 400, 'invalid_utf8');
  const nul = await off.post('/api/v1/institutions', '{"name":"a\\u0000b","uscc":"1","type":"other","ownership":"public","division_code":"420102"}',
    { headers: { 'content-type': 'application/json' } });
  assert.ok(nul.status === 400 || nul.status === 422, String(nul.status));
  assert.equal(counts(), c0);
});

test('an oversized body → 413 and nothing stored', async () => {
  const c0 = counts();
  const big = JSON.stringify({ ...good(), address: 'x'.repeat(2 * 1024 * 1024) });
  const r = await off.post('/api/v1/institutions', big, { headers: { 'content-type': 'application/json' } });
  isError(r, 413, 'body_too_large');
  assert.equal(counts(), c0);
  // the server still serves
  assert.equal((await off.get('/api/v1/institutions')).status, 200);
});

test('a body sent without Content-Length past the limit closes the connection; others are served', async () => {
  const sock = net.connect(srv.port, '127.0.0.1');
  await new Promise((res) => sock.on('connect', res));
  sock.write(`POST /api/v1/institutions HTTP/1.1\r\nHost: x\r\nCookie: ${off.cookie}\r\nX-CSRF-Token: ${off.csrf}\r\n` +
    'Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n');
  const chunk = 'a'.repeat(64 * 1024);
  let closed = false;
  sock.on('close', () => { closed = true; });
  sock.on('error', () => { closed = true; });
  for (let i = 0; i < 40 && !closed; i++) {
    sock.write(chunk.length.toString(16) + '\r\n' + chunk + '\r\n');
    await new Promise((res) => setTimeout(res, 5));
  }
  await new Promise((res) => setTimeout(res, 200));
  assert.ok(closed, 'connection closed by the server');
  sock.destroy();
  assert.equal((await off.get('/api/v1/institutions')).status, 200);
});

test('unknown routes, methods and bodies where none belong', async () => {
  isError(await off.get('/api/v1/nothing-here'), 404, 'no_such_route');
  isError(await off.call('DELETE', '/api/v1/institutions'), 405, 'method_not_allowed');
  isError(await off.get('/api/v1/institutions/abc'), 404, 'not_found');
  isError(await off.get('/api/v1/institutions/99999999'), 404, 'not_found');
  isError(await off.get('/api/v1/institutions/-1'), 404, 'not_found');
  const body = await off.call('DELETE', '/api/v1/session', 'surprise');
  isError(body, 400, 'unexpected_body');
});

test('a very long URL → 414, and huge headers are refused without harm', async () => {
  const r = await off.get('/api/v1/institutions?q=' + 'a'.repeat(5000));
  assert.ok(r.status === 414 || r.status === 431, String(r.status));
  const h = await srv.fetch('/api/v1/institutions', { headers: { 'x-junk': 'y'.repeat(100000) } }).catch(() => ({ status: 0 }));
  assert.notEqual(h.status, 200);
  assert.equal((await off.get('/api/v1/institutions')).status, 200);
});

test('many bad requests later the server is healthy and the audit chain intact', async () => {
  const h = await srv.fetch('/healthz');
  assert.equal(h.status, 200);
  assert.equal((await h.json()).status, 'ok');
});
