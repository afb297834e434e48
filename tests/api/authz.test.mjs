// The authorization matrix, generated from the route table (src/routes.c):
// every route is called as every role, with an object inside the caller's
// scope and one outside it. A role without the route's capability gets 403;
// with it, nothing outside its scope is ever answered or leaked. A route added
// without a matrix entry fails this test.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { startServer, sql, newUscc, newCid, ROOT } from '../lib/server.mjs';

const CAP = { CAP_LOGIN: 'login', CAP_USERS: 'users', CAP_INST_READ: 'institutions.read', CAP_INST_WRITE: 'institutions.write',
  CAP_EXPORT: 'export', CAP_REPORT_SUBMIT: 'reports.submit', CAP_REPORT_READ: 'reports.read', CAP_REPORT_REVIEW: 'reports.review',
  CAP_AUDIT: 'audit', CAP_TEMPLATE: 'templates', CAP_NEED_READ: 'needs.read', CAP_NEED_WRITE: 'needs.write', CAP_MATCH: 'matching',
  CAP_OFFER: 'offers', CAP_PERSON_READ: 'persons.read', CAP_PERSON_WRITE: 'persons.write' };
const ROLES = ['admin', 'mz.jiangan', 'leader', 'jg.dazhi', 'cun.dazhi', 'ngo.hubei'];
const SECRET = '洪山区保密测试院'; // an institution outside 江岸 (and outside 大智's own)
const T = 'elderly-daily-2022';
const DAY = '2022-12-25';
let srv, ctx;

