import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VIEWPORTS, axeViolations, collectProblems, launchBrowser, loginAs, newPage, screenshot, smallTouchTargets, touchDrag } from '../helpers/browser.js';
import { type BuiltMeeting, buildMeeting } from '../helpers/factories.js';
import { type TestServer, startTestServer } from '../helpers/server.js';
import { PAGE_TEXTS, textPdf, uploadPdf } from '../integration/annotations-helpers.js';

/**
 * Annotating from the viewer members actually open (`/documents/:id`, reached from the meeting pack,
 * search and the live view), not only from the separate annotate page: highlight, ink and a sticky
 * note, private until shared, then seen by another member; the tools work on a phone too.
 */

let server: TestServer;
let browser: Browser;
let documentId: number;
/** The test's own meeting (factories): two members, one agenda item. */
let m: BuiltMeeting;

beforeAll(async () => {
  server = await startTestServer({ seed: 'admin' });
  m = await buildMeeting(server, { members: 2, agendaItems: 1, title: 'Họp ghi chú tài liệu' });
  const secretary = await m.as('secretary');
  documentId = (await uploadPdf(secretary, m.meetingId, m.itemIds[0], await textPdf(PAGE_TEXTS), { title: 'Đề án chuyển đổi số' })).id;
  browser = await launchBrowser();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

const tools = (page: Page) => page.locator('ec-document-view ec-document-annotations');
const own = (page: Page, kind: string) => page.locator(`ec-annotation-layer g.own [data-kind="${kind}"]`);
const shared = (page: Page, kind: string) => page.locator(`ec-annotation-layer g.shared [data-kind="${kind}"]`);

async function openViewer(page: Page, synced: string) {
  await page.goto(`/documents/${documentId}`);
  await page.locator('ec-pdf-viewer .pg[data-page="1"][data-rendered="true"]').waitFor({ timeout: 40_000 });
  await page.locator('ec-annotation-layer').first().waitFor({ state: 'attached', timeout: 20_000 });
  // Reading: the layers are there, the tools are not until asked for.
  expect(await tools(page).isVisible()).toBe(false);
  await page.locator('ec-document-view [data-testid="annotate-toggle"]').click();
  await tools(page).locator('.status', { hasText: synced }).waitFor({ timeout: 30_000 });
}

/** Selects `quote` in the document view's first page text layer (as a finger drag would). */
async function selectText(page: Page, quote: string) {
  await page.locator('ec-pdf-viewer .textLayer span').first().waitFor({ timeout: 15_000 });
  await page.locator('ec-pdf-viewer').evaluate((viewer, q) => {
    const span = [...viewer.shadowRoot!.querySelectorAll('.pg[data-page="1"] .textLayer span')].find((s) => s.textContent?.includes(q))!;
    const node = span.firstChild!;
    const at = node.textContent!.indexOf(q);
    const sel = document.getSelection()!;
    sel.removeAllRanges();
    sel.setBaseAndExtent(node, at, node, at + q.length);
  }, quote);
}

describe('annotating from the document viewer', () => {
  it('member1 highlights, draws and leaves a sticky note from /documents/:id: private until shared, then member2 sees all three; the note stays on the page', async () => {
    const a = await newPage(browser, server.url, { viewport: VIEWPORTS.tablet });
    const b = await newPage(browser, server.url, { viewport: VIEWPORTS.phone, hasTouch: true });
    const problems = [collectProblems(a), collectProblems(b)];
    await loginAs(a, m.members[0]);
    await loginAs(b, m.members[1]);
    await b.locator('ec-language-switch button[lang="en"]').first().click();
    await openViewer(a, 'Đã đồng bộ');

    // Highlight the selected words.
    await selectText(a, 'digital transformation plan');
    await tools(a).locator('button[data-tool="highlight"]').click();
    await own(a, 'highlight').first().waitFor({ timeout: 10_000 });

    // Ink with the pen.
    await tools(a).locator('button[data-tool="pen"]').click();
    const page1 = a.locator('ec-pdf-viewer .pg[data-page="1"] ec-annotation-layer svg');
    const box = (await page1.boundingBox())!;
    await a.mouse.move(box.x + 120, box.y + 220);
    await a.mouse.down();
    for (let i = 1; i <= 12; i++) await a.mouse.move(box.x + 120 + i * 8, box.y + 220 + Math.sin(i / 2) * 10);
    await a.mouse.up();
    await own(a, 'ink').first().waitFor({ timeout: 10_000 });

    // A sticky note tapped at the page's very edge: pin and editor stay on the page and on screen.
    await tools(a).locator('button[data-tool="note"]').click();
    const pageBox = (await a.locator('ec-pdf-viewer .pg[data-page="1"]').boundingBox())!;
    const scroller = (await a.locator('ec-pdf-viewer .scroller').boundingBox())!;
    const edgeY = Math.min(pageBox.y + pageBox.height, scroller.y + scroller.height) - 2;
    await a.mouse.click(pageBox.x + pageBox.width - 2, edgeY);
    const bubble = a.locator('ec-annotation-layer .bubble');
    await bubble.waitFor();
    const bb = (await bubble.boundingBox())!;
    const pageNow = (await a.locator('ec-pdf-viewer .pg[data-page="1"]').boundingBox())!;
    const view = (await a.locator('ec-pdf-viewer .scroller').boundingBox())!;
    expect(bb.x + bb.width).toBeLessThanOrEqual(pageNow.x + pageNow.width + 1);
    expect(bb.y + bb.height).toBeLessThanOrEqual(pageNow.y + pageNow.height + 1);
    expect(bb.y + bb.height).toBeLessThanOrEqual(view.y + view.height + 1);
    expect(bb.y).toBeGreaterThanOrEqual(view.y - 1);
    await bubble.locator('textarea').fill('Hỏi lại số liệu năm 2025');
    await bubble.locator('button', { hasText: 'Lưu ghi chú' }).click();
    const pin = own(a, 'note').first();
    await pin.waitFor({ timeout: 10_000 });
    const pinBox = (await pin.boundingBox())!;
    const pageAfter = (await a.locator('ec-pdf-viewer .pg[data-page="1"]').boundingBox())!;
    expect(pinBox.x + pinBox.width).toBeLessThanOrEqual(pageAfter.x + pageAfter.width + 1);
    expect(pinBox.y + pinBox.height).toBeLessThanOrEqual(pageAfter.y + pageAfter.height + 1);
    await tools(a).locator('button[data-tool="read"]').click();
    await screenshot(a, 'document-annotate', 'vi');

    // Private: member2 (phone, English) sees none of it.
    await openViewer(b, 'Synced');
    await b.waitForTimeout(500);
    expect(await b.locator('ec-annotation-layer g.shared [data-kind]').count()).toBe(0);

    // member1 shares everything: member2 sees the highlight, the ink and the note, with member1's name.
    await tools(a).locator('button.disclosure').click();
    expect(await tools(a).locator('.panel li').count()).toBe(3);
    await tools(a).locator('button', { hasText: 'Chia sẻ tất cả' }).click();
    for (const kind of ['highlight', 'ink', 'note']) await shared(b, kind).first().waitFor({ state: 'attached', timeout: 15_000 });
    await b.locator('ec-annotation-layer text.flag').first().waitFor({ state: 'attached' });
    await shared(b, 'note').first().evaluate((el) => el.dispatchEvent(new MouseEvent('click', { bubbles: true })));
    await expect.poll(() => b.locator('ec-annotation-layer .bubble').textContent()).toContain('Hỏi lại số liệu năm 2025');
    await b.locator('ec-annotation-layer .bubble button').click();

    // On the phone the tools are reachable: member2 draws with a finger.
    await tools(b).locator('button[data-tool="pen"]').click();
    const pb = (await b.locator('ec-pdf-viewer .pg[data-page="1"] ec-annotation-layer svg').boundingBox())!;
    await touchDrag(b, { x: pb.x + 60, y: pb.y + 120 }, { x: pb.x + 160, y: pb.y + 150 }, 8);
    await own(b, 'ink').first().waitFor({ timeout: 10_000 });
    await screenshot(b, 'document-annotate-phone', 'en');
    // ...and it stays private: member1 does not get it.
    await a.waitForTimeout(500);
    expect(await shared(a, 'ink').count()).toBe(0);

    for (const p of [a, b]) {
      expect(await axeViolations(p)).toEqual([]);
      expect(await smallTouchTargets(p)).toEqual([]);
    }
    for (const pr of problems) expect(pr.errors).toEqual([]);
    await a.context().close();
    await b.context().close();
  }, 180_000);
});
