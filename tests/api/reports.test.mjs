// Daily dispatch: templates, reports (idempotent, validated, reviewed, with
// value history), completeness around the deadline in Asia/Shanghai, and live
// roll-ups that always equal an independent sum over the raw reports.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, sql, newUscc } from '../lib/server.mjs';

// 2022-12-25 10:00 in Asia/Shanghai (UTC+8)
const at = (date, hh, mm = 0) => Date.UTC(+date.slice(0, 4), +date.slice(5, 7) - 1, +date.slice(8, 10), hh - 8, mm) / 1000;
const DAY = '2022-12-25';
const T = 'elderly-daily-2022';
let srv, rep, jiangan, hongshan, wuhan, admin, dazhi, others;

const good = (o = {}) => ({
  residents_present: 80, staff_on_duty: 30, staff_shortage: 2, closed_management: true,
  new_infected: 3, currently_infected: 10, severe_cases: 1, referred_to_hospital: 1, new_deaths: 0, staff_infected: 2,
  fever_today: 4, antigen_tests: 60, risk_red: 5, risk_yellow: 20, risk_green: 55,
  vaccinated_full: 60, vaccinated_booster: 40, vaccinated_none: 10,
  stock_antipyretic: 300, used_antipyretic: 20, stock_antiviral: 10, used_antiviral: 1,
  difficulties: '退烧药紧缺', urgent_needs: '', suggestions: '', ...o,
});
const path = (inst, day = DAY, t = T) => `/api/v1/reports/${t}/${inst}/${day}`;

before(async () => {
  // sessions last 30 days here: the test moves the server's clock over several days
  srv = await startServer({ demo: true, clock: at(DAY, 10), env: { CAREWATCH_SESSION_HOURS: '720' } });
  rep = await srv.api('jg.dazhi');
  jiangan = await srv.api('mz.jiangan');
  hongshan = await srv.api('mz.hongshan');
  wuhan = await srv.api('mz.wuhan');
  admin = await srv.api('admin');
  dazhi = rep.user.institution_id;
  // a few more elderly-care institutions in two counties, to sum over
  others = [];
  for (const [div, name] of [['420102003', '一元测试院'], ['420111001', '珞南测试院'], ['420111002', '关山测试院'], ['420106001', '积玉桥测试院']]) {
    const r = await admin.post('/api/v1/institutions', { name, uscc: newUscc(div), type: 'elderly_care', ownership: 'private', division_code: div });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    others.push(r.body);
  }
});
after(async () => { await srv?.stop(); });

test('the four shipped templates load, with their fields and rules', async () => {
  const r = await rep.get('/api/v1/templates');
  assert.deepEqual(r.body.items.map((t) => t.code).sort(), ['child-daily-2022', 'elderly-daily-2022', 'medical-survey-2022', 'yl-yx-daily-2020']);
  const t = await rep.get('/api/v1/templates/' + T);
  const codes = t.body.sections.flatMap((s) => s.fields.map((f) => f.code));
  for (const f of ['residents_present', 'staff_on_duty', 'staff_shortage', 'closed_management', 'new_infected', 'currently_infected',
    'severe_cases', 'referred_to_hospital', 'new_deaths', 'staff_infected', 'fever_today', 'antigen_tests', 'risk_red', 'risk_yellow',
    'risk_green', 'vaccinated_full', 'vaccinated_booster', 'difficulties', 'urgent_needs', 'suggestions'])
    assert.ok(codes.includes(f), f);
  for (const item of ['antipyretic', 'antiviral', 'antigen_kit', 'oximeter', 'oxygen_concentrator', 'mask_n95', 'protective_suit'])
    assert.ok(codes.includes('stock_' + item) && codes.includes('used_' + item), item);
  assert.ok(t.body.rules.some((x) => x.left === 'severe_cases' && x.op === '<=' && x.right === 'currently_infected' && x.severity === 'error'));
  assert.equal(t.body.version, 1);
  assert.equal((await rep.get('/api/v1/templates/nope')).status, 404);
  const survey = r.body.items.find((x) => x.code === 'medical-survey-2022');
  assert.equal(survey.period, 'once');
  assert.equal(survey.campaign.opens, '2022-12-23');
});

