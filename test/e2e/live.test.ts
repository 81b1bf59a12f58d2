import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VIEWPORTS, launchBrowser, loginAs, newPage, screenshot } from '../helpers/browser.js';
import { type BuiltMeeting, buildMeeting } from '../helpers/factories.js';
import { type TestServer, startTestServer, until } from '../helpers/server.js';
import { connectSocket, connected } from '../helpers/socket.js';
import { pdf, upload } from '../integration/documents-helpers.js';

/**
 * The live meeting in three browsers at once: the chair's console, a member's tablet and the room's big
 * screen (shown by the secretary's account), on the journey's own meeting (factories: six members, two
 * agenda items). The chair opens the meeting, the member checks in and asks for the floor, the
 * chair gives it: all three screens show the member and the same countdown. Then the chair presents a
 * document and moves to page 5; the member's viewer (following the presenter) moves to page 5 too.
 * Needs the built client (`npm run build`).
 */
// One journey in steps: they share the browsers, the server and the meeting, and run in the order written
// (CI shuffles the files and the unit and integration tests; see scripts/test.sh).
describe('live meeting e2e: console, member tablet and room display', { shuffle: false }, () => {
  let server: TestServer;
  let browser: Browser;
  let chair: Page;
  let member: Page;
  let display: Page;
  let m: BuiltMeeting;

  beforeAll(async () => {
    server = await startTestServer({ seed: 'admin' });
    // Seven voters (the chair and six members).
    m = await buildMeeting(server, { members: 6, agendaItems: 2 });
    const secretary = await m.as('secretary');
    // A document on the first agenda item, and three members (of seven voters) already checked in by the secretary.
    const up = await upload(secretary, m.meetingId, m.itemIds[0], pdf('tracemonkey.pdf'), 'tracemonkey.pdf', { title: 'Báo cáo tổng hợp', access: 'all', published: 'true' });
    expect(up.status, JSON.stringify(up.body)).toBeLessThan(300);
    const s = await connected(connectSocket(server.url, secretary));
    for (const u of m.members.slice(1, 4)) expect((await s.cmd('attendance:check_in', { meetingId: m.meetingId, userId: u.id, mode: 'in_room' })).ok).toBe(true);
    s.close();
    browser = await launchBrowser();
    [chair, member, display] = await Promise.all([
      newPage(browser, server.url, { viewport: VIEWPORTS.tablet }),
      newPage(browser, server.url, { viewport: VIEWPORTS.tablet, hasTouch: true }),
      newPage(browser, server.url, { viewport: { width: 1280, height: 720 } }),
    ]);
    await Promise.all([loginAs(chair, m.chair), loginAs(member, m.members[0]), loginAs(display, m.secretary)]);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  const tid = (page: Page, id: string) => page.locator(`[data-testid="${id}"]`).first();
  const remaining = (page: Page) => tid(page, 'timer').evaluate((el) => Number((el.getRootNode() as ShadowRoot).host.getAttribute('data-remaining')));

  it('chair opens, member checks in and asks for the floor, chair grants it: every screen shows the speaker and the same timer', async () => {
    await Promise.all([chair.goto(`/meetings/${m.meetingId}/console`), member.goto(`/meetings/${m.meetingId}/live`), display.goto(`/meetings/${m.meetingId}/display`)]);
    await tid(chair, 'open-meeting').waitFor();
    await expect.poll(() => tid(chair, 'quorum').getAttribute('data-met')).toBe('false');
    await screenshot(chair, 'live-console-before-open', 'vi');

    // the member checks in: 4 of 7 voters, quorum met, the chair's button enables
    await tid(member, 'bar-check-in').click();
    await tid(member, 'panel-toggle').click();
    await expect.poll(() => tid(member, 'my-attendance').textContent()).toContain('Có mặt tại phòng');
    await tid(member, 'panel-toggle').click();
    await expect.poll(() => tid(chair, 'quorum').getAttribute('data-met')).toBe('true');
    await tid(chair, 'open-meeting').click();
    for (const p of [chair, member, display]) await expect.poll(() => tid(p, 'meeting-status').textContent()).toMatch(/Đang họp|Đang diễn ra|In session/);
    await expect.poll(() => tid(display, 'current-item').textContent()).toMatch(/^\s*1\./);

    await tid(member, 'ask-speech').click();
    await tid(member, 'my-request').waitFor();
    const grant = chair.locator('[data-testid^="grant-"]').first();
    await grant.click();

    for (const p of [chair, member, display]) {
      await expect.poll(() => tid(p, 'speaker').textContent()).toContain(m.members[0].fullName);
      await tid(p, 'timer').waitFor();
    }
    const speakerName = (await tid(chair, 'speaker').textContent())!.trim();
    expect((await tid(display, 'speaker').textContent())!.trim()).toBe(speakerName);
    expect((await tid(member, 'my-floor').textContent())!.length).toBeGreaterThan(0);
    // Same countdown everywhere (same server start + duration; each corrects by its clock offset).
    const times = await Promise.all([chair, member, display].map(remaining));
    expect(Math.max(...times) - Math.min(...times)).toBeLessThanOrEqual(1);
    expect(times[0]).toBeGreaterThan(170);
    expect(times[0]).toBeLessThanOrEqual(180);

    await screenshot(chair, 'live-console', 'vi');
    await screenshot(member, 'live-member', 'vi');
    await screenshot(display, 'live-display', 'vi');
  });

  it('presenter moves to page 5 and the following member moves too; the member can browse and jump back with one tap', async () => {
    await chair.goto(`/meetings/${m.meetingId}/live`);
    const select = tid(chair, 'doc-select');
    await select.waitFor();
    await until(async () => (await select.locator('option').count()) > 1, { what: 'document list' });
    await select.selectOption({ index: 1 });
    await chair.locator('ec-pdf-viewer input[name="page"]').waitFor();
    await until(async () => !(await chair.locator('ec-pdf-viewer input[name="page"]').isDisabled()), { what: 'viewer ready', timeout: 20_000 });
    await tid(chair, 'present').check();
    await expect.poll(() => tid(member, 'presenter-page').textContent()).toContain('1');

    const pageInput = chair.locator('ec-pdf-viewer input[name="page"]');
    await pageInput.fill('5');
    await pageInput.press('Enter');
    await expect.poll(() => tid(member, 'presenter-page').textContent(), { timeout: 15_000 }).toContain('5');
    await expect.poll(() => member.locator('ec-pdf-viewer').getAttribute('page'), { timeout: 15_000 }).toBe('5');
    await expect.poll(() => tid(member, 'my-page').textContent()).toContain('5');

    // browse freely, then one tap back to the presenter's page
    const memberPage = member.locator('ec-pdf-viewer input[name="page"]');
    await until(async () => !(await memberPage.isDisabled()), { what: 'member viewer ready', timeout: 20_000 });
    await memberPage.fill('2');
    await memberPage.press('Enter');
    await expect.poll(() => tid(member, 'follow').isChecked()).toBe(false);
    await tid(member, 'back-to-presenter').click();
    await expect.poll(() => member.locator('ec-pdf-viewer').getAttribute('page')).toBe('5');
    await screenshot(member, 'live-member-following', 'vi');
  });

  it('the live views work on a phone and in English', async () => {
    // the member's tablet becomes a phone and switches to English (no new sign-in needed)
    await member.setViewportSize(VIEWPORTS.phone);
    await member.locator('ec-language-switch button[lang="en"]').click();
    await expect.poll(() => tid(member, 'current-item').evaluate((el) => document.documentElement.lang)).toBe('en');
    await expect.poll(() => tid(member, 'presenter-state').textContent()).toContain('is presenting');
    await screenshot(member, 'live-member-phone', 'en');
    await chair.goto(`/meetings/${m.meetingId}/console`);
    await chair.locator('ec-language-switch button[lang="en"]').click();
    await expect.poll(() => tid(chair, 'next-speaker').textContent()).toContain('Next speaker');
    await screenshot(chair, 'live-console', 'en');
    // The room display is a kiosk (no menu, no language buttons): its account's language is set instead.
    await display.evaluate(() =>
      fetch('/api/auth/me', { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ locale: 'en' }) }),
    );
    await display.reload();
    await expect.poll(() => tid(display, 'meeting-status').textContent()).toContain('In session');
    await screenshot(display, 'live-display', 'en');
  });
});
