// Two carewatch nodes over one PostgreSQL behind nginx: a session made on one
// node works on the other, both answer the same numbers at once, and killing a
// node in the middle of a submission load loses no acknowledged report and
// duplicates none, while the other node keeps serving. PostgreSQL pass only.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, mkdirSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import net from 'node:net';
import path from 'node:path';
import { startServer, client, BIN, sql } from '../lib/server.mjs';

const pg = process.env.CAREWATCH_TEST_PG;
const NGINX = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((p) => existsSync(p));
const skip = !pg || !NGINX;
let first, nodeB, nginx, dir, lb;

function freePort() {
  return new Promise((res) => { const s = net.createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => res(p)); }); });
}

async function node(db) {
  const proc = spawn(BIN, ['serve', '--db', db, '--listen', '127.0.0.1:0', '--threads', '4'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CAREWATCH_LOG_LEVEL: 'error' } });
  const port = await new Promise((res, rej) => {
    let out = '';
    proc.stdout.on('data', (d) => { out += d; const m = out.match(/:(\d+)\n/); if (m) res(Number(m[1])); });
    proc.on('exit', (c) => rej(new Error('node exited ' + c)));
  });
  return { proc, port, base: `http://127.0.0.1:${port}`, fetch(p, o = {}) { return fetch(this.base + p, { redirect: 'manual', ...o }); } };
}

before(async () => {
  if (skip) return;
  first = await startServer({ demo: true }); // node A, and the database
  nodeB = await node(first.db);
  dir = mkdtempSync(path.join(tmpdir(), 'cw-nginx-'));
  mkdirSync(path.join(dir, 'tmp'));
  const port = await freePort();
  writeFileSync(path.join(dir, 'nginx.conf'), `
daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 512; }
http {
  access_log off;
  client_body_temp_path ${dir}/tmp; proxy_temp_path ${dir}/tmp; fastcgi_temp_path ${dir}/tmp;
  uwsgi_temp_path ${dir}/tmp; scgi_temp_path ${dir}/tmp;
  upstream carewatch {
    server 127.0.0.1:${first.port} max_fails=1 fail_timeout=10s;
    server 127.0.0.1:${nodeB.port} max_fails=1 fail_timeout=10s;
    keepalive 16;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://carewatch;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_next_upstream error timeout;
      proxy_next_upstream_tries 2;
    }
  }
}`);
  nginx = spawn(NGINX, ['-p', dir, '-c', path.join(dir, 'nginx.conf')], { stdio: 'ignore' });
  lb = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 50; i++) {
    try { if ((await fetch(lb + '/healthz')).ok) break; } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
});
after(async () => {
  if (skip) return;
  nginx?.kill('SIGTERM');
  if (nodeB?.proc.exitCode === null) nodeB.proc.kill('SIGTERM');
  await first?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('log in through one node, submit through the other; both nodes agree at once', { skip }, async () => {
  const a = await first.login('jg.dazhi');
  const onB = client(nodeB, { cookie: a.cookie, csrf: a.csrf });
  const today = new Date().toLocaleDateString('sv-SE', { timeZone: 'Asia/Shanghai' });
  const v = { residents_present: 61, staff_on_duty: 20, closed_management: true, new_infected: 1, currently_infected: 3, severe_cases: 0 };
  const put = await onB.put(`/api/v1/reports/elderly-daily-2022/${a.user.institution_id}/${today}`, { client_key: 'mn-' + Date.now(), status: 'submitted', values: v });
  assert.ok(put.status === 200 || put.status === 201, JSON.stringify(put.body));
  const offA = await first.login('mz.wuhan');
  const offB = client(nodeB, { cookie: offA.cookie, csrf: offA.csrf });
  const q = `?template=elderly-daily-2022&period=${today}&division=4201`;
  const [ra, rb, ca, cb] = await Promise.all([offA.get('/api/v1/rollups' + q), offB.get('/api/v1/rollups' + q),
    offA.get('/api/v1/completeness' + q), offB.get('/api/v1/completeness' + q)]);
  assert.deepEqual(ra.body, rb.body);
  assert.deepEqual(ca.body, cb.body);
  assert.ok(ra.body.division.values.residents_present >= 61);
});

test('a node killed mid-load: every acknowledged submission stored exactly once; the other node serves on', { skip }, async () => {
  const admin = await first.login('admin');
  const viaLb = client({ fetch: (p, o = {}) => fetch(lb + p, { redirect: 'manual', ...o }) }, { cookie: admin.cookie, csrf: admin.csrf });
  const ids = sql(first.db, "SELECT id FROM institutions WHERE type IN ('elderly_care','social_welfare') ORDER BY id").split('\n').map(Number);
  const acked = new Map();
  let sent = 0, killed = false;
  const day = (k) => { const d = new Date(Date.UTC(2023, 2, 1) + k * 86400e3); return d.toISOString().slice(0, 10); };
  async function worker(w) {
    for (let k = 0; k < 30; k++) {
      const inst = ids[(w * 7 + k) % ids.length], period = day(w * 40 + k);
      const key = `mn-load-${w}-${k}`;
      const body = { client_key: key, status: 'submitted', values: { residents_present: 10 + k, staff_on_duty: 5, closed_management: false, new_infected: 0, currently_infected: 0, severe_cases: 0 } };
      sent++;
      for (let attempt = 0; attempt < 3; attempt++) { // a client retries with the same key
        let r;
        try { r = await viaLb.put(`/api/v1/reports/elderly-daily-2022/${inst}/${period}`, body); } catch { r = { status: 0 }; }
        if (r.status === 200 || r.status === 201) { acked.set(key, { inst, period, id: r.body.id }); break; }
      }
      if (sent === 60 && !killed) { killed = true; first.proc.kill('SIGKILL'); }
    }
  }
  await Promise.all([0, 1, 2, 3].map(worker));
  assert.ok(killed);
  assert.ok(acked.size >= 100, `acknowledged ${acked.size}`);
  for (const [key, a] of acked) {
    const n = sql(first.db, `SELECT COUNT(*) FROM reports WHERE template_code = 'elderly-daily-2022' AND institution_id = ${a.inst} AND period = '${a.period}'`);
    assert.equal(n, '1', key);
    assert.equal(sql(first.db, `SELECT report_id FROM report_keys WHERE client_key = '${key}'`), String(a.id));
  }
  // the survivor serves, alone
  const h = await fetch(lb + '/healthz');
  assert.equal(h.status, 200);
  const after = await viaLb.get('/api/v1/institutions');
  assert.equal(after.status, 200);
  // roll-ups still equal the raw reports after the crash
  const rows = Number(sql(first.db, "SELECT COUNT(*) FROM reports WHERE period >= '2023-03-01' AND status = 'submitted'"));
  const rolled = Number(sql(first.db, "SELECT COALESCE(SUM(n_reports), 0) FROM rollups WHERE period >= '2023-03-01' AND division_code = ''"));
  assert.equal(rolled, rows);
});
