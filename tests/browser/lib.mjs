// tests/browser/lib.mjs: shared helpers for the headless-Chromium tests (Debian's chromium through playwright-core).
//
// Browser scripts are started by pytest (tests/integration/test_browser_*.py) with the panel
// URL and credentials on the command line, so they reuse the Python fixtures. A script
// exits 0 when every check passed; any thrown error prints and exits 1 (see run()).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.YUBIN_CHROMIUM || '/usr/bin/chromium';

// Flags for a quiet, network-free headless Chromium running as root (no sandbox as root;
// nothing that phones home, since the machine has no network).
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

// Launch Chromium with a fresh user-data directory (removed by close()). Answers
// { context, page, close }. `opts.locale` sets Accept-Language (default 'ja-JP').
export async function launch(opts = {}) {
  const userDataDir = mkdtempSync(join(tmpdir(), 'yubin-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    locale: opts.locale || 'ja-JP',
    viewport: opts.viewport || { width: 1280, height: 900 },
    // Pages must work without JavaScript (SPEC §2); a test can prove it by turning it off.
    javaScriptEnabled: opts.javaScriptEnabled !== undefined ? opts.javaScriptEnabled : true,
  });
  context.setDefaultTimeout(opts.timeout || 15000);
  const page = context.pages()[0] || await context.newPage();
  const close = async () => {
    try { await context.close(); } finally { rmSync(userDataDir, { recursive: true, force: true }); }
  };
  return { context, page, close };
}

// Throws with a message when cond is false.
export function check(cond, msg) {
  if (!cond) throw new Error('check failed: ' + msg);
}

// Sign in on /admin/login or /mail/login and wait for the landing page.
export async function signIn(page, base, side, login, password) {
  await page.goto(`${base}/${side}/login`);
  await page.fill('input[name=username]', login);
  await page.fill('input[name=password]', password);
  await Promise.all([page.waitForLoadState('load'), page.click('form button[type=submit]')]);
  check(!page.url().endsWith('/login'), `still on the login page after signing in as ${login}: ${page.url()}`);
}

// Click the logout button in the page header.
export async function signOut(page) {
  await Promise.all([page.waitForLoadState('load'), page.click('header form.logout button[type=submit]')]);
}

// Text of the page's main element (what a person reads).
export async function mainText(page) {
  return (await page.textContent('main')) || '';
}

// Run an async test body: exit 0 on success, print the error and exit 1 on failure, and
// always close the browser the body launched through the given session.
export async function run(body) {
  let session = null;
  const open = async (opts) => { session = await launch(opts); return session; };
  try {
    await body(open);
    if (session) await session.close();
    process.exit(0);
  } catch (e) {
    console.error(e && e.stack ? e.stack : e);
    if (session) {
      try { console.error('at ' + session.page.url()); } catch (_) { /* closed already */ }
      await session.close().catch(() => {});
    }
    process.exit(1);
  }
}
