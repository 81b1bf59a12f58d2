import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { ADMIN, SCREENSHOT_DIR, VIEWPORTS, launchBrowser, loginAs, newPage, screenshot } from '../helpers/browser.js';
import { type BuiltMeeting, buildMeeting } from '../helpers/factories.js';
import { type TestServer, startTestServer } from '../helpers/server.js';

/**
 * Collaborative item notes in Chromium: two secretaries edit the same item's notes at once (rich
 * text over the Yjs hub), a member follows them live on a phone and cannot edit. Screenshots in vi
 * and en. The meetings are the journey's own (factories); the second "secretary" is the admin. Needs the built client (`npm run build`).
 */
// One journey in steps: they share the browsers, the server and the meeting, and run in the order written
// (CI shuffles the files and the unit and integration tests; see scripts/test.sh).
describe('item notes e2e: secretaries co-edit, a member follows live', { shuffle: false }, () => {
  let server: TestServer;
  let browser: Browser;
  let m: BuiltMeeting;

  beforeAll(async () => {
    server = await startTestServer({ seed: 'admin' });
    m = await buildMeeting(server, { members: 1, agendaItems: 2 });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  const editor = (page: Page) => page.locator('ec-item-notes [data-testid="notes-editor"]');
  /** The notes card alone on the phone (the full page is very tall there). */
  const shootNotes = async (page: Page, locale: string) => {
    await page.evaluate(() => document.fonts.ready.then(() => undefined));
    await page.locator('[data-testid="item-notes"]').screenshot({ path: path.join(SCREENSHOT_DIR, `item-notes-phone-${locale}.png`) });
  };
  const synced = (page: Page) => page.locator('ec-item-notes [data-testid="notes-status"][data-status="online"]', { hasText: /Đã đồng bộ|Synced/ }).waitFor();

  it('two secretaries type into the same notes at once and a member sees both live, read-only', async () => {
    const [sec, admin, member] = await Promise.all([
      newPage(browser, server.url, { viewport: VIEWPORTS.tablet }),
      newPage(browser, server.url, { viewport: VIEWPORTS.tablet }),
      newPage(browser, server.url, { viewport: VIEWPORTS.phone, hasTouch: true }),
    ]);
    await loginAs(sec, m.secretary);
    await loginAs(admin, ADMIN);
    await loginAs(member, m.members[0]);
    const errors: string[] = [];
    for (const p of [sec, admin, member]) {
      p.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
      p.on('pageerror', (e) => errors.push(e.message));
    }
    for (const p of [sec, admin, member]) {
      await p.goto(`/meetings/${m.meetingId}`);
      await synced(p);
    }

    await editor(sec).click();
    await sec.keyboard.type('Kết luận: thống nhất thông qua báo cáo.');
    await sec.keyboard.press('Enter');
    await sec.locator('ec-item-notes .bar button', { hasText: 'Danh sách' }).click();
    await sec.keyboard.type('Giao Sở Nội vụ chủ trì');
    // Meanwhile the second secretary adds a line at the end.
    await expect.poll(() => editor(admin).innerText()).toContain('Giao Sở Nội vụ chủ trì');
    await editor(admin).click();
    await admin.keyboard.press('Control+End');
    await admin.keyboard.press('Enter');
    await admin.keyboard.type('Thời hạn: 31/12.');

    for (const p of [sec, admin, member]) {
      await expect.poll(() => editor(p).innerText()).toMatch(/Kết luận: thống nhất thông qua báo cáo\.[\s\S]*Giao Sở Nội vụ chủ trì[\s\S]*Thời hạn: 31\/12\./);
    }
    expect(await member.locator('ec-item-notes li').count()).toBeGreaterThan(0);
    expect(errors.filter((e) => /Yjs|prosemirror|tiptap/i.test(e))).toEqual([]);

    // The member follows live but cannot edit.
    expect(await editor(member).getAttribute('contenteditable')).toBe('false');
    await expect.poll(() => member.locator('ec-item-notes .hint').innerText()).toContain('Chỉ thư ký');
    await screenshot(sec, 'item-notes', 'vi');
    await shootNotes(member, 'vi');

    // Another item has its own, empty notes.
    const other = await sec.locator('ec-item-notes-panel select option').nth(1).getAttribute('value');
    await sec.locator('ec-item-notes-panel select').selectOption(other!);
    await synced(sec);
    expect((await editor(sec).innerText()).trim()).toBe('');

    await member.locator('ec-language-switch button[lang="en"]').first().click();
    await member.locator('ec-item-notes-panel h2', { hasText: 'Notes by agenda item' }).waitFor();
    await synced(member);
    await shootNotes(member, 'en');
    await sec.locator('ec-language-switch button[lang="en"]').first().click();
    await sec.locator('ec-item-notes-panel h2', { hasText: 'Notes by agenda item' }).waitFor();
    await screenshot(sec, 'item-notes', 'en');
  });

  it('a participant removed mid-meeting leaves the meeting and its notes with a notice, and a signed-out one goes back to login', async () => {
    const c = await buildMeeting(server, { members: 2, agendaItems: 1 });
    const [removed, stays] = c.members;
    const secretary = await c.as('secretary');
    const [p2, p3] = await Promise.all([newPage(browser, server.url), newPage(browser, server.url)]);
    await loginAs(p2, removed);
    await loginAs(p3, stays);
    for (const p of [p2, p3]) {
      await p.goto(`/meetings/${c.meetingId}`);
      await synced(p);
    }

    const meeting = await secretary.get(`/api/meetings/${c.meetingId}`);
    const keep = (meeting.body.participants as { userId: number; role: string; canVote: boolean }[]).filter((x) => x.userId !== removed.id).map(({ userId, role, canVote }) => ({ userId, role, canVote }));
    const r = await secretary.patch(`/api/meetings/${c.meetingId}`, { version: meeting.body.version, participants: keep });
    expect(r.status).toBe(200);
    // The removed member's tablet leaves the meeting (and its notes) for the list with the "no longer have access" notice
    // (meeting:access_revoked, docs/SECURITY.md); the notes document is closed with it.
    await p2.waitForURL((u) => u.pathname === '/meetings', { timeout: 30_000 });
    await p2.locator('[data-testid="meeting-revoked"]').waitFor({ timeout: 15_000 });
    await expect(p2.locator('[data-testid="meeting-revoked"]').textContent()).resolves.toContain('không còn quyền truy cập');
    expect(await p2.locator('ec-item-notes').count()).toBe(0);

    // The other member signs out elsewhere; the hub's re-check closes the notes with 4401 and the app shows the login page.
    await p3.evaluate(() => fetch('/api/auth/logout', { method: 'POST' }));
    await server.app.ctx.yjs.recheck({ userId: stays.id });
    await p3.waitForURL(/\/login/);
  });
});
