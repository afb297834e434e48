// Survey campaigns: the December 2022 medical and drug survey runs between its
// open and close dates for a target set of institutions; progress and results
// roll up like daily reports.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, sql } from '../lib/server.mjs';

const S = 'medical-survey-2022';
const P = '2022-12-23';
const at = (date, hh) => Date.UTC(+date.slice(0, 4), +date.slice(5, 7) - 1, +date.slice(8, 10), hh - 8) / 1000;
let srv, wuhan, jiangan, rep;
before(async () => {
  srv = await startServer({ demo: true, clock: at('2022-12-28', 10), env: { CAREWATCH_SESSION_HOURS: '720' } });
  wuhan = await srv.api('mz.wuhan');
  jiangan = await srv.api('mz.jiangan');
  rep = await srv.api('jg.dazhi');
});
after(async () => { await srv?.stop(); });

const answers = { residents_present: 60, residents_over_80: 20, internal_clinic: false, green_channel: true, emergency_plan: true,
  stock_antipyretic: 100, stock_antiviral: 0, vaccinated_full: 40, vaccinated_booster: 20, urgent_needs: '制氧机 2 台' };

test('targets narrow the campaign; progress counts only the targets in scope', async () => {
  const before = await wuhan.get(`/api/v1/completeness?template=${S}&period=${P}&division=4201`);
  assert.ok(before.body.division.expected >= 8, 'without targets: every institution of its types');
  const out = await jiangan.post(`/api/v1/surveys/${S}/targets`, { division: '420111' });
  assert.equal(out.status, 422);
  assert.equal(out.body.error.code, 'out_of_scope');
  const r = await jiangan.post(`/api/v1/surveys/${S}/targets`, { division: '420102' });
  assert.equal(r.status, 200);
  assert.equal(r.body.added, 3); // 福利院, 大智敬老院, 一元颐养中心
  const again = await jiangan.post(`/api/v1/surveys/${S}/targets`, { division: '420102' });
  assert.equal(again.body.added, 0);
  const c = await wuhan.get(`/api/v1/completeness?template=${S}&period=${P}&division=4201`);
  assert.equal(c.body.division.expected, 3);
  assert.deepEqual(c.body.children.map((x) => x.code), ['420102']);
  const list = await wuhan.get('/api/v1/surveys');
  const s = list.body.items.find((x) => x.code === S);
  assert.equal(s.targeted, 3);
  assert.equal(s.opens, P);
  assert.equal(sql(srv.db, "SELECT COUNT(*) FROM audit WHERE action = 'survey.targets'"), '2');
});

test('an institution answers within the campaign; results roll up; late answers are refused', async () => {
  const put = await rep.put(`/api/v1/reports/${S}/${rep.user.institution_id}/${P}`, { status: 'submitted', values: answers });
  assert.equal(put.status, 201, JSON.stringify(put.body));
  assert.equal(put.body.on_time, true, 'before the campaign closes');
  const roll = await wuhan.get(`/api/v1/rollups?template=${S}&period=${P}&division=4201`);
  assert.equal(roll.body.division.values.residents_over_80, 20);
  assert.equal(roll.body.division.values.green_channel, 1);
  const c = await wuhan.get(`/api/v1/completeness?template=${S}&period=${P}&division=4201`);
  assert.equal(c.body.division.submitted, 1);
  assert.equal(c.body.missing.length, 2);
  const wrong = await rep.put(`/api/v1/reports/${S}/${rep.user.institution_id}/2022-12-28`, { status: 'submitted', values: answers });
  assert.equal(wrong.status, 400);
  srv.setClock(at('2023-01-11', 10));
  const late = await rep.put(`/api/v1/reports/${S}/${rep.user.institution_id}/${P}`, { status: 'submitted', values: answers });
  assert.equal(late.status, 409);
  assert.equal(late.body.error.code, 'period_closed');
});
