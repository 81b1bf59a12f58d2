import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VIEWPORTS, axeViolations, collectProblems, horizontalOverflow, launchBrowser, newPage, screenshot, smallTouchTargets } from '../helpers/browser.js';
import { type BuiltMeeting, type BuiltUser, buildMeeting } from '../helpers/factories.js';
import { type TestServer, startTestServer } from '../helpers/server.js';
import { type TestSocket, connectSocket, connected } from '../helpers/socket.js';
import { pdf, upload } from '../integration/documents-helpers.js';

/**
 * The document viewer on a phone (390×844): one row of page and zoom buttons, the other tools
 * (thumbnails, zoom level, fit width, find) under "⋯" in a panel, the annotation tools wrapping;
 * nothing cut off or scrolling sideways, 44 px targets, axe-clean with the panel closed and open — in the live view (English,
 * following the chair) and in the document view (Vietnamese). At 1024×768 every tool stays in the row.
 * The meeting is the test's own (factories); the chair presents over a socket.
 */

let server: TestServer;
let browser: Browser;
let m: BuiltMeeting;
let documentId: number;
let chairSocket: TestSocket;
const problems: ReturnType<typeof collectProblems>[] = [];

const viewer = (page: Page) => page.locator('ec-pdf-viewer');
const more = (page: Page) => viewer(page).locator('[data-testid="viewer-more"]');
const findInput = (page: Page) => viewer(page).locator('input[name="find"]');
const ready = (page: Page) => viewer(page).locator('.pg[data-page="1"][data-rendered="true"], .pg[data-rendered="true"]').first().waitFor({ timeout: 40_000 });

/** A context signed in as `user` (session made over HTTP; the login form is tested elsewhere), in the account's `locale`. */
async function signedIn(user: BuiltUser, viewport: { width: number; height: number }, locale: 'vi' | 'en'): Promise<Page> {
  const http = await m.login(user);
  expect((await http.patch('/api/auth/me', { locale })).status).toBe(200);
  const page = await newPage(browser, server.url, { viewport, hasTouch: true, locale: locale === 'en' ? 'en-GB' : 'vi-VN' });
  const at = http.cookie.indexOf('=');
  await page.context().addCookies([{ name: http.cookie.slice(0, at), value: http.cookie.slice(at + 1), url: server.url }]);
  problems.push(collectProblems(page));
  return page;
}

/** Layout checks that must hold in every state: nothing sideways, 44 px targets, and (where asked: a run takes seconds) axe-clean. */
async function fits(page: Page, { axe = true } = {}): Promise<void> {
  expect(await horizontalOverflow(page)).toEqual([]);
  expect(await smallTouchTargets(page)).toEqual([]);
  if (axe) expect(await axeViolations(page)).toEqual([]);
}

beforeAll(async () => {
  server = await startTestServer({ seed: 'admin' });
  m = await buildMeeting(server, { members: 2, agendaItems: 1, title: 'Họp xem tài liệu trên điện thoại' });
  const secretary = await m.as('secretary');
  const up = await upload(secretary, m.meetingId, m.itemIds[0], pdf('tracemonkey.pdf'), 'tracemonkey.pdf', { title: 'Báo cáo đánh giá kết quả thực hiện', access: 'all', published: 'true' });
  expect(up.status, JSON.stringify(up.body)).toBeLessThan(300);
  documentId = up.body.id;
  chairSocket = await connected(connectSocket(server.url, await m.as('chair')));
  expect((await chairSocket.cmd('meeting:open', { meetingId: m.meetingId, overrideReason: 'kiểm thử' })).ok).toBe(true);
  expect((await chairSocket.cmd('presenter:show', { meetingId: m.meetingId, documentId, page: 2 })).ok).toBe(true);
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  chairSocket?.close();
  await browser?.close();
  await server?.close();
});

