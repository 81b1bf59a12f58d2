import fs from 'node:fs';
import path from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import { type Browser, type BrowserContext, type Page, chromium } from 'playwright-core';
import { DEMO_PASSWORD } from './server.js';

/**
 * Browser helpers for e2e tests: Debian's /usr/bin/chromium driven by playwright-core (never a
 * downloaded browser). Typical use:
 *
 *   const server = await startTestServer({ seed: 'admin' }); // serves dist/client: run `npm run build` first
 *   const m = await buildMeeting(server, { members: 2 });      // test/helpers/factories.ts
 *   const browser = await launchBrowser();
 *   const page = await newPage(browser, server.url, { viewport: VIEWPORTS.tablet });
 *   await loginAs(page, m.members[0]);                          // lands on the meeting list
 *   await screenshot(page, 'meeting-list', 'vi');      // docs/screenshots/meeting-list-vi.png
 *   await browser.close();
 */

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Viewports we design for: the meeting-room tablet / small laptop, and a phone. */
export const VIEWPORTS = {
  tablet: { width: 1024, height: 768 },
  phone: { width: 390, height: 844 },
} as const;

/**
 * Launches headless Chromium with the flags known to work here (ENVIRONMENT.md). Playwright gives
 * every launch a fresh temporary user-data directory (and removes it on close), so no state leaks
 * between tests. `fakeMedia` adds the fake camera/microphone flags for A/V tests.
 */
export async function launchBrowser(opts: { fakeMedia?: boolean; args?: string[] } = {}): Promise<Browser> {
  const args = [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
    ...(opts.fakeMedia ? ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'] : []),
    ...(opts.args ?? []),
  ];
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args });
}

/**
 * A fresh context (own cookies) with `baseURL` set to the test server, and one page in it.
 * Default viewport: 1024×768; `locale` sets the browser's Accept-Language (the app itself uses
 * the account's language after login).
 */
export async function newPage(
  browser: Browser,
  baseURL: string,
  opts: { viewport?: { width: number; height: number }; locale?: string; hasTouch?: boolean; offlineAuto?: boolean } = {},
): Promise<Page> {
  const context: BrowserContext = await browser.newContext({
    baseURL,
    viewport: opts.viewport ?? VIEWPORTS.tablet,
    locale: opts.locale ?? 'vi-VN',
    timezoneId: 'Asia/Ho_Chi_Minh',
    hasTouch: opts.hasTouch ?? false,
  });
  // The app downloads the next days' meetings for offline reading in the background after sign-in
  // (docs/OFFLINE.md); only the offline tests want that traffic.
  if (!opts.offlineAuto) await context.addInitScript(() => localStorage.setItem('ec-offline-auto', 'off'));
  return context.newPage();
}

/**
 * Signs in through the login form and waits for the meeting list (or `expectPath`).
 * Playwright's CSS/text locators pierce shadow roots, so Lit views need no special handling.
 */
export async function login(page: Page, username: string, { password = DEMO_PASSWORD, expectPath = /\/meetings/ } = {}): Promise<void> {
  await page.goto('/login');
  await page.locator('ec-login-view input[name="username"]').fill(username);
  await page.locator('ec-login-view input[name="password"]').fill(password);
  await page.locator('ec-login-view button[type="submit"]').click();
  await page.waitForURL(expectPath);
  await page.locator('[data-testid="current-user"]').waitFor({ state: 'attached' });
}

/** The one account the `seed: 'admin'` test server has (everything else is built by test/helpers/factories.ts). */
export const ADMIN = { username: 'admin', password: DEMO_PASSWORD } as const;

/** {@link login} as a user built by the factories (or {@link ADMIN}): signs in with its own username and password. */
export async function loginAs(page: Page, user: { username: string; password: string }, opts: { expectPath?: RegExp } = {}): Promise<void> {
  await login(page, user.username, { password: user.password, ...opts });
}

/** Signs out via the header button and waits for the login page. */
export async function logout(page: Page): Promise<void> {
  await page.locator('ec-app header button.logout').click();
  await page.waitForURL(/\/login/);
}

/**
 * Where screenshots go: `test-results/screenshots/` (git-ignored) on every test run, so a run never
 * rewrites tracked files; `docs/screenshots/` only when refreshed on purpose with `npm run screenshots`
 * (which sets ECABINET_SCREENSHOTS=docs).
 */
export const SCREENSHOT_DIR = path.resolve(
  import.meta.dirname,
  process.env.ECABINET_SCREENSHOTS === 'docs' ? '../../docs/screenshots' : '../../test-results/screenshots',
);
fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });

