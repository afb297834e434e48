// Daily dispatch in the browser: a reporter on a phone fills today's report
// from the prefilled form, sees the server's rule errors, submits; a lost
// connection keeps the input and submits exactly once when back; an official's
// dashboard shows the same completeness as the API.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, cli, sql, DEMO_PASSWORD } from '../lib/server.mjs';
import { launch, watchedPage, login as loginAs } from './browser.mjs';

let srv, browser, instId, today;
const real = (problems) => problems.filter((p) => !/Failed to load resource|net::ERR_INTERNET_DISCONNECTED/.test(p));

before(async () => {
  srv = await startServer({ demo: true });
  browser = await launch();
  today = new Date().toLocaleDateString('sv-SE', { timeZone: 'Asia/Shanghai' });
  // the demo leaves 武汉市江岸区社会福利院 without today's report; give it a reporter
  instId = Number(sql(srv.db, "SELECT id FROM institutions WHERE name = '武汉市江岸区社会福利院'"));
  const r = cli(['user', 'add', '--db', srv.db, '--login', 'jg.fly', '--role', 'reporter', '--institution', String(instId)], { input: DEMO_PASSWORD + '\n' });
  assert.equal(r.status, 0, r.stderr);
});
after(async () => { await browser?.close(); await srv?.stop(); });

const login = (page, who) => loginAs(page, srv.base, who);

test('a reporter files today\'s report on a phone; rule errors come from the server', async () => {
  const { context, page, problems } = await watchedPage(browser, { viewport: { width: 390, height: 800 }, isMobile: true, hasTouch: true });
  await login(page, 'jg.fly');
  await page.goto(srv.base + '/#/report');
  await page.waitForSelector('input[name=residents_present]');
  assert.equal(await page.textContent('.period'), today);
  const prefilled = await page.inputValue('input[name=residents_present]');
  assert.ok(Number(prefilled) > 0, 'prefilled from yesterday');
  assert.equal(await page.inputValue('input[name=new_infected]'), '', "today's events are not carried over");
  await page.fill('input[name=new_infected]', '1');
  await page.fill('input[name=currently_infected]', '2');
  await page.fill('input[name=severe_cases]', '5');
  await page.click('button[name=submit]');
  await page.waitForSelector('.rules p.error');
  assert.match(await page.textContent('.rules'), /重症人数不能多于现有感染人数/);
  assert.equal(sql(srv.db, `SELECT COUNT(*) FROM reports WHERE institution_id = ${instId} AND period = '${today}'`), '0');
  await page.fill('input[name=severe_cases]', '1');
  await page.click('button[name=submit]');
  await page.waitForFunction(() => document.querySelector('.chip') && /已提交/.test(document.querySelector('.chip').textContent));
  assert.equal(sql(srv.db, `SELECT status FROM reports WHERE institution_id = ${instId} AND period = '${today}'`), 'submitted');
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth) <= 390);
  assert.deepEqual(real(problems), []);
  await context.close();
});

test('offline: the input is kept and submitted exactly once when the connection is back', async () => {
  const { context, page, problems } = await watchedPage(browser, { viewport: { width: 390, height: 800 }, isMobile: true });
  await login(page, 'jg.fly');
  await page.goto(srv.base + '/#/report');
  await page.waitForSelector('input[name=residents_present]');
  await page.waitForFunction(() => /已提交/.test(document.querySelector('.chip').textContent));
  const v0 = Number(sql(srv.db, `SELECT version FROM reports WHERE institution_id = ${instId} AND period = '${today}'`));
  await context.setOffline(true);
  await page.fill('input[name=fever_today]', '3');
  await page.dispatchEvent('input[name=fever_today]', 'change');
  await page.click('button[name=submit]');
  await page.waitForFunction(() => /网络已断开/.test(document.querySelector('.message').textContent));
  // the draft survives a reload while offline
  const saved = await page.evaluate(() => Object.keys(localStorage).filter((k) => /^cw\.u\d+\.draft\./.test(k)).length);
  assert.equal(saved, 1);
  assert.equal(Number(sql(srv.db, `SELECT version FROM reports WHERE institution_id = ${instId} AND period = '${today}'`)), v0);
  await context.setOffline(false);
  await page.waitForFunction(() => /已提交/.test(document.querySelector('.message').textContent), null, { timeout: 10000 });
  await page.waitForTimeout(500);
  assert.equal(Number(sql(srv.db, `SELECT version FROM reports WHERE institution_id = ${instId} AND period = '${today}'`)), v0 + 1, 'submitted once');
  assert.equal(sql(srv.db, `SELECT vals FROM reports WHERE institution_id = ${instId} AND period = '${today}'`).includes('"fever_today":3'), true);
  assert.equal(await page.evaluate(() => Object.keys(localStorage).filter((k) => /^cw\.u\d+\.draft\./.test(k)).length), 0);
  assert.deepEqual(real(problems), []);
  await context.close();
});

test('the official\'s dashboard shows the completeness the API reports, and drills down', async () => {
  const { context, page, problems } = await watchedPage(browser, { viewport: { width: 1280, height: 900 } });
  await login(page, 'mz.wuhan');
  await page.click('nav.side a[href="#/dashboard"]');
  await page.waitForSelector('table.drill tbody tr');
  const api = await (await srv.api('mz.wuhan')).get(`/api/v1/completeness?template=elderly-daily-2022&period=${today}&division=4201`);
  const tiles = await page.locator('.tiles').first().locator('.v').allTextContents();
  assert.deepEqual(tiles.map(Number), [api.body.division.expected, api.body.division.submitted, api.body.division.late, api.body.division.missing]);
  await page.click('table.drill a:text("江岸区")');
  await page.waitForFunction(() => [...document.querySelectorAll('.crumbs a')].some((a) => a.textContent === '江岸区'));
  assert.deepEqual(real(problems), []);
  await context.close();
});