// One journey in steps: they share the browsers, the server and the meeting, and run in the order written
// (CI shuffles the files and the unit and integration tests; see scripts/test.sh).
describe('the document viewer on a phone', { shuffle: false }, () => {
  it('live view at 390×844 (en): page and zoom in one row, the rest under "⋯"; nothing sideways, 44 px targets, axe-clean, closed and open; Escape and a tap outside close the panel; the annotation tools fit as well', async () => {
    const page = await signedIn(m.members[0], VIEWPORTS.phone, 'en');
    await page.goto(`/meetings/${m.meetingId}/live`);
    await ready(page);
    expect(await viewer(page).getAttribute('page')).toBe('2');
    // Closed: the page tools are on screen, find is in the panel.
    await more(page).waitFor();
    expect(await more(page).getAttribute('aria-expanded')).toBe('false');
    expect(await findInput(page).isVisible()).toBe(false);
    expect(await viewer(page).locator('input[name="page"]').isVisible()).toBe(true);
    expect(await viewer(page).locator('button[title="Zoom in"]').isVisible()).toBe(true);
    await fits(page);
    await screenshot(page, 'viewer-phone-live', 'en');

    // Open: the panel holds thumbnails, the zoom level, fit width and find; focus moves into it.
    await more(page).click();
    expect(await more(page).getAttribute('aria-expanded')).toBe('true');
    await findInput(page).waitFor({ state: 'visible' });
    expect(await viewer(page).evaluate((v) => v.shadowRoot!.activeElement?.closest('#viewer-more') != null)).toBe(true);
    await fits(page);
    await screenshot(page, 'viewer-phone-more', 'en');

    // Escape closes it and gives the focus back to "⋯".
    await page.keyboard.press('Escape');
    expect(await more(page).getAttribute('aria-expanded')).toBe('false');
    expect(await viewer(page).evaluate((v) => v.shadowRoot!.activeElement?.getAttribute('data-testid'))).toBe('viewer-more');

    // Find from the panel: the result stays in view with its ↑ ↓ buttons; a tap on the page closes the panel.
    await more(page).click();
    await findInput(page).fill('trace');
    await findInput(page).press('Enter');
    await viewer(page).locator('[data-testid="find-count"]').waitFor({ timeout: 20_000 });
    await fits(page, { axe: false });
    const box = (await viewer(page).locator('.scroller').boundingBox())!;
    await page.mouse.click(box.x + box.width / 2, box.y + box.height - 40);
    expect(await more(page).getAttribute('aria-expanded')).toBe('false');
    expect(await findInput(page).isVisible()).toBe(false);

    // The annotation tools on the same viewer fit too (they wrap; none is cut off; axe on them: annotate-viewer.test.ts).
    await page.locator('ec-live-view [data-testid="annotate-toggle"]').click();
    await page.locator('ec-live-view ec-document-annotations .status').waitFor();
    await page.locator('ec-live-view ec-document-annotations button[data-tool="pen"]').click();
    await fits(page, { axe: false });
    // Colours, width and "draw for everyone" open under its own "⋯".
    const annotateMore = page.locator('ec-live-view ec-document-annotations [data-testid="annotate-more"]');
    expect(await page.locator('ec-live-view ec-document-annotations button.swatch').first().isVisible()).toBe(false);
    await annotateMore.click();
    expect(await annotateMore.getAttribute('aria-expanded')).toBe('true');
    await page.locator('ec-live-view ec-document-annotations button.swatch').first().waitFor({ state: 'visible' });
    await fits(page, { axe: false });
    await screenshot(page, 'viewer-phone-annotate', 'en');
    for (const pr of problems) expect(pr.errors).toEqual([]);
    await page.context().close();
  }, 150_000);

  it('document view at 390×844 (vi) fits the phone with the panel closed and open; at 1024×768 every tool is in the row and there is no "⋯"', async () => {
    const phone = await signedIn(m.members[1], VIEWPORTS.phone, 'vi');
    await phone.goto(`/documents/${documentId}`);
    await ready(phone);
    await fits(phone);
    await more(phone).click();
    await findInput(phone).waitFor({ state: 'visible' });
    await fits(phone);
    await screenshot(phone, 'viewer-phone-document', 'vi');
    await phone.context().close();

    const tablet = await signedIn(m.members[1], VIEWPORTS.tablet, 'vi');
    await tablet.goto(`/documents/${documentId}`);
    await ready(tablet);
    expect(await more(tablet).isVisible()).toBe(false);
    expect(await findInput(tablet).isVisible()).toBe(true);
    expect(await viewer(tablet).locator('button', { hasText: 'Vừa chiều rộng' }).isVisible()).toBe(true);
    expect(await horizontalOverflow(tablet)).toEqual([]);
    await tablet.context().close();
    for (const pr of problems) expect(pr.errors).toEqual([]);
  }, 150_000);
});
