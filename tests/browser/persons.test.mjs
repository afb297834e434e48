// People at home in a real browser: a township worker on a phone sees who is
// overdue, records a visit in a few taps, and a visit recorded without a
// connection is kept on the phone and sent once when the connection is back;
// an official registers a person (the server's citizen-ID message beside the
// field) and reads coverage, the gap check and unpaid subsidies.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, sql, newCid } from '../lib/server.mjs';
import { launch, watchedPage, login as loginAs } from './browser.mjs';

let srv, browser;
before(async () => {
  srv = await startServer({ demo: true });
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await srv?.stop();
});

const real = (problems) => problems.filter((p) => !/Failed to load resource: the server responded with a status of (4\d\d)/.test(p) && !/ERR_INTERNET_DISCONNECTED/.test(p));
const visits = (id) => Number(sql(srv.db, `SELECT COUNT(*) FROM visits WHERE person_id = ${id}`));

test('a worker on a phone: overdue today, a visit in a few taps, and one recorded offline is sent once', async () => {
  const { context, page, problems } = await watchedPage(browser, { viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true });
  await loginAs(page, srv.base, 'cun.dazhi');
  await page.click('button.menu-btn');
  await page.click('nav.side a[href="#/visits"]');
  await page.waitForSelector('.tasks.overdue .task-list li a.name');
  const first = page.locator('.tasks.overdue .task-list li a.name').first();
  const href = await first.getAttribute('href');
  const id = Number(href.split('/').pop());
  const before = visits(id);
  await first.click();
  await page.waitForSelector('form.visit-form');
  // a few taps: the mode, one finding, save
  await page.click('button[name="mode-phone"]');
  await page.fill('input[name=health]', '精神好，血压正常');
  await page.click('button[name=record]');
  await page.waitForFunction(() => /已记录/.test(document.querySelector('form.visit-form [role=status]')?.textContent || ''));
  assert.equal(visits(id), before + 1);
  assert.equal(sql(srv.db, `SELECT mode FROM visits WHERE person_id = ${id} ORDER BY id DESC LIMIT 1`), 'phone');
  await page.waitForSelector('table.visits tbody tr');

  // the draft survives leaving the page
  await page.fill('input[name=help]', '送来米和油');
  await page.goto(srv.base + '/#/visits');
  await page.waitForSelector('.tasks.overdue');
  await page.goto(srv.base + '/' + href);
  await page.waitForSelector('form.visit-form');
  assert.equal(await page.inputValue('input[name=help]'), '送来米和油');

  // the connection drops: the visit is kept on the phone ...
  await context.setOffline(true);
  await page.click('button[name="mode-in_person"]');
  await page.click('button[name=record]');
  await page.waitForFunction(() => /保存在本机/.test(document.querySelector('form.visit-form [role=status]')?.textContent || ''));
  // the outbox is the signed-in worker's own (cw.u<user id>.visit.outbox)
  const outboxKey = await page.evaluate(() => Object.keys(localStorage).find((k) => /^cw\.u\d+\.visit\.outbox$/.test(k)) || '');
  assert.notEqual(outboxKey, '');
  const queued = await page.evaluate((k) => JSON.parse(localStorage.getItem(k) || '[]'), outboxKey);
  assert.equal(queued.length, 1);
  assert.equal(visits(id), before + 1, 'nothing reached the server');
  // ... and sent once when the connection is back
  await context.setOffline(false);
  await page.waitForFunction((k) => !localStorage.getItem(k), outboxKey, { timeout: 10000 });
  assert.equal(visits(id), before + 2);
  assert.equal(sql(srv.db, `SELECT help FROM visits WHERE person_id = ${id} ORDER BY id DESC LIMIT 1`), '送来米和油');
  // a second flush (another online event) stores nothing more
  await page.evaluate(() => window.cwVisitOutbox.flush());
  assert.equal(visits(id), before + 2);
  // masked for a worker without the personal-data permission
  const facts = await page.textContent('dl.facts');
  assert.match(facts, /\d{4}\*{10}\d{3}[\dX]/);
  assert.deepEqual(real(problems), []);
  await context.close();
});

test('an official registers a person, sees coverage, the gap check and unpaid subsidies', async () => {
  const { context, page, problems } = await watchedPage(browser, { viewport: { width: 1280, height: 900 } });
  await loginAs(page, srv.base, 'mz.jiangan');
  await page.click('nav.side a[href="#/people"]');
  await page.waitForSelector('table.people tbody tr');
  await page.click('a[href="#/people/new"]');
  await page.waitForSelector('form.form input[name=citizen_id]');
  const name = '浏览器登记对象' + (Date.now() % 10000);
  await page.fill('input[name=name]', name);
  const cid = newCid('19380808', 'M');
  await page.fill('input[name=citizen_id]', cid.slice(0, 17) + (cid[17] === '1' ? '2' : '1'));
  await page.check('input[name=category][value=isolated_elderly]');
  await page.selectOption('select[name=division_0]', '420102002');
  await page.selectOption('select[name=chronic_disease]', 'unstable');
  await page.click('button[name=save]');
  const err = page.locator('.field-error[data-field=citizen_id]');
  await err.waitFor({ state: 'visible' });
  assert.match(await err.textContent(), /校验码/);
  await page.fill('input[name=citizen_id]', cid);
  await page.click('button[name=save]');
  await page.waitForSelector('dl.facts');
  assert.equal((await page.textContent('h1')).trim(), name);
  assert.match(await page.textContent('.title-row'), /红色|黄色/);
  assert.ok(!(await page.textContent('dl.facts')).includes(cid), 'masked for an official without the permission');
  await page.click('nav.side a[href="#/coverage"]');
  await page.waitForSelector('table.coverage-area tbody tr');
  assert.match(await page.textContent('table.coverage-area'), /大智街道/);
  assert.match(await page.textContent('table.coverage-cat'), /孤寡老人/);
  assert.match(await page.textContent('.gaps'), /登记后从未走访/);
  assert.ok((await page.textContent('.gaps')).includes(name), 'the new person has not been visited yet');
  await page.waitForSelector('table.unpaid tbody tr');
  assert.deepEqual(real(problems), []);
  await context.close();
});