/**
 * Saves <SCREENSHOT_DIR>/<view>-<locale>.png (full page). Waits for web fonts first so the
 * Vietnamese glyphs are the self-hosted ones. Returns the file path.
 */
export async function screenshot(page: Page, view: string, locale: string): Promise<string> {
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.evaluate(() => document.fonts.ready.then(() => undefined));
  const file = path.join(SCREENSHOT_DIR, `${view}-${locale}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/**
 * Starts recording what goes wrong in a page: Content-Security-Policy violations (console) and
 * uncaught exceptions. Assert on the arrays at the end of a test, e.g. `expect(problems.csp).toEqual([])`.
 */
export function collectProblems(page: Page): { csp: string[]; errors: string[] } {
  const out = { csp: [] as string[], errors: [] as string[] };
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) out.csp.push(m.text());
  });
  page.on('pageerror', (e) => out.errors.push(e.message));
  return out;
}

/**
 * The page a reader sees in the live view's document viewer, by the viewer's own rule: the last page
 * box whose top is above 30 % of the scrolled view — negated when that box is not on screen, and NaN
 * while there is no viewer or it is between renders (not upgraded yet, its scroller not drawn), so
 * `until(async () => (await livePage(p)) === 5)` simply waits through a re-render.
 */
export async function livePage(page: Page): Promise<number> {
  const viewer = page.locator('ec-live-view ec-pdf-viewer');
  if ((await viewer.count()) !== 1) return Number.NaN;
  return viewer.evaluate((v) => {
    const sc = v.shadowRoot?.querySelector<HTMLElement>('.scroller');
    if (!sc) return Number.NaN;
    const top = sc.scrollTop + sc.clientHeight * 0.3;
    let n = 0;
    for (const pg of sc.querySelectorAll<HTMLElement>('.pg')) if (pg.offsetTop <= top) n = Number(pg.dataset.page);
    const box = sc.querySelector<HTMLElement>(`.pg[data-page="${n}"]`)?.getBoundingClientRect();
    const view = sc.getBoundingClientRect();
    return box && box.bottom > view.top && box.top < view.bottom ? n : -n;
  }, undefined, { timeout: 5_000 }).catch(() => Number.NaN);
}

/**
 * Drags with one finger from one viewport point to another (CDP touch events: Playwright has no
 * touch-drag API). The page's context must have `hasTouch: true`; scroll the target into view first.
 */
export async function touchDrag(page: Page, from: { x: number; y: number }, to: { x: number; y: number }, steps = 6): Promise<void> {
  const cdp = await page.context().newCDPSession(page);
  try {
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: [{ ...from, id: 1 }] });
    for (let i = 1; i <= steps; i++) {
      const p = { x: from.x + ((to.x - from.x) * i) / steps, y: from.y + ((to.y - from.y) * i) / steps };
      await cdp.send('Input.dispatchTouchEvent', { type: 'touchMove', touchPoints: [{ ...p, id: 1 }] });
    }
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
  } finally {
    await cdp.detach();
  }
}

/**
 * Touch-first check: visible buttons, links styled as buttons, tabs, selects and text inputs
 * (searched through every shadow root) smaller than `min` px in height or width. Returns short
 * descriptions of the offenders; expect an empty array.
 */
export async function smallTouchTargets(page: Page, min = 44): Promise<string[]> {
  // Passed as source text: transpilers that add helpers (tsx's __name) would break a function argument.
  return page.evaluate(`(() => {
    const min = ${Number(min)};
    const out = [];
    const visit = (root) => {
      for (const el of root.querySelectorAll('*')) {
        if (el.shadowRoot) visit(el.shadowRoot);
        const tag = el.tagName.toLowerCase();
        const isTarget = tag === 'button' || tag === 'select' || tag === 'textarea' ||
          (tag === 'input' && !['checkbox', 'radio', 'hidden'].includes(el.type)) ||
          (tag === 'a' && el.classList.contains('btn')) || el.getAttribute('role') === 'tab';
        if (!isTarget) continue;
        const r = el.getBoundingClientRect();
        if (r.width === 0 || r.height === 0 || getComputedStyle(el).visibility === 'hidden') continue;
        if (r.height < min - 0.5 || r.width < min - 0.5) {
          out.push(tag + (el.className ? '.' + el.className : '') + ' "' + (el.textContent || '').trim().slice(0, 30) + '" ' + Math.round(r.width) + 'x' + Math.round(r.height));
        }
      }
    };
    visit(document);
    return out;
  })()`);
}

/**
 * Nothing overflows sideways: the page itself must not scroll horizontally, no scrolling box may hide
 * content sideways (a tool row that scrolls is a cut-off row), and every visible control (button, link,
 * field, select) must lie inside the viewport. Searched through every shadow root; the PDF viewer's page
 * scroller is left out (a zoomed page may be wider than the screen on purpose). Returns short
 * descriptions of the offenders; expect an empty array.
 */
export async function horizontalOverflow(page: Page): Promise<string[]> {
  // Passed as source text: transpilers that add helpers (tsx's __name) would break a function argument.
  return page.evaluate(`(() => {
    const out = [];
    const vw = document.documentElement.clientWidth;
    if (document.documentElement.scrollWidth > vw + 1) out.push('page scrolls sideways: ' + document.documentElement.scrollWidth + ' > ' + vw);
    const name = (el) => el.tagName.toLowerCase() + (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\s+/).join('.') : '') + ' "' + (el.textContent || el.getAttribute('aria-label') || '').trim().slice(0, 30) + '"';
    const visit = (root) => {
      for (const el of root.querySelectorAll('*')) {
        if (el.shadowRoot) visit(el.shadowRoot);
        const r = el.getBoundingClientRect();
        if (r.width === 0 || r.height === 0) continue;
        const cs = getComputedStyle(el);
        if (cs.visibility === 'hidden') continue;
        if ((cs.overflowX === 'auto' || cs.overflowX === 'scroll') && el.scrollWidth > el.clientWidth + 1 && !el.classList.contains('scroller'))
          out.push('scrolls sideways: ' + name(el) + ' ' + el.scrollWidth + ' > ' + el.clientWidth);
        const tag = el.tagName.toLowerCase();
        const control = tag === 'button' || tag === 'a' || tag === 'select' || tag === 'textarea' || (tag === 'input' && el.type !== 'hidden');
        if (control && (r.right > vw + 1 || r.left < -1)) out.push('outside the screen: ' + name(el) + ' ' + Math.round(r.left) + '..' + Math.round(r.right));
      }
    };
    visit(document);
    return out;
  })()`);
}

/** Left out of every axe run: pdf.js's transparent text layer (selection only; thousands of spans made a run take a minute). */
export const AXE_ALWAYS_EXCLUDED = ['.textLayer'];

/**
 * Runs axe-core (WCAG 2.0/2.1 A and AA rules and best practices) over the page, shadow roots
 * included, and returns the serious and critical violations as short lines
 * (`rule: target — summary`). `exclude` takes CSS selectors to leave out (e.g. a third-party
 * canvas), matched inside every shadow root too (each match becomes axe's `fromShadowDom` chain),
 * in addition to {@link AXE_ALWAYS_EXCLUDED}. Expect an empty array: `expect(await axeViolations(page)).toEqual([])`.
 */
export async function axeViolations(page: Page, opts: { exclude?: string[] } = {}): Promise<string[]> {
  let builder = new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']);
  // Passed as source text: transpilers that add helpers (tsx's __name) would break a function argument.
  const chains = (await page.evaluate(`(() => {
    const selectors = ${JSON.stringify([...AXE_ALWAYS_EXCLUDED, ...(opts.exclude ?? [])])};
    const out = new Set();
    const visit = (root, hosts) => {
      for (const sel of selectors) if (root.querySelector(sel)) out.add(JSON.stringify([...hosts, sel]));
      for (const el of root.querySelectorAll('*')) if (el.shadowRoot) visit(el.shadowRoot, [...hosts, el.localName]);
    };
    visit(document, []);
    return [...out].map((s) => JSON.parse(s));
  })()`)) as string[][];
  for (const chain of chains) builder = builder.exclude(chain.length === 1 ? chain[0] : { fromShadowDom: chain as [string, string, ...string[]] });
  const result = await builder.analyze();
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .flatMap((v) => v.nodes.map((n) => `${v.id}: ${JSON.stringify(n.target)} — ${(n.failureSummary ?? v.help).replace(/\s+/g, ' ').slice(0, 200)}`));
}

/** Fails the test when axe-core finds serious or critical violations (see `axeViolations`). */
export async function expectAxeClean(page: Page, opts: { exclude?: string[]; label?: string } = {}): Promise<void> {
  const found = await axeViolations(page, opts);
  if (found.length) throw new Error(`axe-core: ${found.length} serious/critical violation(s)${opts.label ? ` on ${opts.label}` : ''}:\n${found.join('\n')}`);
}