test('a reporter submits; a retry with the same client_key returns the same report', async () => {
  const body = { client_key: 'k-dazhi-1225-a', status: 'submitted', values: good() };
  const a = await rep.put(path(dazhi), body);
  assert.equal(a.status, 201, JSON.stringify(a.body));
  assert.equal(a.body.status, 'submitted');
  assert.equal(a.body.on_time, true);
  assert.equal(a.body.values.residents_present, 80);
  const b = await rep.put(path(dazhi), body);
  assert.equal(b.status, 200);
  assert.equal(b.body.id, a.body.id);
  assert.equal(b.body.replayed, true);
  const same = await Promise.all([1, 2, 3].map(() => rep.put(path(dazhi), body)));
  assert.ok(same.every((x) => x.body.id === a.body.id));
  assert.equal(sql(srv.db, `SELECT COUNT(*) FROM reports WHERE institution_id = ${dazhi} AND period = '${DAY}'`), '1');
  assert.equal(sql(srv.db, `SELECT n_reports FROM rollups WHERE template_code = '${T}' AND period = '${DAY}' AND division_code = '420102'`), '1');
  const g = await rep.get(path(dazhi));
  assert.equal(g.status, 200);
  assert.equal(g.body.id, a.body.id);
});

test('the answer to a save is the report as stored: equal to a GET after it, through drafts, edits, a return and a zero report', async () => {
  // the PUT answer is built from what the save wrote, not read back: it must
  // not drift from what report_load gives
  const inst = others[0].id, D1 = '2022-12-23', D2 = '2022-12-24';
  const same = async (res, p = path(inst, D1)) => {
    assert.ok(res.status === 200 || res.status === 201, JSON.stringify(res.body));
    const { replayed, warnings, ...put } = res.body;
    assert.equal(replayed, false);
    assert.ok(Array.isArray(warnings));
    const { deadline, ...got } = (await admin.get(p)).body;
    assert.ok(deadline > 0);
    assert.deepEqual(put, got);
    return put;
  };
  let r = await same(await admin.put(path(inst, D1), { status: 'draft', values: { residents_present: 50 } }));
  assert.equal(r.version, 1);
  assert.equal(r.first_submitted_at, null);
  assert.equal(r.institution_name, '一元测试院');
  r = await same(await admin.put(path(inst, D1), { status: 'draft', values: { residents_present: 51, staff_on_duty: 9 } }));
  assert.equal(r.version, 2);
  r = await same(await admin.put(path(inst, D1), { status: 'submitted', values: good({ residents_present: 82 }) }));
  assert.equal(r.submitted_by, 'admin');
  assert.ok(r.supply.antipyretic.stock === 300);
  r = await same(await admin.put(path(inst, D1), { status: 'submitted', values: good({ residents_present: 83, stock_antipyretic: 20 }) }));
  assert.equal(r.version, 4);
  assert.deepEqual(r.low_supply, ['antipyretic']);
  const ret = await admin.post(path(inst, D1) + '/review', { action: 'return', reason: '数字有误' });
  assert.equal(ret.status, 200, JSON.stringify(ret.body));
  r = await same(await admin.put(path(inst, D1), { status: 'draft', values: good({ residents_present: 84 }) }));
  assert.equal(r.review_reason, '数字有误');
  assert.equal(r.reviewed_by, 'admin');
  r = await same(await admin.put(path(inst, D1), { status: 'submitted', values: good({ residents_present: 85 }) }));
  assert.equal(r.review_reason, '');
  await same(await admin.post(path(inst, D2) + '/zero', { client_key: 'zero-' + inst + '-1224' }), path(inst, D2));
});

test('first submissions of one report racing each other: all succeed, one report, counted once', async () => {
  // on PostgreSQL the losers of the insert race run again as updates
  const D = '2022-12-20';
  const res = await Promise.all([1, 2, 3, 4, 5, 6].map((k) => admin.put(path(dazhi, D), { status: 'submitted', values: good({ residents_present: 90 + k }) })));
  assert.ok(res.every((x) => x.status === 200 || x.status === 201), JSON.stringify(res.map((x) => [x.status, x.body.error])));
  assert.equal(res.filter((x) => x.status === 201).length, 1);
  assert.equal(sql(srv.db, `SELECT COUNT(*) FROM reports WHERE institution_id = ${dazhi} AND period = '${D}'`), '1');
  const roll = await admin.get(`/api/v1/rollups?template=${T}&period=${D}&division=`);
  assert.equal(roll.body.division.reports, 1);
  const last = await admin.get(path(dazhi, D));
  assert.equal(roll.body.division.values.residents_present, last.body.values.residents_present);
});

