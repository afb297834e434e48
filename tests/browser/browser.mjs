// browser.mjs — Debian's Chromium driven by playwright-core, with the flags this
// machine needs (no sandbox as root, no background networking).
import { chromium } from 'playwright-core';

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
}

/* A page that records console errors, page errors and CSP violations. */
export async function watchedPage(browser, opts = {}) {
  const context = await browser.newContext({ locale: 'zh-CN', ...opts });
  const page = await context.newPage();
  const problems = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push('console: ' + m.text()); });
  page.on('pageerror', (e) => problems.push('pageerror: ' + e.message));
  return { context, page, problems };
}

/* Logs in through the login form and waits for the application shell. */
export async function login(page, base, who, password = 'carewatch2026') {
  await page.goto(base + '/');
  await page.waitForSelector('form.login');
  await page.fill('input[name=login]', who);
  await page.fill('input[name=password]', password);
  await page.click('form.login button[type=submit]');
  await page.waitForSelector('header.top');
}
