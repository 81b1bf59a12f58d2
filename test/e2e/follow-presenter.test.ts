import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VIEWPORTS, axeViolations, collectProblems, launchBrowser, livePage, loginAs, newPage, screenshot, smallTouchTargets } from '../helpers/browser.js';
import { buildMeeting } from '../helpers/factories.js';
import { type TestServer, startTestServer, until } from '../helpers/server.js';
import { connectSocket, connected } from '../helpers/socket.js';
import { pdf, upload } from '../integration/documents-helpers.js';

/**
 * Follow the presenter in three browsers at once, on a meeting of the test's own: the chair presents
 * a 14-page document from the member's live view; member1 (tablet, Vietnamese) and member2 (phone,
 * English) follow. What is checked is what a reader sees: which page is in the viewer's scrolled
 * view and how wide the page is drawn — not only the `page` attribute (which moved before while the
 * page on screen did not).
 */

let server: TestServer;
let browser: Browser;
let chair: Page;
let tablet: Page;
let phone: Page;
let meetingId: number;
const problems: ReturnType<typeof collectProblems>[] = [];

const tid = (page: Page, id: string) => page.locator(`[data-testid="${id}"]`).first();
const viewer = (page: Page) => page.locator('ec-live-view ec-pdf-viewer');


/** How wide the visible page is drawn, relative to the width fit-to-width would give it (1 = fit width). */
const drawnZoom = (page: Page) =>
  viewer(page).evaluate((v) => {
    const sc = v.shadowRoot!.querySelector<HTMLElement>('.scroller')!;
    const pg = sc.querySelector<HTMLElement>('.pg')!;
    return pg.offsetWidth / (sc.clientWidth - 28);
  });

/** Resolves once the viewer's scroll position has stopped moving (a wheel scroll may be animated): 10 frames unchanged. */
const scrollSettled = (page: Page) =>
  viewer(page).evaluate(
    (v) =>
      new Promise<void>((resolve) => {
        const sc = v.shadowRoot!.querySelector<HTMLElement>('.scroller')!;
        let last = -1;
        let same = 0;
        const tick = () => {
          same = sc.scrollTop === last ? same + 1 : 0;
          last = sc.scrollTop;
          if (same >= 10) resolve();
          else requestAnimationFrame(tick);
        };
        requestAnimationFrame(tick);
      }),
  );

const viewerReady = (page: Page) =>
  until(async () => (await viewer(page).count()) > 0 && !(await viewer(page).locator('input[name="page"]').isDisabled()), { what: 'viewer ready', timeout: 30_000 });

/**
 * The three live views open with the chair presenting the document (whichever test runs first does
 * it; under `--sequence.shuffle` either may).
 */
async function presenting(): Promise<void> {
  for (const p of [chair, tablet, phone]) if (!p.url().endsWith(`/meetings/${meetingId}/live`)) await p.goto(`/meetings/${meetingId}/live`);
  await tid(chair, 'present').waitFor();
  if (!(await tid(chair, 'present').isChecked())) {
    const select = tid(chair, 'doc-select');
    await until(async () => (await select.locator('option').count()) > 1, { what: 'document list' });
    await select.selectOption({ index: 1 });
    await viewerReady(chair);
    await tid(chair, 'present').check();
  }
  for (const p of [tablet, phone]) {
    await expect.poll(() => tid(p, 'presenter-page').count(), { timeout: 15_000 }).toBe(1);
    await viewerReady(p);
  }
}