test('rules, types, bounds and unknown fields → 422 validation_failed with details; nothing stored', async () => {
  const inst = others[0].id;
  const n0 = sql(srv.db, 'SELECT COUNT(*) FROM reports');
  const put = (values) => admin.put(path(inst), { status: 'submitted', values });
  const rule = await put(good({ severe_cases: 12, currently_infected: 10 }));
  assert.equal(rule.status, 422);
  assert.equal(rule.body.error.code, 'validation_failed');
  const d = rule.body.error.details.find((x) => x.rule);
  assert.equal(d.severity, 'error');
  assert.match(d.message, /重症人数不能多于现有感染人数/);
  assert.match(d.message, /12/);
  assert.match(d.message, /10/);
  const cases = [
    [good({ surprise: 1 }), 'surprise', 'unknown_field'],
    [good({ residents_present: '80' }), 'residents_present', 'invalid_type'],
    [good({ residents_present: 2.5 }), 'residents_present', 'invalid_type'],
    [good({ residents_present: -1 }), 'residents_present', 'out_of_range'],
    [good({ closed_management: 1 }), 'closed_management', 'invalid_type'],
    [good({ residents_present: undefined }), 'residents_present', 'required'],
  ];
  for (const [values, field, code] of cases) {
    const r = await put(JSON.parse(JSON.stringify(values)));
    assert.equal(r.status, 422, field);
    assert.ok(r.body.error.details.some((x) => x.field === field && x.code === code && x.severity === 'error'), `${field} ${code}`);
  }
  assert.equal(sql(srv.db, 'SELECT COUNT(*) FROM reports'), n0);
  // a draft may be incomplete, but not wrong
  const draft = await admin.put(path(inst), { status: 'draft', values: { residents_present: 50 } });
  assert.equal(draft.status, 201);
  assert.equal(draft.body.status, 'draft');
  assert.equal(sql(srv.db, `SELECT COUNT(*) FROM rollups WHERE template_code = '${T}' AND period = '${DAY}' AND division_code = '420102' AND n_reports = 1`), '1', 'drafts do not count');
});

test('warnings need the submitter\'s confirmation; validate is a dry run', async () => {
  const inst = others[1].id;
  const v = good({ fever_today: 500, residents_present: 80 });
  const dry = await hongshan.post(path(inst) + '/validate', { values: v });
  assert.equal(dry.status, 200);
  assert.equal(dry.body.ok, true);
  assert.equal(dry.body.warnings, 1);
  assert.equal(dry.body.details[0].severity, 'warning');
  assert.equal(sql(srv.db, `SELECT COUNT(*) FROM reports WHERE institution_id = ${inst}`), '0');
  const no = await hongshan.put(path(inst), { status: 'submitted', values: v });
  assert.equal(no.status, 422);
  assert.equal(no.body.error.details[0].severity, 'warning');
  const yes = await hongshan.put(path(inst), { status: 'submitted', values: v, confirm_warnings: true });
  assert.equal(yes.status, 201, JSON.stringify(yes.body));
  assert.equal(yes.body.warnings_confirmed, true);
});

test('bad targets: unknown template, institution, malformed period, out of scope', async () => {
  const body = { status: 'submitted', values: good() };
  assert.equal((await rep.put(`/api/v1/reports/nope/${dazhi}/${DAY}`, body)).status, 404);
  assert.equal((await rep.put(path(999999), body)).status, 404);
  for (const p of ['2022-13-01', '2022-02-30', '20221225', 'today']) {
    const r = await rep.put(path(dazhi, p), body);
    assert.equal(r.status, 400, p);
    assert.equal(r.body.error.code, 'invalid_period');
  }
  // a reporter cannot file for another institution; an official not for another county
  assert.equal((await rep.put(path(others[0].id), body)).status, 404);
  assert.equal((await hongshan.put(path(dazhi), body)).status, 404);
  assert.equal((await hongshan.get(path(dazhi))).status, 404);
  assert.equal((await jiangan.get(path(dazhi))).status, 200);
  // a child-welfare template does not apply to an elderly-care home
  const cw = await rep.put(`/api/v1/reports/child-daily-2022/${dazhi}/${DAY}`, body);
  assert.equal(cw.status, 422);
  assert.equal(cw.body.error.code, 'template_not_applicable');
});

