// The foundation's main journey in a real browser (Debian's Chromium): log in,
// register an institution, find it in the list; the server's field errors
// appear beside the fields; no script errors and no CSP violations; usable at
// 360 px.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, newUscc, DEMO_PASSWORD } from '../lib/server.mjs';
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

// Chromium reports every 4xx answer as a console error; those are expected
// replies of the API. Anything else (script errors, CSP refusals) is a defect.
const real = (problems) => problems.filter((p) => !/Failed to load resource: the server responded with a status of 4\d\d/.test(p));

const login = (page, who) => loginAs(page, srv.base, who);

test('log in, register an institution, find it in the list', async () => {
  const { context, page, problems } = await watchedPage(browser, { viewport: { width: 1280, height: 900 } });
  await login(page, 'mz.jiangan');
  await page.click('nav.side a[href="#/institutions"]');
  await page.waitForSelector('table.list tbody tr');
  await page.click('a[href="#/institutions/new"]');
  await page.waitForSelector('form.form input[name=name]');
  const name = '浏览器测试养老院' + Date.now() % 100000;
  await page.fill('input[name=name]', name);
  // first a wrong credit code: the server's message shows beside the field
  await page.fill('input[name=uscc]', '91350100M000100Y44');
  await page.selectOption('select[name=division_0]', '420102002');
  await page.fill('input[name=beds]', '66');
  await page.click('button[name=save]');
  const err = page.locator('.field-error[data-field=uscc]');
  await err.waitFor({ state: 'visible' });
  assert.match(await err.textContent(), /校验码/);
  // then a valid one: saved, and the detail page shows it
  await page.fill('input[name=uscc]', newUscc('420102'));
  await page.click('button[name=save]');
  await page.waitForSelector('dl.facts');
  assert.equal((await page.textContent('h1')).trim(), name);
  assert.ok((await page.textContent('dl.facts')).includes('大智街道'));
  // find it in the list by searching its name
  await page.goto(srv.base + '/#/institutions');
  await page.waitForSelector('table.list');
  await page.fill('input[name=q]', name);
  await page.press('input[name=q]', 'Enter');
  await page.waitForFunction((n) => {
    const names = [...document.querySelectorAll('table.list a.name')].map((a) => a.textContent);
    return names.length === 1 && names[0] === n;
  }, name);
  assert.deepEqual(real(problems), []);
  await context.close();
});

test('the menu follows the role, and a reporter cannot edit', async () => {
  const { context, page, problems } = await watchedPage(browser, { viewport: { width: 1280, height: 900 } });
  await login(page, 'jg.dazhi');
  const links = await page.locator('nav.side a').allTextContents();
  assert.deepEqual(links.map((s) => s.trim()), ['首页', '每日填报', '需求清单', '机构底数']);
  await page.click('nav.side a[href="#/institutions"]');
  await page.waitForSelector('table.list tbody tr');
  assert.equal(await page.locator('table.list tbody tr').count(), 1);
  assert.equal(await page.locator('a[href="#/institutions/new"]').isVisible(), false);
  const admin = await watchedPage(browser, { viewport: { width: 1280, height: 900 } });
  await login(admin.page, 'admin');
  const adminLinks = (await admin.page.locator('nav.side a').allTextContents()).map((s) => s.trim());
  assert.ok(adminLinks.includes('用户管理'));
  assert.deepEqual(real(problems), []);
  assert.deepEqual(real(admin.problems), []);
  await admin.context.close();
  await context.close();
});

test('names containing HTML are shown as text, never run', async () => {
  const c = await srv.api('mz.jiangan');
  const evil = '<img src=x onerror="window.__pwned=1">"><script>window.__pwned=2</script>';
  const r = await c.post('/api/v1/institutions', { name: evil.slice(0, 100), uscc: newUscc('420102'), type: 'other', ownership: 'public', division_code: '420102' });
  assert.equal(r.status, 201);
  const { context, page, problems } = await watchedPage(browser, { viewport: { width: 1280, height: 900 } });
  await login(page, 'mz.jiangan');
  await page.goto(srv.base + '/#/institutions/' + r.body.id);
  await page.waitForSelector('dl.facts');
  assert.equal((await page.textContent('h1')).trim(), evil.slice(0, 100));
  assert.equal(await page.evaluate(() => window.__pwned), undefined);
  assert.equal(await page.locator('h1 img, h1 script').count(), 0);
  assert.deepEqual(real(problems), []);
  await context.close();
});

test('usable on a 360 px phone: no horizontal scrolling, list as cards', async () => {
  const { context, page, problems } = await watchedPage(browser, { viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true });
  await page.goto(srv.base + '/');
  await page.waitForSelector('form.login');
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth) <= 360);
  await login(page, 'mz.wuhan');
  await page.goto(srv.base + '/#/institutions');
  await page.waitForSelector('table.list tbody tr');
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth) <= 360, 'list fits');
  assert.equal(await page.locator('table.list thead').isVisible(), false, 'rows are cards on a phone');
  await page.goto(srv.base + '/#/institutions/new');
  await page.waitForSelector('form.form input[name=name]');
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth) <= 360, 'form fits');
  assert.deepEqual(real(problems), []);
  await context.close();
});

test('switching to English and back', async () => {
  const { context, page, problems } = await watchedPage(browser, { viewport: { width: 1280, height: 900 } });
  await page.goto(srv.base + '/');
  await page.waitForSelector('form.login');
  await page.click('button.lang');
  await page.waitForFunction(() => document.querySelector('form.login h2').textContent === 'Sign in');
  await page.click('button.lang');
  await page.waitForFunction(() => document.querySelector('form.login h2').textContent === '用户登录');
  // coded values (institution type and status) follow the language, not the server's Chinese labels
  await login(page, 'mz.wuhan');
  await page.goto(srv.base + '/#/institutions');
  await page.waitForSelector('table.list tbody tr');
  const typeCell = () => page.locator('table.list tbody tr td:nth-child(2)').first().textContent();
  assert.match(await typeCell(), /[\u4e00-\u9fff]/, 'Chinese first');
  await page.click('button.lang');
  await page.waitForFunction(() => !/[\u4e00-\u9fff]/.test(document.querySelector('table.list tbody tr td:nth-child(2)').textContent));
  assert.match(await typeCell(), /institution|Other/);
  const statusText = await page.locator('table.list tbody tr').first().locator('span').last().textContent();
  assert.doesNotMatch(statusText, /[\u4e00-\u9fff]/, statusText);
  await page.click('button.lang');
  await page.waitForFunction(() => /[\u4e00-\u9fff]/.test(document.querySelector('table.list tbody tr td:nth-child(2)').textContent));
  assert.deepEqual(real(problems), []);
  await context.close();
});
