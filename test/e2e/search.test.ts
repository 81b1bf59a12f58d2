import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VIEWPORTS, collectProblems, expectAxeClean, launchBrowser, loginAs, newPage, screenshot, smallTouchTargets } from '../helpers/browser.js';
import { type BuiltUser, buildMeeting } from '../helpers/factories.js';
import { type TestServer, startTestServer } from '../helpers/server.js';
import { type Corpus, buildSearchCorpus } from '../integration/search-corpus.js';

let server: TestServer;
let browser: Browser;
let corpus: Corpus;
/** The reader: a member of the journey's own committee (factories), invited to the corpus' meetings. */
let reader: BuiltUser;

beforeAll(async () => {
  server = await startTestServer({ seed: 'admin', config: { documents: { maxBytes: 8 * 1024 * 1024, pdfTimeoutMs: 120_000, pdfMaxHeapMb: 512 } } as never });
  // The committee's only meeting so far is an empty draft; the corpus' meetings are made in the same committee.
  const m = await buildMeeting(server, { members: 1, agendaItems: 0, publish: false });
  reader = m.members[0];
  const secretary = await m.as('secretary');
  corpus = await buildSearchCorpus(secretary, [{ userId: reader.id, role: 'member' }]);
  // Markup typed into a title must stay text on the results page.
  const agenda = (await secretary.get(`/api/meetings/${corpus.meetingA}/agenda`)).body;
  await secretary.post(`/api/meetings/${corpus.meetingA}/agenda/items`, { version: agenda.version, title: '<img src=x onerror="window.__xss=1"> Báo cáo an ninh mạng' });
  browser = await launchBrowser();
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

const view = (page: Page) => page.locator('ec-search-view');
const card = (page: Page, kind: string, refId: number) => page.locator(`ec-search-view li.hit[data-kind="${kind}"][data-ref="${refId}"]`);

/** The language is the account's preference (kept on the server), so each test sets the one it reads. */
async function chooseLanguage(page: Page, lang: 'vi' | 'en') {
  await page.locator(`ec-language-switch button[lang="${lang}"]`).first().click();
  await expect.poll(() => page.locator('html').getAttribute('lang')).toBe(lang);
}

// One journey in steps: they share the browsers, the server and the meeting, and run in the order written
// (CI shuffles the files and the unit and integration tests; see scripts/test.sh).
describe('search in the browser', { shuffle: false }, () => {
  for (const run of [
    { size: 'tablet', viewport: VIEWPORTS.tablet, lang: 'vi' },
    { size: 'phone', viewport: VIEWPORTS.phone, lang: 'en' },
  ] as const) {
    it(`${run.size} (${run.lang}): typed and sent by keyboard, one card per document with its best pages and the words marked; opens the viewer at a page`, async () => {
      const page = await newPage(browser, server.url, { viewport: run.viewport, hasTouch: run.size === 'phone' });
      const problems = collectProblems(page);
      await loginAs(page, reader);
      await chooseLanguage(page, run.lang);
      await page.goto('/search');
      const input = view(page).locator('input[type="search"]');
      await expect.poll(() => input.evaluate((el) => el === (el.getRootNode() as ShadowRoot).activeElement)).toBe(true);
      // Words on two different pages of seed-0, typed without marks, sent with Enter.
      await page.keyboard.type('tran sy thanh thi tuyen');
      await page.keyboard.press('Enter');
      const doc = card(page, 'document', corpus.targets.doc0.refId);
      await doc.waitFor({ timeout: 60_000 });
      await expect.poll(() => page.evaluate(() => location.search)).toContain('q=tran+sy+thanh');
      const pageLinks = doc.locator('ul.pages a');
      expect((await pageLinks.evaluateAll((as) => as.map((a) => a.getAttribute('data-page')))).sort()).toEqual(['1', '2']);
      const marks = (await doc.locator('mark').allTextContents()).map((t) => t.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase());
      expect(marks).toEqual(expect.arrayContaining(['tran', 'sy', 'thanh', 'thi', 'tuyen']));
      // The pack is one card, never a list of its pages.
      expect(await card(page, 'document', corpus.targets.pack.refId).count()).toBeLessThanOrEqual(1);
      await expect(view(page).locator('p[role="status"]').textContent()).resolves.toMatch(run.lang === 'en' ? /results/ : /kết quả/);
      expect(await smallTouchTargets(page)).toEqual([]);
      await expectAxeClean(page, { label: `search ${run.size}` });
      await screenshot(page, `search-${run.size}`, run.lang);

      // Keyboard: Tab from the search field reaches the first result, Enter on a page link opens the viewer there.
      const wanted = await pageLinks.nth(0).getAttribute('data-page');
      await pageLinks.nth(0).focus();
      await page.keyboard.press('Enter');
      await page.waitForURL(new RegExp(`/documents/${corpus.targets.doc0.refId}\\?page=${wanted}`));
      await page.locator(`ec-pdf-viewer .pg[data-page="${wanted}"][data-rendered="true"]`).waitFor({ timeout: 60_000 });
      expect(problems.errors).toEqual([]);
      expect(problems.csp).toEqual([]);
      await page.context().close();
    }, 180_000);
  }

  it('meetings and agenda items are found by title and can be filtered by kind; markup in a title stays text', async () => {
    const page = await newPage(browser, server.url, { viewport: VIEWPORTS.tablet });
    const problems = collectProblems(page);
    await loginAs(page, reader);
    await chooseLanguage(page, 'vi');
    await page.goto(`/search?q=${encodeURIComponent('phien hop cai cach hanh chinh')}`);
    const meeting = card(page, 'meeting', corpus.meetingA);
    await meeting.waitFor({ timeout: 60_000 });
    await expect(meeting.locator('a').first().getAttribute('href')).resolves.toBe(`/meetings/${corpus.meetingA}`);
    const filter = view(page).locator('.filters button[data-filter="meeting"]');
    await filter.click();
    await expect(filter.getAttribute('aria-pressed')).resolves.toBe('true');
    const kinds = await view(page).locator('li.hit').evaluateAll((lis) => [...new Set(lis.map((li) => li.getAttribute('data-kind')))]);
    expect(kinds).toEqual(['meeting']);
    await expectAxeClean(page, { label: 'search filtered' });

    await page.goto(`/search?q=${encodeURIComponent('an ninh mang')}`);
    const item = view(page).locator('li.hit[data-kind="agenda_item"]').first();
    await item.waitFor({ timeout: 60_000 });
    await expect(item.locator('.title').textContent()).resolves.toContain('<img src=x onerror="window.__xss=1">');
    expect(await view(page).locator('img').count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
    expect(problems.errors).toEqual([]);
    await page.context().close();
  }, 120_000);

  it('empty, loading and error states: nothing found says so; a failed request offers a retry that works', async () => {
    const page = await newPage(browser, server.url, { viewport: VIEWPORTS.phone });
    await loginAs(page, reader);
    await chooseLanguage(page, 'vi');
    await page.goto(`/search?q=${encodeURIComponent('xyzzy khong co tu nay')}`);
    await view(page).getByText('Không tìm thấy kết quả phù hợp.').waitFor({ timeout: 60_000 });
    await expectAxeClean(page, { label: 'search empty' });
    await screenshot(page, 'search-empty', 'vi');

    let release: () => void = () => {};
    const held = new Promise<void>((r) => (release = r));
    await page.route('**/api/search?*', async (route) => {
      await held;
      await route.abort('connectionrefused');
    });
    await page.goto(`/search?q=${encodeURIComponent('chuyen doi so')}`);
    await view(page).locator('.state[role="status"] .spinner').waitFor({ timeout: 60_000 });
    release();
    const alert = view(page).locator('.error[role="alert"]');
    await alert.waitFor({ timeout: 60_000 });
    await expect(alert.textContent()).resolves.toContain('Không kết nối được máy chủ');
    await expectAxeClean(page, { label: 'search error' });
    await page.unroute('**/api/search?*');
    await alert.locator('button').click();
    await view(page).locator('li.hit').first().waitFor({ timeout: 60_000 });
    await page.context().close();
  }, 120_000);
});
