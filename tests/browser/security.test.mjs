// security.test.mjs — hostile text everywhere a user can write it (institution
// names, addresses and contacts, user names, report free text, review reasons,
// needs, difficulties, persons, visits, when those exist), then every page each
// role can reach is visited by following the links the UI itself shows. The test
// fails if any injected script or handler runs, if the page reports a
// Content-Security-Policy violation, or if the hostile text is not shown as text.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, sql, newUscc } from '../lib/server.mjs';
import { launch, login as loginAs } from './browser.mjs';

let srv, browser, personSeeded = false;
// each vector calls window.__pwn if it ever runs
const EVIL = '<img src=x onerror=__pwn(1)><svg onload=__pwn(2)><script>__pwn(3)</script>';
const SHORT = '<b onmouseover=__pwn(4)>x</b><img src=x onerror=__pwn(5)>';
const today = new Date().toLocaleDateString('sv-SE', { timeZone: 'Asia/Shanghai' });

before(async () => {
  srv = await startServer({ demo: true });
  browser = await launch();
  const off = await srv.api('mz.jiangan');
  const inst = await off.post('/api/v1/institutions', { name: ('机构' + EVIL).slice(0, 100), uscc: newUscc('420102'), type: 'elderly_care', ownership: 'public', division_code: '420102', address: EVIL, contact_name: SHORT.slice(0, 50), contact_phone: '13800138000' });
  assert.equal(inst.status, 201, inst.text);
  const admin = await srv.api('admin');
  const u = await admin.post('/api/v1/users', { login: 'evil.user', name: SHORT.slice(0, 50), role: 'official', scope: '420102', password: 'carewatch2026' });
  assert.ok(u.status === 201 || u.status === 200, u.text);
  // a report with hostile free text, returned with a hostile reason
  const dazhi = Number(sql(srv.db, "SELECT institution_id FROM users WHERE login = 'jg.dazhi'"));
  const rep = await srv.api('jg.dazhi');
  const put = await rep.put(`/api/v1/reports/elderly-daily-2022/${dazhi}/${today}`, { client_key: 'security-test-1', status: 'submitted', values: { residents_present: 30, staff_on_duty: 8, closed_management: false, new_infected: 0, currently_infected: 0, severe_cases: 0, difficulties: EVIL, urgent_needs: EVIL, suggestions: SHORT }, confirm_warnings: true });
  assert.ok(put.status === 200 || put.status === 201, put.text);
  const rev = await off.post(`/api/v1/reports/elderly-daily-2022/${dazhi}/${today}/review`, { action: 'return', reason: SHORT });
  assert.equal(rev.status, 200, rev.text);
  // later capabilities: seed them when their routes exist
  const needs = await off.post('/api/v1/difficulties', { institution_id: dazhi, category: 'supplies', text: EVIL });
  if (needs.status !== 404) assert.equal(needs.status, 201, needs.text);
  const need = await off.post('/api/v1/needs', { institution_id: dazhi, item: 'antipyretic', quantity: 10, urgency: 'urgent', needed_by: today, note: EVIL });
  if (need.status !== 404) assert.equal(need.status, 201, need.text);
  const person = await (await srv.api('cun.dazhi')).post('/api/v1/persons', { name: SHORT.slice(0, 30), citizen_id: '11010519491231002X', categories: ['isolated_elderly'], division_code: '420102002', address: EVIL, phone: '13800138000', guardian: SHORT, chronic_disease: 'none', vaccination: 'full', situation: 'at_home' });
  if (person.status !== 404) {
    assert.equal(person.status, 201, person.text);
    personSeeded = true;
    const v = await (await srv.api('cun.dazhi')).post(`/api/v1/persons/${person.body.id}/visits`, { date: today, mode: 'phone', findings: EVIL, help: EVIL, follow_up: SHORT });
    assert.equal(v.status, 201, v.text);
  }
});
after(async () => { await browser?.close(); await srv?.stop(); });

/* Visits every page reachable by links from the start page as `who`; returns
 * the pages visited. Fails on any script run, CSP violation or page error. */
async function crawl(who, { mobile = false } = {}) {
  const context = await browser.newContext({ locale: 'zh-CN', viewport: mobile ? { width: 360, height: 740 } : { width: 1280, height: 900 } });
  const page = await context.newPage();
  const pwned = [], problems = [];
  await page.exposeFunction('__pwn', (n) => pwned.push(n));
  await page.addInitScript(() => {
    window.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));
  });
  page.on('pageerror', (e) => problems.push('pageerror: ' + e.message));
  await loginAs(page, srv.base, who);
  const seen = new Set(), queue = ['#/'];
  let shownAsText = 0;
  while (queue.length && seen.size < 60) {
    const h = queue.shift();
    if (seen.has(h)) continue;
    seen.add(h);
    await page.goto(srv.base + '/' + h);
    await page.waitForLoadState('networkidle');
    await page.waitForTimeout(150);
    // hostile text on this page is text, not elements
    const text = await page.evaluate(() => document.body.innerText);
    if (text.includes('__pwn(')) shownAsText++;
    assert.equal(await page.locator('main img[src="x"], main svg[onload], main script, main b[onmouseover]').count(), 0, `${who} ${h}: hostile markup became elements`);
    const links = await page.evaluate(() => [...document.querySelectorAll('a[href^="#/"]')].map((a) => a.getAttribute('href')));
    for (const l of links) if (!seen.has(l) && !/\/edit$|\/new$|logout/.test(l)) queue.push(l);
    const csp = await page.evaluate(() => window.__csp.splice(0));
    assert.deepEqual(csp, [], `${who} ${h}: CSP violations`);
  }
  assert.deepEqual(pwned, [], `${who}: injected script ran`);
  assert.deepEqual(problems, [], `${who}: page errors`);
  await context.close();
  return { pages: seen.size, shownAsText };
}

test('hostile text on every page an official reaches is shown as text and never runs', async () => {
  const r = await crawl('mz.jiangan');
  console.log(`# mz.jiangan: ${r.pages} pages, hostile text shown on ${r.shownAsText}`);
  assert.ok(r.pages >= 5, `visited ${r.pages} pages`);
  assert.ok(r.shownAsText >= 1, 'the hostile text was displayed somewhere (as text)');
});

test('… and for the admin, the provincial official, the reporter (on a phone), the worker and the partner', async () => {
  for (const [who, mobile] of [['admin', false], ['mz.hubei', false], ['jg.dazhi', true], ['cun.dazhi', true], ['ngo.hubei', false]]) {
    const r = await crawl(who, { mobile });
    assert.ok(r.pages >= (who === 'admin' || who === 'mz.hubei' ? 5 : 1), `${who}: visited ${r.pages} pages`);
    console.log(`# ${who}: ${r.pages} pages, hostile text shown on ${r.shownAsText}`);
    if (who === 'cun.dazhi' && personSeeded) assert.ok(r.shownAsText >= 1, 'the worker saw the hostile person record, as text');
  }
});
