import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VIEWPORTS, launchBrowser, loginAs, newPage, screenshot } from '../helpers/browser.js';
import { type BuiltMeeting, buildMeeting } from '../helpers/factories.js';
import { type TestServer, startTestServer } from '../helpers/server.js';
import { PDFS, pdf, upload } from '../integration/documents-helpers.js';

let server: TestServer;
let browser: Browser;
let packId: number;
let itemIds: number[];
/** The journey's own meeting (factories): one member, three agenda items. */
let m: BuiltMeeting;

beforeAll(async () => {
  server = await startTestServer({ seed: 'admin' });
  m = await buildMeeting(server, { members: 1, agendaItems: 3 });
  const secretary = await m.as('secretary');
  itemIds = m.itemIds;
  const r = await upload(secretary, m.meetingId, itemIds[1], pdf('board-pack-large.pdf'), 'board-pack-large.pdf', { title: 'Bộ tài liệu phiên họp (451 trang)' });
  expect(r.status).toBe(201);
  packId = r.body.id;
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

const viewer = (page: Page) => page.locator('ec-pdf-viewer');
const pageBox = (page: Page, n: number) => page.locator(`ec-pdf-viewer .pg[data-page="${n}"]`);

// One journey in steps: they share the browsers, the server and the meeting, and run in the order written
// (CI shuffles the files and the unit and integration tests; see scripts/test.sh).
describe('meeting documents in the browser', { shuffle: false }, () => {
  it('the secretary uploads a PDF to an agenda item from the meeting pack and sees its per-file result', async () => {
    const page = await newPage(browser, server.url, { viewport: VIEWPORTS.tablet });
    await loginAs(page, m.secretary);
    await page.goto(`/meetings/${m.meetingId}/documents`);
    const item = page.locator(`ec-meeting-pack-view li.item[data-item="${itemIds[2]}"]`);
    await item.locator('ec-document-upload input[type=file]').setInputFiles([`${PDFS}/seed-2.pdf`, `${import.meta.dirname}/../fixtures/pdfs/user-password.pdf`]);
    await item.locator('ec-document-upload li[data-state="done"]').waitFor({ timeout: 60_000 });
    await item.locator('ec-document-upload li[data-state="error"]').waitFor({ timeout: 60_000 });
    await expect(item.locator('ec-document-upload li[data-state="error"]').textContent()).resolves.toContain('cần mật khẩu');
    await item.locator('li.doc', { hasText: 'seed-2' }).waitFor();
    await screenshot(page, 'meeting-pack', 'vi');
    await page.context().close();
  }, 120_000);

  it('a member opens the 451-page pack at 1024×768: page 1 is painted with the watermark, jumps to page 300 and finds a word there', async () => {
    const page = await newPage(browser, server.url, { viewport: VIEWPORTS.tablet });
    await loginAs(page, m.members[0]);
    const me = await page.evaluate(() => fetch('/api/auth/me').then((r) => r.json()));
    const fullName: string = me.user?.fullName ?? me.fullName;

    await page.goto(`/documents/${packId}`);
    await pageBox(page, 1).and(page.locator('[data-rendered="true"]')).waitFor({ timeout: 60_000 });
    await expect(pageBox(page, 1).getAttribute('data-watermark')).resolves.toContain(fullName);
    await expect(viewer(page).locator('.count').first().textContent()).resolves.toContain('451');
    // Only the pages around the reader are painted, not the whole pack.
    expect(await viewer(page).locator('.pg[data-rendered="true"]').count()).toBeLessThan(10);
    await screenshot(page, 'document-viewer', 'vi');

    const input = viewer(page).locator('input[name="page"]');
    await input.fill('300');
    await input.press('Enter');
    await pageBox(page, 300).and(page.locator('[data-rendered="true"]')).waitFor({ timeout: 60_000 });
    await expect(viewer(page).getAttribute('page')).resolves.toBe('300');

    // Words printed on page 300, typed without diacritics, found and highlighted there.
    const text = (await (await m.as('member', 0)).get(`/api/documents/${packId}/pages/300/text`)).body.text as string;
    expect(text).toContain('kết nối mạng WAN');
    const find = viewer(page).locator('input[name="find"]');
    await find.fill('ket noi mang WAN');
    await find.press('Enter');
    await expect(viewer(page).locator('[data-testid="find-count"]').textContent()).resolves.toMatch(/Trang \d+\/\d+ có kết quả/);
    // The matched words are marked, not the whole line they sit on.
    const marks = pageBox(page, 300).locator('.textLayer mark.hit');
    await marks.first().waitFor({ timeout: 30_000 });
    for (const mark of await marks.allTextContents()) expect(mark.toLowerCase()).toBe('kết nối mạng wan');
    const line = (await marks.first().evaluate((m) => m.parentElement!.textContent)) ?? '';
    expect(line.length).toBeGreaterThan('kết nối mạng WAN'.length);
    await expect(viewer(page).getAttribute('page')).resolves.toBe('300');
    await screenshot(page, 'document-find', 'vi');

    // The last page is remembered per document.
    await page.goto(`/documents/${packId}`);
    await pageBox(page, 300).and(page.locator('[data-rendered="true"]')).waitFor({ timeout: 60_000 });
    await expect(viewer(page).locator('input[name="page"]').inputValue()).resolves.toBe('300');
    await page.context().close();
  }, 180_000);

  it('search without diacritics lists highlighted hits that open the viewer at their page (phone)', async () => {
    const page = await newPage(browser, server.url, { viewport: VIEWPORTS.phone });
    await loginAs(page, m.members[0]);
    await page.goto('/search?q=chuyen%20doi%20so');
    const hit = page.locator('ec-search-view li.hit[data-kind="document"]').first();
    await hit.waitFor({ timeout: 30_000 });
    await expect(hit.locator('mark').first().textContent()).resolves.toMatch(/chuyển|đổi|số/i);
    // The phone's scrolling tab strip shows the current tab whole.
    const tab = await page.evaluate(() => {
      const nav = document.querySelector('ec-app')!.shadowRoot!.querySelector('nav')!;
      const a = nav.querySelector('a[aria-current="page"]')!.getBoundingClientRect();
      const n = nav.getBoundingClientRect();
      return { inside: a.left >= n.left - 1 && a.right <= n.right + 1, text: (nav.querySelector('a[aria-current="page"]') as HTMLElement).textContent };
    });
    expect(tab).toEqual({ inside: true, text: 'Tìm kiếm' });
    await screenshot(page, 'search', 'vi');
    const href = await hit.locator('a').first().getAttribute('href');
    const wanted = Number(new URL(href!, server.url).searchParams.get('page'));
    await hit.locator('a').first().click();
    await pageBox(page, wanted).and(page.locator('[data-rendered="true"]')).waitFor({ timeout: 60_000 });
    await expect(viewer(page).getAttribute('page')).resolves.toBe(String(wanted));
    await page.context().close();
  }, 120_000);
});