// in: an object the scoped roles (江岸 official, 大智 reporter) may touch; out: one they may not.
// deny: roles the handler refuses although the capability allows (summaries are not for reporters).
const MATRIX = {
  'GET /healthz': { public: true },
  'GET /metrics': { public: true },
  'GET /api/v1/openapi.json': { public: true },
  'POST /api/v1/session': { public: true },
  'GET /api/v1/session': { public: true },
  'DELETE /api/v1/session': { skip: 'logs the caller out; covered in auth.test.mjs' },
  'GET /api/v1/users': { in: { q: '' }, out: { q: '?division=420111' } },
  'POST /api/v1/users': { in: { body: () => ({ login: 'm' + Math.random().toString(36).slice(2, 8), role: 'leader', scope: '420102', password: 'Matrix2026x' }) },
    out: { body: () => ({ login: 'o' + Math.random().toString(36).slice(2, 8), role: 'leader', scope: '420111', password: 'Matrix2026x' }) } },
  'GET /api/v1/users/{id}': { in: { id: () => ctx.userIn }, out: { id: () => ctx.userOut } },
  'PATCH /api/v1/users/{id}': { in: { id: () => ctx.userIn, body: () => ({ disabled: false }) }, out: { id: () => ctx.userOut, body: () => ({ disabled: false }) } },
  'GET /api/v1/divisions': { in: { q: '?parent=42' } },
  'GET /api/v1/divisions/{code}': { in: { code: () => '420102' } },
  'GET /api/v1/institutions': { in: { q: '' }, out: { q: '?division=420111' } },
  'POST /api/v1/institutions': { in: { body: () => ({ name: '矩阵测试院', uscc: newUscc('420102'), type: 'other', ownership: 'public', division_code: '420102' }) },
    out: { body: () => ({ name: '矩阵越权院', uscc: newUscc('420111'), type: 'other', ownership: 'public', division_code: '420111' }) } },
  'GET /api/v1/institutions/{id}': { in: { id: () => ctx.instIn }, out: { id: () => ctx.instOut } },
  'PATCH /api/v1/institutions/{id}': { in: { id: () => ctx.instIn, body: () => ({ beds: 81 }) }, out: { id: () => ctx.instOut, body: () => ({ beds: 1 }) } },
  'GET /api/v1/institutions/{id}/history': { in: { id: () => ctx.instIn }, out: { id: () => ctx.instOut } },
  'GET /api/v1/exports/institutions': { in: { q: '?format=csv' }, out: { q: '?format=csv&division=420111' } },
  'POST /api/v1/imports/institutions': { in: { raw: 'name,uscc\n' }, out: { raw: () => `机构名称,统一社会信用代码,机构类型,举办性质,行政区划代码\n越权导入,${newUscc('420111')},其他,公办,420111\n` } },
  'GET /api/v1/templates': { in: {} },
  'GET /api/v1/templates/{code}': { in: { code: () => T } },
  'GET /api/v1/reports': { in: { q: `?template=${T}` }, out: { q: `?template=${T}&division=420111` } },
  'GET /api/v1/reports/{template}/{institution_id}/{period}': { in: { rep: 'in' }, out: { rep: 'out' } },
  'PUT /api/v1/reports/{template}/{institution_id}/{period}': { deny: ['leader', 'cun.dazhi', 'ngo.hubei'], in: { rep: 'in', body: () => ({ status: 'draft', values: {} }) }, out: { rep: 'out', body: () => ({ status: 'draft', values: {} }) } },
  'POST /api/v1/reports/{template}/{institution_id}/{period}/validate': { in: { rep: 'in', body: () => ({ values: {} }) }, out: { rep: 'out', body: () => ({ values: {} }) } },
  'POST /api/v1/reports/{template}/{institution_id}/{period}/zero': { deny: ['leader', 'cun.dazhi', 'ngo.hubei'], in: { rep: 'in', body: () => ({}) }, out: { rep: 'out', body: () => ({}) } },
  'POST /api/v1/reports/{template}/{institution_id}/{period}/review': { in: { rep: 'in', body: () => ({ action: 'approve' }) }, out: { rep: 'out', body: () => ({ action: 'approve' }) } },
  'GET /api/v1/reports/{template}/{institution_id}/{period}/prefill': { in: { rep: 'in' }, out: { rep: 'out' } },
  'GET /api/v1/reports/{template}/{institution_id}/{period}/history': { in: { rep: 'in' }, out: { rep: 'out' } },
  'GET /api/v1/completeness': { deny: ['jg.dazhi'], in: { q: `?template=${T}&period=${DAY}` }, out: { q: `?template=${T}&period=${DAY}&division=420111` } },
  'GET /api/v1/rollups': { deny: ['jg.dazhi'], in: { q: `?template=${T}&period=${DAY}` }, out: { q: `?template=${T}&period=${DAY}&division=420111` } },
  'GET /api/v1/series': { deny: ['jg.dazhi'], in: { q: `?template=${T}&field=residents_present&from=2022-12-01&to=2022-12-31` }, out: { q: `?template=${T}&field=residents_present&from=2022-12-01&to=2022-12-31&division=420111` } },
  'GET /api/v1/surveys': { deny: ['jg.dazhi'], in: {} },
  'POST /api/v1/surveys/{code}/targets': { in: { code: () => 'medical-survey-2022', body: () => ({ division: '420102' }) }, out: { code: () => 'medical-survey-2022', body: () => ({ division: '420111' }) } },
  'GET /api/v1/exports/{kind}': { in: { kind: () => 'missing', q: `?template=${T}&period=${DAY}&format=csv` }, out: { kind: () => 'missing', q: `?template=${T}&period=${DAY}&format=csv&division=420111` } },
  'GET /api/v1/audit': { in: { q: '' }, out: { q: '?division=420111' } },
  // needs and matching: the out-of-scope need, offer and pledge are in Beijing (a Hubei partner may see 洪山)
  'GET /api/v1/items': { in: {} },
  'GET /api/v1/difficulties': { deny: ['ngo.hubei'], in: { q: '' }, out: { q: '?division=420111' } },
  'POST /api/v1/difficulties': { in: { body: () => ({ institution_id: ctx.instIn, category: 'staff', text: '矩阵测试问题' }) },
    out: { body: () => ({ institution_id: ctx.instOut, category: 'staff', text: '矩阵越权问题' }) } },
  'PATCH /api/v1/difficulties/{id}': { in: { id: () => ctx.diffIn, body: () => ({ text: '矩阵修改问题' }) }, out: { id: () => ctx.diffOut, body: () => ({ text: '越权修改' }) } },
  'GET /api/v1/needs': { in: { q: '' }, out: { q: '?division=420111' } },
  'POST /api/v1/needs': { in: { body: () => ({ institution_id: ctx.instIn, item: 'antipyretic', quantity: 5, urgency: 'high', needed_by: '2026-12-31' }) },
    out: { body: () => ({ institution_id: ctx.instOut, item: 'antipyretic', quantity: 5, urgency: 'high', needed_by: '2026-12-31' }) } },
  'GET /api/v1/needs/summary': { in: { q: '' }, out: { q: '?division=420111' } },
  'GET /api/v1/needs/export': { in: { q: '?format=csv' }, out: { q: '?format=csv&division=420111' } },
  'GET /api/v1/needs/{id}': { in: { id: () => ctx.needIn }, out: { id: () => ctx.needOut } },
  'PATCH /api/v1/needs/{id}': { in: { id: () => ctx.needIn, body: () => ({ note: '矩阵备注' }) }, out: { id: () => ctx.needOut, body: () => ({ note: '越权' }) } },
  'GET /api/v1/partners': { deny: ['jg.dazhi'], in: {} },
  'POST /api/v1/partners': { in: { body: () => ({ name: '矩阵志愿队' + Math.random().toString(36).slice(2, 8), kind: 'volunteer', division_code: '420102' }) },
    out: { body: () => ({ name: '越权志愿队' + Math.random().toString(36).slice(2, 8), kind: 'volunteer', division_code: '420111' }) } },
  'GET /api/v1/partners/{id}': { deny: ['jg.dazhi'], in: { id: () => ctx.partnerIn }, out: { id: () => ctx.partnerOut } },
  'GET /api/v1/offers': { deny: ['jg.dazhi'], in: {} },
  'POST /api/v1/offers': { deny: ['leader', 'jg.dazhi'], in: { body: () => ({ partner_id: ctx.partnerIn, item: 'antipyretic', quantity: 10, division_code: '420102', available_from: '2026-12-01' }) },
    out: { body: () => ({ partner_id: ctx.partnerOut, item: 'antipyretic', quantity: 10, division_code: '110105', available_from: '2026-12-01' }) } },
  'PATCH /api/v1/offers/{id}': { deny: ['leader', 'jg.dazhi'], in: { id: () => ctx.offerIn, body: () => ({ note: '矩阵备注' }) }, out: { id: () => ctx.offerOut, body: () => ({ note: '越权' }) } },
  'POST /api/v1/matching/proposals': { in: { body: () => ({ division: '420102' }) }, out: { body: () => ({ division: '420111' }) } },
  'GET /api/v1/pledges': { in: { q: '' }, out: { q: '?division=420111' } },
  'POST /api/v1/pledges': { in: { body: () => ({ need_id: ctx.needIn, offer_id: ctx.offerIn, quantity: 1 }) }, out: { body: () => ({ need_id: ctx.needOut, offer_id: ctx.offerOut, quantity: 1 }) } },
  'PATCH /api/v1/pledges/{id}': { deny: ['leader'], in: { id: () => ctx.pledgeIn, body: () => ({ status: 'cancelled' }) }, out: { id: () => ctx.pledgeOut, body: () => ({ status: 'cancelled' }) } },
  'GET /api/v1/persons': { in: { q: '' }, out: { q: '?division=420111' } },
  'POST /api/v1/persons': { in: { body: () => ({ name: '矩阵对象', citizen_id: newCid('19400101'), categories: ['isolated_elderly'], division_code: '420102002' }) },
    out: { body: () => ({ name: '矩阵越权对象', citizen_id: newCid('19400101'), categories: ['isolated_elderly'], division_code: '420111001' }) } },
  'GET /api/v1/persons/{id}': { in: { id: () => ctx.personIn }, out: { id: () => ctx.personOut } },
  'PATCH /api/v1/persons/{id}': { in: { id: () => ctx.personIn, body: () => ({ address: '矩阵路1号' }) }, out: { id: () => ctx.personOut, body: () => ({ address: '越权' }) } },
  'GET /api/v1/persons/{id}/visits': { in: { id: () => ctx.personIn }, out: { id: () => ctx.personOut } },
  'POST /api/v1/persons/{id}/visits': { in: { id: () => ctx.personIn, body: () => ({ date: DAY, mode: 'phone' }) }, out: { id: () => ctx.personOut, body: () => ({ date: DAY, mode: 'phone' }) } },
  'GET /api/v1/persons/{id}/subsidies': { in: { id: () => ctx.personIn }, out: { id: () => ctx.personOut } },
  'PUT /api/v1/persons/{id}/subsidies/{month}': { in: { id: () => ctx.personIn, month: () => '2022-12', body: () => ({ amount: 100 }) }, out: { id: () => ctx.personOut, month: () => '2022-12', body: () => ({ amount: 100 }) } },
  'GET /api/v1/visits/overdue': { in: { q: '' }, out: { q: '?division=420111' } },
  'GET /api/v1/visits/due': { in: { q: '?within=7' }, out: { q: '?within=7&division=420111' } },
  'GET /api/v1/visits/coverage': { in: { q: '' }, out: { q: '?division=420111' } },
  'GET /api/v1/subsidies': { in: { q: '' }, out: { q: '?division=420111' } },
  'GET /api/v1/gaps': { in: { q: '' }, out: { q: '?division=420111' } },
  'POST /api/v1/imports/persons': { in: { raw: 'name,citizen_id\n' }, out: { raw: () => `姓名,公民身份号码,对象类别,行政区划代码\n越权导入,${newCid('19400101')},孤寡老人,420111001\n` } },
  'GET /api/v1/exports/persons': { in: { q: '?format=csv' }, out: { q: '?format=csv&division=420111' } },
  'GET /api/v1/exports/subsidies': { in: { q: '?format=csv' }, out: { q: '?format=csv&division=420111' } },
};