test('review: approve and return in scope; a return takes the report out of the roll-ups', async () => {
  const inst = others[0].id; // 一元 (420102003), draft so far
  const s = await jiangan.put(path(inst), { status: 'submitted', values: good({ residents_present: 100, risk_green: 75 }) });
  assert.equal(s.status, 200, JSON.stringify(s.body));
  const before = await jiangan.get(`/api/v1/rollups?template=${T}&period=${DAY}&division=420102`);
  assert.equal(before.body.division.values.residents_present, 180);
  assert.equal((await hongshan.post(path(inst) + '/review', { action: 'approve' })).status, 404);
  assert.equal((await rep.post(path(dazhi) + '/review', { action: 'approve' })).status, 403);
  const noReason = await jiangan.post(path(inst) + '/review', { action: 'return' });
  assert.equal(noReason.status, 422);
  const ret = await jiangan.post(path(inst) + '/review', { action: 'return', reason: '在院人数与上报不符' });
  assert.equal(ret.status, 200);
  assert.equal(ret.body.status, 'returned');
  const mid = await jiangan.get(`/api/v1/rollups?template=${T}&period=${DAY}&division=420102`);
  assert.equal(mid.body.division.values.residents_present, 80);
  const again = await jiangan.put(path(inst), { status: 'submitted', values: good({ residents_present: 90, risk_green: 65 }) });
  assert.equal(again.status, 200);
  const ok = await jiangan.post(path(inst) + '/review', { action: 'approve' });
  assert.equal(ok.body.status, 'approved');
  const after = await jiangan.get(`/api/v1/rollups?template=${T}&period=${DAY}&division=420102`);
  assert.equal(after.body.division.values.residents_present, 170);
  // every change of a value is kept
  const h = await jiangan.get(path(inst) + '/history');
  const rp = h.body.items.filter((x) => x.field === 'residents_present');
  assert.deepEqual(rp.map((x) => [x.old, x.new]), [[100, 90]]);
  assert.equal(rp[0].actor, 'mz.jiangan');
});

test('completeness around the deadline (17:30 Asia/Shanghai), with the missing list and phones', async () => {
  const D = '2022-12-26';
  srv.setClock(at(D, 17, 29));
  const a = await rep.put(path(dazhi, D), { status: 'submitted', values: good() });
  assert.equal(a.body.on_time, true);
  srv.setClock(at(D, 17, 31));
  const b = await admin.put(path(others[0].id, D), { status: 'submitted', values: good() });
  assert.equal(b.body.on_time, false);
  const c = await wuhan.get(`/api/v1/completeness?template=${T}&period=${D}&division=4201`);
  assert.equal(c.status, 200, JSON.stringify(c.body));
  const jiangan_ = c.body.children.find((x) => x.code === '420102');
  // 江岸: 社会福利院 (social_welfare), 大智敬老院, 一元颐养中心, 一元测试院 → 4 expected
  assert.equal(jiangan_.expected, 4);
  assert.equal(jiangan_.submitted, 2);
  assert.equal(jiangan_.on_time, 1);
  assert.equal(jiangan_.late, 1);
  assert.equal(jiangan_.missing, 2);
  assert.equal(c.body.division.submitted, 2);
  assert.ok(c.body.division.expected >= 8);
  const miss = c.body.missing.filter((m) => m.division_code.startsWith('420102'));
  assert.equal(miss.length, 2);
  assert.ok(miss.every((m) => m.contact_phone !== undefined && m.name));
  assert.equal(c.body.missing.length, c.body.division.missing);
  assert.equal(c.body.missing_truncated, false);
  // the list is capped (missing_limit, default 200); the counts are not
  const one = await wuhan.get(`/api/v1/completeness?template=${T}&period=${D}&division=4201&missing_limit=1`);
  assert.deepEqual(one.body.missing, c.body.missing.slice(0, 1));
  assert.equal(one.body.missing_truncated, true);
  assert.equal(one.body.division.missing, c.body.division.missing);
  assert.equal((await wuhan.get(`/api/v1/completeness?template=${T}&period=${D}&missing_limit=5001`)).body.error.code, 'invalid_query');
  // the first minute of the next day belongs to the next day
  srv.setClock(at('2022-12-27', 0, 0));
  const n = await rep.put(path(dazhi, '2022-12-27'), { status: 'submitted', values: good() });
  assert.equal(n.body.on_time, true);
  // scope: a county official cannot look at the city, a reporter sees no summaries
  assert.equal((await jiangan.get(`/api/v1/completeness?template=${T}&period=${D}&division=4201`)).status, 404);
  assert.equal((await rep.get(`/api/v1/completeness?template=${T}&period=${D}`)).status, 403);
  assert.equal((await wuhan.get(`/api/v1/completeness?template=${T}&period=2022-13-01`)).status, 400);
  srv.setClock(at(DAY, 10));
});

