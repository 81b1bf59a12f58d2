import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { VIEWPORTS, launchBrowser, loginAs, logout, newPage, screenshot } from '../helpers/browser.js';
import { type BuiltMeeting, buildMeeting } from '../helpers/factories.js';
import { type TestServer, startTestServer } from '../helpers/server.js';
import { PAGE_TEXTS, replacePdf, textPdf, uploadPdf } from '../integration/annotations-helpers.js';

let server: TestServer;
let browser: Browser;
let documentId: number;
/** The test's own meeting (factories): two members, two agenda items. */
let m: BuiltMeeting;

beforeAll(async () => {
  server = await startTestServer({ seed: 'admin' });
  m = await buildMeeting(server, { members: 2, agendaItems: 2 });
  const secretary = await m.as('secretary');
  const itemId = m.itemIds[1];
  documentId = (await uploadPdf(secretary, m.meetingId, itemId, await textPdf(PAGE_TEXTS), { title: 'Đề án phòng họp không giấy' })).id;
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

async function openDocument(page: Page) {
  await page.goto(`/documents/${documentId}/annotate`);
  await page.locator('ec-annotation-layer').first().waitFor({ state: 'attached', timeout: 40_000 });
  await page.locator('ec-document-annotations .status').filter({ hasText: 'Đã đồng bộ' }).waitFor({ timeout: 30_000 });
}

/** Selects `quote` in the first page's text layer (as a finger drag would). */
async function selectText(page: Page, quote: string) {
  await page.locator('ec-pdf-viewer .textLayer span').first().waitFor({ timeout: 15_000 });
  await page.evaluate((q) => {
    const viewer = document.querySelector('ec-app')!.shadowRoot!.querySelector('main ec-annotate-view, ec-annotate-view') ?? null;
    const root = (viewer ?? deepFind(document, 'ec-annotate-view'))!.shadowRoot!.querySelector('ec-pdf-viewer')!.shadowRoot!;
    const span = [...root.querySelectorAll('.textLayer span')].find((s) => s.textContent?.includes(q))!;
    const node = span.firstChild!;
    const at = node.textContent!.indexOf(q);
    const sel = document.getSelection()!;
    sel.removeAllRanges();
    sel.setBaseAndExtent(node, at, node, at + q.length);
    function deepFind(r: Document | ShadowRoot, tag: string): Element | null {
      const hit = r.querySelector(tag);
      if (hit) return hit;
      for (const el of r.querySelectorAll('*')) if (el.shadowRoot) {
        const f = deepFind(el.shadowRoot, tag);
        if (f) return f;
      }
      return null;
    }
  }, quote);
}

/** Draws a short stroke with the pen tool on the first page. */
async function drawStroke(page: Page, dx = 0) {
  await page.locator('ec-document-annotations button[data-tool="pen"]').click();
  const box = (await page.locator('ec-annotation-layer svg').first().boundingBox())!;
  const x = box.x + 120 + dx;
  const y = box.y + 200;
  await page.mouse.move(x, y);
  await page.mouse.down();
  for (let i = 1; i <= 12; i++) await page.mouse.move(x + i * 8, y + Math.sin(i / 2) * 10);
  await page.mouse.up();
}

describe('annotations in the browser', () => {
  it('two members annotate the same page, share live, draw offline, and keep their annotations across a new version', async () => {
    const a = await newPage(browser, server.url, { viewport: VIEWPORTS.tablet });
    const b = await newPage(browser, server.url, { viewport: VIEWPORTS.tablet });
    await loginAs(a, m.members[0]);
    await loginAs(b, m.members[1]);
    await Promise.all([openDocument(a), openDocument(b)]);

    // member1 highlights a passage and shares it; member2 sees it appear.
    await selectText(a, 'digital transformation plan');
    await a.locator('ec-document-annotations button[data-tool="highlight"]').click();
    await a.locator('ec-annotation-layer g.own [data-kind="highlight"]').first().waitFor({ timeout: 10_000 });
    const xBefore = Number(await a.locator('ec-annotation-layer g.own [data-kind="highlight"] rect').first().getAttribute('x'));
    await a.locator('ec-document-annotations button.disclosure[aria-expanded]').click();
    await a.locator('ec-document-annotations .panel button.share').first().click();
    await b.locator('ec-annotation-layer g.shared [data-kind="highlight"]').first().waitFor({ timeout: 10_000 });
    await b.locator('ec-annotation-layer text.flag').first().waitFor();

    // member1 presents: "draw for everyone" puts the ink straight on the shared layer.
    await a.locator('ec-document-annotations button[data-mode="present"]').click();
    await drawStroke(a, 300);
    await b.locator('ec-annotation-layer g.shared [data-kind="ink"]').first().waitFor({ timeout: 10_000 });
    await a.locator('ec-document-annotations button[data-mode="present"]').click();
    await a.locator('ec-document-annotations button[data-tool="read"]').click();

    // member2 draws privately too (both annotate the same page).
    await drawStroke(b);
    await b.locator('ec-annotation-layer g.own [data-kind="ink"]').first().waitFor();
    // Undo and redo of one's own stroke.
    await b.locator('ec-document-annotations button[aria-label="Hoàn tác"]').click();
    await expect.poll(() => b.locator('ec-annotation-layer g.own [data-kind="ink"]').count()).toBe(0);
    await b.locator('ec-document-annotations button[aria-label="Làm lại"]').click();
    await expect.poll(() => b.locator('ec-annotation-layer g.own [data-kind="ink"]').count()).toBe(1);

    // member2 goes offline, draws and shares, comes back: the ink reaches member1.
    await b.context().setOffline(true);
    await b.locator('ec-document-annotations .status.offline').waitFor({ timeout: 15_000 });
    await drawStroke(b, 150);
    await expect.poll(() => b.locator('ec-annotation-layer g.own [data-kind="ink"]').count()).toBe(2);
    await b.locator('ec-document-annotations button', { hasText: 'Chia sẻ tất cả' }).click();
    // Nothing of member2's offline strokes has reached member1 (only member1's own shared stroke is there).
    expect(await a.locator('ec-annotation-layer g.shared [data-kind="ink"]').count()).toBe(1);
    await b.context().setOffline(false);
    await a.locator('ec-annotation-layer g.shared [data-kind="ink"]').nth(2).waitFor({ timeout: 20_000 });
    await screenshot(a, 'annotations', 'vi');

    // The secretary replaces the document (page two removed, words added before the highlighted
    // passage): the annotations reappear on the new version, the highlight redrawn where its text now is.
    const secretary = await m.as('secretary');
    await replacePdf(secretary, documentId, await textPdf(['Revised draft. ' + PAGE_TEXTS[0], PAGE_TEXTS[2]]));
    await a.reload();
    await openDocument(a);
    await a.locator('ec-annotation-layer g.shared [data-kind="ink"]').first().waitFor({ timeout: 15_000 });
    const moved = a.locator('ec-annotation-layer g.own [data-kind="highlight"] rect').first();
    await moved.waitFor({ timeout: 15_000 });
    await expect.poll(async () => Number(await moved.getAttribute('x')), { timeout: 10_000 }).toBeGreaterThan(xBefore + 30);
    await screenshot(a, 'annotations-new-version', 'vi');

    // "My annotations" lists the highlight on the new version, jumping to its page.
    await a.goto(`/meetings/${m.meetingId}/annotations`);
    const entry = a.locator('ec-my-annotations-view li a').first();
    await entry.waitFor({ timeout: 10_000 });
    expect(await entry.textContent()).toContain('digital transformation plan');
    expect(await entry.textContent()).toContain('Đã chia sẻ');
    await screenshot(a, 'my-annotations', 'vi');

    // The same views in English, and the annotation view on a phone.
    await a.locator('ec-language-switch button[lang="en"]').click();
    await a.locator('ec-my-annotations-view h1', { hasText: 'My annotations' }).waitFor();
    await screenshot(a, 'my-annotations', 'en');
    await a.goto(`/documents/${documentId}/annotate`);
    await a.locator('ec-document-annotations .status', { hasText: 'Synced' }).waitFor({ timeout: 15_000 });
    await a.locator('ec-annotation-layer g.own [data-kind="highlight"]').first().waitFor({ timeout: 15_000 });
    await screenshot(a, 'annotations', 'en');
    const phone = await newPage(browser, server.url, { viewport: VIEWPORTS.phone, hasTouch: true });
    await loginAs(phone, m.members[1]);
    await openDocument(phone);
    await phone.locator('ec-annotation-layer g.shared [data-kind="highlight"]').first().waitFor({ timeout: 15_000 });
    await screenshot(phone, 'annotations-phone', 'vi');
    await phone.context().close();

    // Signing out leaves no offline annotation copy on the device.
    const offlineDbs = () => b.evaluate(async () => (await indexedDB.databases()).map((d) => d.name).filter((n) => n?.startsWith('ec-annotations:')).length);
    expect(await offlineDbs()).toBeGreaterThan(0);
    await logout(b);
    await expect.poll(offlineDbs, { timeout: 10_000 }).toBe(0);
    await a.context().close();
    await b.context().close();
  }, 150_000);
});