const routes = [...readFileSync(path.join(ROOT, 'src', 'routes.c'), 'utf8').matchAll(/\{"(GET|POST|PUT|PATCH|DELETE)", "([^"]+)", \w+, ([A-Z_ |0]+),/g)]
  .map((m) => ({ method: m[1], path: m[2], caps: m[3].split('|').map((c) => c.trim()).filter((c) => c !== '0').map((c) => CAP[c]) }));

before(async () => {
  srv = await startServer({ demo: true, env: { CAREWATCH_SESSION_HOURS: '720' } });
  const admin = await srv.api('admin');
  const secret = await admin.post('/api/v1/institutions', { name: SECRET, uscc: newUscc('420111'), type: 'elderly_care', ownership: 'public', division_code: '420111001' });
  const dazhi = (await srv.api('jg.dazhi')).user.institution_id;
  const users = (await admin.get('/api/v1/users?per_page=500')).body.items;
  const personIn = await admin.post('/api/v1/persons', { name: '矩阵在内对象', citizen_id: newCid('19400101'), categories: ['isolated_elderly'], division_code: '420102002' });
  const personOut = await admin.post('/api/v1/persons', { name: SECRET, citizen_id: newCid('19400101'), categories: ['isolated_elderly'], division_code: '420111001' });
  assert.equal(personOut.status, 201, personOut.text);
  ctx = {
    personIn: personIn.body.id, personOut: personOut.body.id,
    instIn: dazhi, instOut: secret.body.id,
    userIn: users.find((u) => u.login === 'jg.dazhi').id, userOut: users.find((u) => u.login === 'mz.hongshan').id,
  };
  // needs and matching: objects inside 江岸 (and Hubei), and outside in Beijing
  const beijing = (await admin.get('/api/v1/institutions?division=110105')).body.items[0].id;
  const post = async (p, b) => { const r = await admin.post(p, b); assert.equal(r.status, 201, `${p}: ${JSON.stringify(r.body)}`); return r.body.id; };
  ctx.needIn = await post('/api/v1/needs', { institution_id: ctx.instIn, item: 'antipyretic', quantity: 100, urgency: 'urgent', needed_by: '2026-12-31' });
  ctx.needOut = await post('/api/v1/needs', { institution_id: beijing, item: 'antipyretic', quantity: 100, urgency: 'urgent', needed_by: '2026-12-31' });
  ctx.diffIn = await post('/api/v1/difficulties', { institution_id: ctx.instIn, category: 'drugs', text: '矩阵：药品紧张' });
  ctx.diffOut = await post('/api/v1/difficulties', { institution_id: ctx.instOut, category: 'drugs', text: '矩阵：越权药品紧张' });
  ctx.partnerIn = (await admin.get('/api/v1/partners')).body.items.find((p) => p.name === '湖北省慈善总会').id;
  ctx.partnerOut = await post('/api/v1/partners', { name: '北京矩阵志愿队', kind: 'volunteer', division_code: '11' });
  ctx.offerIn = await post('/api/v1/offers', { partner_id: ctx.partnerIn, item: 'antipyretic', quantity: 100, division_code: '420102', available_from: '2022-12-01' });
  ctx.offerOut = await post('/api/v1/offers', { partner_id: ctx.partnerOut, item: 'antipyretic', quantity: 100, division_code: '110105', available_from: '2022-12-01' });
  ctx.pledgeIn = await post('/api/v1/pledges', { need_id: ctx.needIn, offer_id: ctx.offerIn, quantity: 1 });
  ctx.pledgeOut = await post('/api/v1/pledges', { need_id: ctx.needOut, offer_id: ctx.offerOut, quantity: 1 });
  // reports to look at, in and out of scope
  const v = { residents_present: 10, staff_on_duty: 3, closed_management: false, new_infected: 0, currently_infected: 0, severe_cases: 0 };
  for (const inst of [ctx.instIn, ctx.instOut])
    assert.ok([200, 201].includes((await admin.put(`/api/v1/reports/${T}/${inst}/${DAY}`, { status: 'submitted', values: v })).status));
});
after(async () => { await srv?.stop(); });

function build(route, spec) {
  let p = route.path;
  if (spec.rep) p = p.replace('{template}', T).replace('{institution_id}', spec.rep === 'in' ? ctx.instIn : ctx.instOut).replace('{period}', DAY);
  for (const k of ['id', 'code', 'kind', 'month']) if (spec[k]) p = p.replace(`{${k}}`, spec[k]());
  const body = spec.raw !== undefined ? (typeof spec.raw === 'function' ? spec.raw() : spec.raw) : spec.body ? spec.body() : undefined;
  return { p: p + (spec.q || ''), body, headers: spec.raw !== undefined ? { 'content-type': 'text/csv' } : {} };
}

test('every route has a matrix entry, and every entry a route', () => {
  const keys = routes.map((r) => `${r.method} ${r.path}`);
  assert.deepEqual(keys.filter((k) => !MATRIX[k]), [], 'routes without a matrix entry');
  assert.deepEqual(Object.keys(MATRIX).filter((k) => !keys.includes(k)), [], 'matrix entries without a route');
});

test('every route as every role, inside and outside its scope', async () => {
  const failures = [];
  for (const route of routes) {
    const entry = MATRIX[`${route.method} ${route.path}`];
    if (!entry || entry.public || entry.skip) continue;
    for (const role of ROLES) {
      const c = await srv.api(role);
      const capable = route.caps.every((cap) => cap === 'login' || c.user.caps.includes(cap));
      const denied = (entry.deny || []).includes(role); // refused by the handler: 403, or 404 when it may not even see
            for (const side of ['in', 'out']) {
        const spec = entry[side];
        if (!spec) continue;
        const { p, body, headers } = build(route, spec);
        const r = await c.call(route.method, p, body, { headers });
        const where = `${route.method} ${p} as ${role} (${side})`;
        if (r.status >= 500) failures.push(`${where}: ${r.status}`);
        if (!capable) {
          if (r.status !== 403) failures.push(`${where}: expected 403, got ${r.status}`);
          continue;
        }
        if (denied) {
          if (![403, 404].includes(r.status)) failures.push(`${where}: expected 403/404, got ${r.status}`);
          continue;
        }
        if (r.status === 401 || r.status === 403) {
          // a reporter's single-institution scope, a worker's or a partner's narrower one, may refuse here too
          if (side === 'in' && !['jg.dazhi', 'cun.dazhi', 'ngo.hubei'].includes(role)) failures.push(`${where}: refused ${r.status}`);
        }
        const scoped = !['admin', 'leader'].includes(role); // national roles see everything
        if (side === 'out' && scoped) {
          if (![403, 404, 422].includes(r.status) && !(r.status === 200 && !r.text.includes(SECRET) && !r.text.includes(String(ctx.instOut)) && route.method === 'GET'))
            failures.push(`${where}: out of scope answered ${r.status}`);
          if (r.text.includes(SECRET)) failures.push(`${where}: leaked ${SECRET}`);
        }
      }
    }
  }
  assert.deepEqual(failures, []);
  // nothing out of scope was written by the scoped roles (national roles may)
  const scopedActors = "('mz.jiangan', 'jg.dazhi', 'cun.dazhi', 'ngo.hubei')";
  assert.equal(sql(srv.db, `SELECT COUNT(*) FROM audit WHERE actor IN ${scopedActors} AND division_code LIKE '420111%'`), '0');
  assert.equal(sql(srv.db, `SELECT COUNT(*) FROM audit WHERE actor IN ${scopedActors} AND object_type = 'institution' AND object_id = '${ctx.instOut}'`), '0');
});