beforeAll(async () => {
  server = await startTestServer({ seed: 'admin' });
  const m = await buildMeeting(server, { members: 2, agendaItems: 2, title: 'Họp theo dõi người trình bày' });
  const secretary = await m.as('secretary');
  meetingId = m.meetingId;
  const up = await upload(secretary, meetingId, m.itemIds[0], pdf('tracemonkey.pdf'), 'tracemonkey.pdf', { title: 'Báo cáo tổng hợp', access: 'all', published: 'true' });
  expect(up.status, JSON.stringify(up.body)).toBeLessThan(300);
  const s = await connected(connectSocket(server.url, await m.as('chair')));
  expect((await s.cmd('meeting:open', { meetingId, overrideReason: 'kiểm thử' })).ok).toBe(true);
  s.close();
  browser = await launchBrowser();
  [chair, tablet, phone] = await Promise.all([
    newPage(browser, server.url, { viewport: VIEWPORTS.tablet }),
    newPage(browser, server.url, { viewport: VIEWPORTS.tablet, hasTouch: true }),
    newPage(browser, server.url, { viewport: VIEWPORTS.phone, hasTouch: true, locale: 'en-GB' }),
  ]);
  for (const p of [chair, tablet, phone]) problems.push(collectProblems(p));
  await Promise.all([loginAs(chair, m.chair), loginAs(tablet, m.members[0]), loginAs(phone, m.members[1])]);
  await phone.locator('ec-language-switch button[lang="en"]').first().click();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

// One journey in steps: they share the browsers, the server and the meeting, and run in the order written
// (CI shuffles the files and the unit and integration tests; see scripts/test.sh).
describe('follow the presenter in the browser', { shuffle: false }, () => {
  it('the presenter moves page and zoom: each follower shows the same page, drawn at the same relative width; a follower who scrolls away sees a banner and returns with one tap', async () => {
    // The chair picks the document and presents it.
    await presenting();

    // Page 5 on the presenter's tablet → page 5 on screen for both followers.
    // Each follower notes (in the page, by its own clock: same machine) when page 5 first reaches its screen.
    for (const p of [tablet, phone]) await viewer(p).evaluate((v) => {
      const sc = v.shadowRoot!.querySelector<HTMLElement>('.scroller')!;
      const w = window as unknown as { reachedAt?: number };
      delete w.reachedAt;
      const check = () => {
        const pg = sc.querySelector<HTMLElement>('.pg[data-page="5"]')!;
        if (w.reachedAt == null && Math.abs(sc.scrollTop - pg.offsetTop) < sc.clientHeight * 0.3) w.reachedAt = Date.now();
      };
      sc.addEventListener('scroll', check);
    });
    const pageInput = viewer(chair).locator('input[name="page"]');
    await pageInput.fill('5');
    const sent = await chair.evaluate(() => Date.now());
    await pageInput.press('Enter');
    await until(async () => (await livePage(tablet)) === 5, { what: 'tablet shows page 5', timeout: 15_000 });
    await until(async () => (await livePage(phone)) === 5, { what: 'phone shows page 5', timeout: 15_000 });
    const lag = await Promise.all([tablet, phone].map((p) => p.evaluate(() => (window as unknown as { reachedAt: number }).reachedAt)));
    console.log(`follow the presenter: page 5 on the followers' screens ${lag.map((t) => t - sent).join(' ms, ')} ms after the presenter pressed Enter`);
    expect(await livePage(chair)).toBe(5);
    await expect.poll(() => viewer(tablet).getAttribute('page')).toBe('5');
    await expect.poll(() => tid(tablet, 'my-page').textContent()).toContain('5');

    // The presenter zooms in twice: followers draw the page at the same width relative to fit-width.
    const zoomIn = viewer(chair).locator('button[title="Phóng to"]');
    await zoomIn.click();
    await zoomIn.click();
    const presenterZoom = Number(await viewer(chair).getAttribute('data-zoom'));
    expect(presenterZoom).toBeGreaterThan(1.1);
    for (const p of [tablet, phone]) {
      await expect.poll(async () => Number(await viewer(p).getAttribute('data-zoom')), { timeout: 10_000 }).toBeCloseTo(presenterZoom, 2);
      await expect.poll(() => drawnZoom(p), { timeout: 10_000 }).toBeGreaterThan(presenterZoom - 0.05);
      expect(await drawnZoom(p)).toBeLessThan(presenterZoom + 0.05);
      await until(async () => (await livePage(p)) === 5, { what: 'still page 5 after zoom', timeout: 10_000 });
    }
    expect(await tid(tablet, 'left-presenter').count()).toBe(0);
    await screenshot(tablet, 'live-member-following', 'vi');

    // member1 scrolls away with the finger/wheel: "you left the presenter" with one tap back.
    const box = (await viewer(tablet).locator('.scroller').boundingBox())!;
    await tablet.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await tablet.mouse.wheel(0, 2500);
    await tid(tablet, 'left-presenter').waitFor({ timeout: 10_000 });
    expect(await tid(tablet, 'left-presenter').textContent()).toContain('Bạn đã rời khỏi trang người trình bày');
    expect(await tid(tablet, 'follow').isChecked()).toBe(false);
    await scrollSettled(tablet);
    const away = await livePage(tablet);
    expect(away).toBeGreaterThan(5);
    await screenshot(tablet, 'live-member-left', 'vi');

    // The presenter goes on to page 3: the phone follows, the tablet that left stays where its reader is.
    await pageInput.fill('3');
    await pageInput.press('Enter');
    await until(async () => (await livePage(phone)) === 3, { what: 'phone shows page 3', timeout: 15_000 });
    await expect.poll(() => tid(tablet, 'presenter-page').textContent()).toContain('3');
    expect(await livePage(tablet)).toBe(away);

    await tid(tablet, 'back-to-presenter').click();
    await until(async () => (await livePage(tablet)) === 3, { what: 'tablet back on page 3', timeout: 15_000 });
    await expect.poll(() => drawnZoom(tablet)).toBeGreaterThan(presenterZoom - 0.05);
    expect(await tid(tablet, 'left-presenter').count()).toBe(0);
    expect(await tid(tablet, 'follow').isChecked()).toBe(true);

    // The phone in English: the document fills most of the screen; the banner speaks English.
    await expect.poll(() => tid(phone, 'presenter-state').textContent()).toContain('is presenting');
    const pbox = (await viewer(phone).locator('.scroller').boundingBox())!;
    await phone.mouse.move(pbox.x + pbox.width / 2, pbox.y + pbox.height / 2);
    await phone.mouse.wheel(0, 1500);
    await expect.poll(() => tid(phone, 'left-presenter').textContent(), { timeout: 10_000 }).toContain('You left the presenter');
    await screenshot(phone, 'live-member-phone-left', 'en');
    await tid(phone, 'back-to-presenter').click();
    await until(async () => (await livePage(phone)) === 3, { what: 'phone back on page 3', timeout: 15_000 });
    await screenshot(phone, 'live-member-phone', 'en');

    for (const pr of problems) expect(pr.errors).toEqual([]);
  }, 180_000);

  it('document first: at 1024×768 the document takes most of the screen, the side panel opens on demand, and the live view is axe-clean with 44 px targets (tablet vi, phone en)', async () => {
    await presenting();
    const area = (p: Page) =>
      p.evaluate(() => {
        const find = (root: Document | ShadowRoot, sel: string): Element | null => {
          const hit = root.querySelector(sel);
          if (hit) return hit;
          for (const el of root.querySelectorAll('*')) if (el.shadowRoot) {
            const f = find(el.shadowRoot, sel);
            if (f) return f;
          }
          return null;
        };
        const r = find(document, 'ec-pdf-viewer')!.getBoundingClientRect();
        const visibleH = Math.min(r.bottom, innerHeight) - Math.max(r.top, 0);
        return (r.width * visibleH) / (innerWidth * innerHeight);
      });
    expect(await area(tablet)).toBeGreaterThan(0.6);
    expect(await area(phone)).toBeGreaterThan(0.5);

    // The panel: attendance, delegation, floor requests; its toggle says whether it is open.
    const toggle = tid(tablet, 'panel-toggle');
    expect(await toggle.getAttribute('aria-expanded')).toBe('false');
    await toggle.click();
    await tid(tablet, 'my-attendance').waitFor();
    expect(await toggle.getAttribute('aria-expanded')).toBe('true');
    expect(await area(tablet)).toBeGreaterThan(0.4);
    await screenshot(tablet, 'live-member-panel', 'vi');

    for (const p of [tablet, phone]) {
      expect(await axeViolations(p)).toEqual([]);
      expect(await smallTouchTargets(p)).toEqual([]);
    }
    await tid(phone, 'panel-toggle').click();
    await tid(phone, 'my-attendance').waitFor();
    expect(await axeViolations(phone)).toEqual([]);
    await screenshot(phone, 'live-member-phone-panel', 'en');
    await toggle.click();
    await tid(phone, 'panel-toggle').click();
    await expect.poll(() => tid(phone, 'panel-toggle').getAttribute('aria-expanded')).toBe('false');
  }, 120_000);
});