test('expected follows the registry: suspending, moving and retyping institutions, at every level', async () => {
  const D = '2022-12-26';
  const check = async () => {
    for (const div of ['', '42', '4201', '420102', '420111']) {
      const c = await admin.get(`/api/v1/completeness?template=${T}&period=${D}&division=${div}`);
      assert.equal(c.status, 200);
      const count = (code) => Number(sql(srv.db, `SELECT COUNT(*) FROM institutions WHERE division_code LIKE '${code}%' ` +
        "AND status <> 'suspended' AND type IN ('elderly_care', 'social_welfare')"));
      assert.equal(c.body.division.expected, count(div), `expected of '${div}'`);
      for (const ch of c.body.children) assert.equal(ch.expected, count(ch.code), `expected of ${ch.code}`);
    }
  };
  await check();
  const [a, b] = [others[1].id, others[2].id];
  assert.equal((await admin.patch(`/api/v1/institutions/${a}`, { status: 'suspended' })).status, 200);
  await check();
  assert.equal((await admin.patch(`/api/v1/institutions/${b}`, { division_code: '420102003' })).status, 200);
  await check();
  assert.equal((await admin.patch(`/api/v1/institutions/${a}`, { status: 'normal', type: 'child_welfare' })).status, 200);
  await check();
  assert.equal((await admin.patch(`/api/v1/institutions/${a}`, { type: 'elderly_care' })).status, 200);
  assert.equal((await admin.patch(`/api/v1/institutions/${b}`, { division_code: '420111002' })).status, 200);
  await check();
});

test('midnight in Asia/Shanghai, not UTC: a day opens at 00:00 Beijing time (16:00 UTC the day before) and closes exactly open_days later', async () => {
  const D = '2023-01-05'; // its own days: nothing else reports here
  const rep2 = rep;
  srv.setClock(at(D, 0, 0) - 1); // 2023-01-04 23:59:59 in Shanghai (15:59:59 UTC)
  const early = await rep2.put(path(dazhi, D), { status: 'submitted', values: good() });
  assert.equal(early.status, 409, 'one second before midnight the day is not open');
  assert.equal(early.body.error.code, 'period_not_open');
  srv.setClock(at(D, 0, 0)); // 00:00:00 in Shanghai, still 01-04 in UTC
  const first = await rep2.put(path(dazhi, D), { status: 'submitted', values: good() });
  assert.equal(first.status, 201, JSON.stringify(first.body));
  assert.equal(first.body.on_time, true);
  // the deadline minute: 17:29:59 on time, 17:30:00 late (first submissions decide)
  const other = others.find((o) => o.division_code.startsWith('420102'));
  srv.setClock(at(D, 17, 30)); // 17:30:00
  const late = await admin.put(path(other.id, D), { status: 'submitted', values: good() });
  assert.equal(late.body.on_time, false);
  const c = await admin.get(`/api/v1/completeness?template=${T}&period=${D}&division=420102`);
  assert.equal(c.body.division.on_time, 1);
  assert.equal(c.body.division.late, 1);
  // the day before is still open to the reporter until open_days after its end, at Beijing midnight
  const prev = '2023-01-04';
  srv.setClock(at('2023-01-08', 0, 0) - 1); // 01-04 + 3 open days → closes at 01-08 00:00 Shanghai
  const ok = await rep2.put(path(dazhi, prev), { status: 'submitted', values: good() });
  assert.equal(ok.status, 201, JSON.stringify(ok.body));
  assert.equal(ok.body.on_time, false, 'after its deadline: late');
  srv.setClock(at('2023-01-08', 0, 0));
  const closed = await rep2.put(path(dazhi, prev), { status: 'submitted', values: good({ residents_present: 81, risk_green: 56 }) });
  assert.equal(closed.status, 409);
  assert.equal(closed.body.error.code, 'period_closed');
  srv.setClock(at(DAY, 10));
});

test('a period closes for the reporter after open_days; officials can still correct', async () => {
  srv.setClock(at('2022-12-29', 23, 59)); // 12-25 + 3 open days → closes at the start of 12-29
  const late = await rep.put(path(dazhi), { status: 'submitted', values: good({ residents_present: 81, risk_green: 56 }) });
  assert.equal(late.status, 409);
  assert.equal(late.body.error.code, 'period_closed');
  srv.setClock(at('2022-12-28', 23, 59));
  const ok = await rep.put(path(dazhi), { status: 'submitted', values: good({ residents_present: 81, risk_green: 56 }) });
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  assert.equal(ok.body.on_time, true, 'on time is decided by the first submission');
  srv.setClock(at(DAY, 10));
});

