// wal.test.mjs — SQLite's WAL is checkpointed off the request path
// (src/checkpoint.c) and still starts over while submissions keep coming: it
// stays bounded instead of growing with every report. SQLite only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { startServer, sql } from '../lib/server.mjs';

test('the WAL stays bounded under a steady stream of submissions', { skip: !!process.env.CAREWATCH_TEST_PG, timeout: 300e3 }, async () => {
  const srv = await startServer({ demo: true });
  try {
    const api = await srv.api('admin');
    const inst = Number(sql(srv.db, "SELECT id FROM institutions WHERE type = 'elderly_care' AND status <> 'closed' ORDER BY id LIMIT 1"));
    const day = (k) => new Date(Date.UTC(2015, 0, 1) + k * 86400e3).toISOString().slice(0, 10);
    let max = 0;
    for (let k = 0; k < 2400; k += 4) { // four writers at a time, each a new report (several pages each)
      const rs = await Promise.all([0, 1, 2, 3].map((j) => api.put(`/api/v1/reports/elderly-daily-2022/${inst}/${day(k + j)}`,
        { status: 'submitted', values: { residents_present: 50 + j, staff_on_duty: 5, closed_management: false, new_infected: 0, currently_infected: 0, severe_cases: 0 }, confirm_warnings: true })));
      for (const r of rs) assert.ok(r.status === 200 || r.status === 201, r.text);
      max = Math.max(max, statSync(srv.db + '-wal').size);
    }
    const written = Number(sql(srv.db, `SELECT COUNT(*) FROM reports WHERE period < '2022-01-01'`));
    assert.equal(written, 2400);
    // 2,400 reports write well over 40 MB of WAL frames; started over, the WAL stays near 16 MB
    assert.ok(max < 32 * 1048576, `the WAL grew to ${(max / 1048576).toFixed(1)} MB`);
  } finally {
    await srv.stop();
  }
});
