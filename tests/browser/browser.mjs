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