test('prefill carries state, not today\'s events; a zero report needs a previous report', async () => {
  const D = '2022-12-27';
  srv.setClock(at(D, 9));
  const p = await rep.get(path(dazhi, D) + '/prefill');
  assert.equal(p.status, 200);
  assert.equal(p.body.from_period, '2022-12-26');
  assert.equal(p.body.values.residents_present, 80);
  assert.equal(p.body.values.new_infected, undefined);
  assert.equal(p.body.values.difficulties, undefined);
  const early = await rep.post(path(dazhi, '2022-12-28') + '/zero', {});
  assert.equal(early.status, 409);
  assert.equal(early.body.error.code, 'period_not_open');
  srv.setClock(at('2022-12-28', 9));
  const z = await rep.post(path(dazhi, '2022-12-28') + '/zero', { client_key: 'zero-dazhi-1228' });
  assert.equal(z.status, 201, JSON.stringify(z.body));
  assert.equal(z.body.values.new_infected, 0);
  assert.equal(z.body.values.used_antipyretic, 0);
  assert.equal(z.body.values.residents_present, 80);
  const none = await admin.post(path(others[3].id, '2022-12-28') + '/zero', {});
  assert.equal(none.status, 422);
  assert.equal(none.body.error.code, 'no_previous_report');
  srv.setClock(at(DAY, 10));
});

test('a ratio is the ratio of the sums: two reports at 10 % and 0 % of very different sizes give 1 %, not 5 %', async () => {
  const D = '2022-12-29';
  srv.setClock(at(D, 12));
  const [a, b] = others.filter((o) => o.division_code.startsWith('420111'));
  let r = await admin.put(path(a.id, D), { status: 'submitted', values: good({ residents_present: 10, currently_infected: 1, severe_cases: 0, risk_red: 1, risk_yellow: 1, risk_green: 1, vaccinated_full: 5, vaccinated_booster: 1, vaccinated_none: 1 }), confirm_warnings: true });
  assert.ok(r.status === 200 || r.status === 201, r.text);
  r = await admin.put(path(b.id, D), { status: 'submitted', values: good({ residents_present: 90, currently_infected: 0, severe_cases: 0, risk_red: 1, risk_yellow: 1, risk_green: 1, vaccinated_full: 5, vaccinated_booster: 1, vaccinated_none: 1 }), confirm_warnings: true });
  assert.ok(r.status === 200 || r.status === 201, r.text);
  const county = await admin.get(`/api/v1/rollups?template=${T}&period=${D}&division=420111`);
  assert.equal(county.body.division.values.infection_rate, 1);
  assert.equal(county.body.division.values.vaccinated_full_rate, 10);
  assert.equal(county.body.division.values.severe_share, 0);
  const tpl = await admin.get(`/api/v1/templates/${T}`);
  assert.ok(JSON.stringify(tpl.body).includes('infection_rate'), 'the template names its ratios');
  const csv = await admin.get(`/api/v1/exports/rollup?template=${T}&period=${D}&division=4201&format=csv`);
  assert.equal(csv.status, 200);
  assert.match(csv.text, /在院老人现有感染率（%）/);
  srv.setClock(at(DAY, 10));
});

test('roll-ups at every level equal an independent sum over the raw reports', async () => {
  const D = '2022-12-30';
  srv.setClock(at(D, 12));
  const insts = [dazhi, ...others.map((o) => o.id)];
  let seed = 7;
  const rnd = (n) => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n; };
  for (let step = 0; step < 40; step++) {
    const inst = insts[rnd(insts.length)];
    const act = rnd(5);
    if (act <= 2) {
      const res = 80 + rnd(100);
      const v = good({ residents_present: res, risk_red: rnd(5), risk_yellow: rnd(10), risk_green: rnd(30), new_infected: rnd(5),
        currently_infected: 10 + rnd(5), severe_cases: rnd(3), closed_management: rnd(2) === 1, stock_antipyretic: rnd(500) });
      const r = await admin.put(path(inst, D), { status: act === 2 ? 'draft' : 'submitted', values: v, confirm_warnings: true });
      assert.ok(r.status === 200 || r.status === 201, JSON.stringify(r.body));
    } else if (act === 3) {
      await admin.post(path(inst, D) + '/review', { action: 'return', reason: '请核实' });
    } else {
      await admin.post(path(inst, D) + '/review', { action: 'approve' });
    }
  }
  const raw = JSON.parse('[' + sql(srv.db, `SELECT division_code || '|' || vals FROM reports WHERE template_code = '${T}' AND period = '${D}' AND status IN ('submitted','approved')`)
    .split('\n').filter(Boolean).map((l) => JSON.stringify(l)).join(',') + ']').map((l) => ({ div: l.split('|')[0], v: JSON.parse(l.slice(l.indexOf('|') + 1)) }));
  for (const div of ['', '42', '4201', '420102', '420111', '420106']) {
    const mine = raw.filter((x) => x.div.startsWith(div));
    const r = await admin.get(`/api/v1/rollups?template=${T}&period=${D}&division=${div}`);
    assert.equal(r.status, 200);
    assert.equal(r.body.division.reports, mine.length, div);
    for (const f of ['residents_present', 'risk_green', 'new_infected', 'stock_antipyretic', 'severe_cases'])
      assert.equal(r.body.division.values[f], mine.reduce((a, x) => a + (x.v[f] || 0), 0), `${div} ${f}`);
    assert.equal(r.body.division.values.closed_management, mine.filter((x) => x.v.closed_management === true).length, `${div} yes-count`);
    // ratios from the summed parts, never an average of the reports' ratios
    const sum = (f) => mine.reduce((a, x) => a + (x.v[f] || 0), 0);
    const want = (n, d) => (sum(d) > 0 ? Math.round(sum(n) / sum(d) * 100 * 100) / 100 : null);
    assert.equal(r.body.division.values.infection_rate, want('currently_infected', 'residents_present'), `${div} infection_rate`);
    assert.equal(r.body.division.values.vaccinated_full_rate, want('vaccinated_full', 'residents_present'), `${div} vaccinated_full_rate`);
    assert.equal(r.body.division.values.severe_share, want('severe_cases', 'currently_infected'), `${div} severe_share`);
  }
  const city = await admin.get(`/api/v1/rollups?template=${T}&period=${D}&division=4201`);
  const sumKids = city.body.children.reduce((a, c) => a + c.values.residents_present, 0);
  assert.equal(sumKids, city.body.division.values.residents_present);
  const county = await admin.get(`/api/v1/rollups?template=${T}&period=${D}&division=420111`);
  assert.ok(county.body.children.every((c) => c.institution_id));
  const series = await admin.get(`/api/v1/series?template=${T}&field=residents_present&division=42&from=2022-12-20&to=2022-12-31`);
  assert.equal(series.status, 200);
  const pt = series.body.points.find((x) => x.period === D);
  assert.equal(pt.value, raw.reduce((a, x) => a + x.v.residents_present, 0));
  assert.ok(series.body.points.length >= 3);
  assert.equal((await admin.get(`/api/v1/series?template=${T}&field=difficulties&division=42&from=2022-12-20&to=2022-12-31`)).status, 400);
  const rs = await admin.get(`/api/v1/series?template=${T}&field=infection_rate&division=42&from=2022-12-20&to=2022-12-31`);
  assert.equal(rs.status, 200);
  const all = (f) => raw.reduce((a, x) => a + (x.v[f] || 0), 0);
  assert.equal(rs.body.points.find((x) => x.period === D).value, Math.round(all('currently_infected') / all('residents_present') * 10000) / 100);
  srv.setClock(at(DAY, 10));
});

test('the review queue lists reports in scope; reporters see only their own', async () => {
  const q = await jiangan.get(`/api/v1/reports?template=${T}&status=submitted`);
  assert.equal(q.status, 200);
  assert.ok(q.body.items.every((x) => x.division_code.startsWith('420102') && x.status === 'submitted'));
  const mine = await rep.get(`/api/v1/reports?template=${T}`);
  assert.ok(mine.body.items.length > 0);
  assert.ok(mine.body.items.every((x) => x.institution_id === dazhi));
});

test('days of supply: stock ÷ average use over the last 7 reported days; low items counted in roll-ups', async () => {
  const made = await admin.post('/api/v1/institutions', { name: '供应测试院', uscc: newUscc('420111'), type: 'elderly_care', ownership: 'public', division_code: '420111002' });
  const inst = made.body.id; // no earlier reports
  const days = ['2023-01-02', '2023-01-03', '2023-01-04', '2023-01-05'];
  // antipyretic: used 10/day; a day with zero stock is left out of the average
  const plan = [[100, 10], [0, 40], [80, 10], [25, 10]];
  let last;
  for (let i = 0; i < days.length; i++) {
    srv.setClock(at(days[i], 9));
    last = await hongshan.put(path(inst, days[i]), { status: 'submitted', values: good({ stock_antipyretic: plan[i][0], used_antipyretic: plan[i][1], stock_antiviral: 100, used_antiviral: 1 }) });
    assert.ok(last.status === 201, JSON.stringify(last.body));
  }
  // average use over days with stock > 0: (10 + 10 + 10) / 3 = 10; 25 / 10 = 2.5 days < 3
  assert.equal(last.body.supply.antipyretic.avg_use, 10);
  assert.equal(last.body.supply.antipyretic.days, 2.5);
  assert.deepEqual(last.body.low_supply, ['antipyretic']);
  assert.equal(last.body.supply.antiviral.days, 100);
  const r = await hongshan.get(`/api/v1/rollups?template=${T}&period=2023-01-05&division=420111`);
  assert.equal(r.body.division.values.low_supply_antipyretic, 1);
  const nat = await admin.get(`/api/v1/rollups?template=${T}&period=2023-01-05&division=`);
  assert.equal(nat.body.division.values.low_supply_antipyretic, 1);
  // restocked: no longer low, and the roll-up follows the edit
  const fix = await hongshan.put(path(inst, '2023-01-05'), { status: 'submitted', values: good({ stock_antipyretic: 300, used_antipyretic: 10, stock_antiviral: 100, used_antiviral: 1 }) });
  assert.deepEqual(fix.body.low_supply, []);
  const r2 = await hongshan.get(`/api/v1/rollups?template=${T}&period=2023-01-05&division=420111`);
  assert.equal(r2.body.division.values.low_supply_antipyretic || 0, 0);
  // earlier days are read from their derived stock and use; reports derived before "used"
  // was kept there are read from their values: the same answer either way
  srv.setClock(at('2023-01-06', 9));
  const next = good({ stock_antipyretic: 45, used_antipyretic: 10, stock_antiviral: 100, used_antiviral: 1 });
  const a = await hongshan.put(path(inst, '2023-01-06'), { status: 'draft', values: next });
  assert.equal(a.status, 201, a.text);
  const viaDerived = (await hongshan.put(path(inst, '2023-01-06'), { status: 'submitted', values: next })).body.supply.antipyretic;
  sql(srv.db, `UPDATE reports SET derived = '{}' WHERE institution_id = ${inst} AND period < '2023-01-06'`);
  const viaValues = (await hongshan.put(path(inst, '2023-01-06'), { status: 'submitted', values: { ...next, fever_today: 1 } })).body.supply.antipyretic;
  assert.deepEqual(viaValues, viaDerived);
  assert.equal(viaDerived.avg_use, 10); // (10 + 10 + 10 + 10) / 4 days with stock
  assert.equal(viaDerived.days, 4.5);
  srv.setClock(at(DAY, 10));
});

test('many reports at once, some invalid: the valid ones stored and counted once each, the invalid ones nothing', async () => {
  // concurrent writes share commits (group commit, on both engines); a body
  // that fails must not take the others with it, nor leave a trace
  const D = '2022-11-01';
  // institutions of its own (the last test: earlier ones count the registry)
  const insts = [];
  for (const [k, div] of ['420102003', '420102003', '420111001', '420106001', '420106001'].entries()) {
    const r = await admin.post('/api/v1/institutions', { name: '并发测试院' + k, uscc: newUscc(div), type: 'elderly_care', ownership: 'private', division_code: div });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    insts.push(r.body.id);
  }
  const jobs = [];
  for (const day of ['2022-11-01', '2022-11-02', '2022-11-03'])
    insts.forEach((inst, k) => jobs.push({ inst, day, bad: (k + day.length) % 3 === 0 && day !== D }));
  const res = await Promise.all(jobs.map((j) => admin.put(path(j.inst, j.day),
    { status: 'submitted', values: good(j.bad ? { severe_cases: 12, currently_infected: 10 } : { residents_present: 80 + j.inst % 20 }) })));
  jobs.forEach((j, i) => assert.equal(res[i].status, j.bad ? 422 : 201, JSON.stringify([j, res[i].body.error])));
  for (const day of ['2022-11-01', '2022-11-02', '2022-11-03']) {
    const want = jobs.filter((j) => j.day === day && !j.bad);
    assert.equal(sql(srv.db, `SELECT COUNT(*) FROM reports WHERE template_code = '${T}' AND period = '${day}'`), String(want.length), day);
    const roll = await admin.get(`/api/v1/rollups?template=${T}&period=${day}&division=`);
    assert.equal(roll.body.division.reports, want.length, day);
    assert.equal(roll.body.division.values.residents_present, want.reduce((a, j) => a + 80 + j.inst % 20, 0), day);
  }
  assert.ok(jobs.some((j) => j.bad) && jobs.some((j) => !j.bad));
});
