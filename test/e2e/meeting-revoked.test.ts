import type { Browser, Page, WebSocket } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VIEWPORTS, collectProblems, expectAxeClean, launchBrowser, login, newPage, screenshot, smallTouchTargets } from '../helpers/browser.js';
import { buildMeeting } from '../helpers/factories.js';
import { type TestServer, startTestServer } from '../helpers/server.js';
import { pdf, upload } from '../integration/documents-helpers.js';

/**
 * A member removed from a meeting while its pages are open on their devices: every open view of
 * that meeting leaves for the meeting list with a notice, its collaborative documents stop syncing,
 * and the offline copy of the meeting on the tablet is deleted — without a reload.
 */
describe('e2e: access to a meeting revoked while it is open', () => {
  let server: TestServer;
  let browser: Browser;
  beforeAll(async () => {
    server = await startTestServer({ seed: 'admin' });
    browser = await launchBrowser();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  /** WebSockets of the page to the Yjs hub, and whether each has closed. */
  const trackYjs = (page: Page) => {
    const sockets: { url: string; closed: boolean }[] = [];
    page.on('websocket', (ws: WebSocket) => {
      if (!ws.url().includes('/yjs/')) return;
      const entry = { url: ws.url(), closed: false };
      sockets.push(entry);
      ws.on('close', () => (entry.closed = true));
    });
    return sockets;
  };

  it('the tablet (document open, meeting kept offline) and the phone (live view) leave the meeting, drop its offline copy and close its documents', { timeout: 150_000 }, async () => {
    const m = await buildMeeting(server, { members: 2, agendaItems: 1 });
    const sec = await m.as('secretary');
    const doc = await upload(sec, m.meetingId, m.itemIds[0], pdf('seed-0.pdf'), 'seed-0.pdf', { title: 'Tờ trình nhân sự' });
    expect(doc.status).toBe(201);
    const docId = doc.body.id as number;
    const victim = m.members[0];

    // Tablet, Vietnamese: keeps the meeting offline, then reads its document (annotation layers = Yjs).
    const tablet = await newPage(browser, server.url, { viewport: VIEWPORTS.tablet });
    const tabletProblems = collectProblems(tablet);
    const tabletYjs = trackYjs(tablet);
    await login(tablet, victim.username, { password: victim.password });
    await tablet.goto(`/meetings/${m.meetingId}/documents`);
    await tablet.locator('ec-offline-toggle [data-testid="offline-download"]').click();
    await tablet.locator('ec-offline-toggle [data-state="ready"]').waitFor({ timeout: 60_000 });
    const kept = () =>
      tablet.evaluate(
        async ({ meetingId, docId }) => {
          const records = JSON.parse(localStorage.getItem('ec-offline-meetings') ?? '{}') as Record<string, unknown>;
          const urls = (await (await caches.open('ec-offline-v1')).keys()).map((r) => new URL(r.url).pathname);
          const dbs = ((await indexedDB.databases?.()) ?? []).map((d) => d.name ?? '');
          return {
            record: String(meetingId) in records,
            urls: urls.filter((u) => u.startsWith(`/api/meetings/${meetingId}`) || u.startsWith(`/api/documents/${docId}`)).length,
            layers: dbs.filter((n) => n.includes(`annotation:${docId}:`)).length,
          };
        },
        { meetingId: m.meetingId, docId },
      );
    const before = await kept();
    expect(before.record).toBe(true);
    expect(before.urls).toBeGreaterThan(0);
    await tablet.goto(`/documents/${docId}`);
    await tablet.locator('ec-pdf-viewer .pg[data-page="1"]').first().waitFor({ timeout: 30_000 });
    await expect.poll(() => tabletYjs.filter((s) => !s.closed).length, { timeout: 20_000 }).toBeGreaterThanOrEqual(2);
    expect((await kept()).layers).toBeGreaterThan(0);

    // Phone, English: the live view of the meeting (joined to its realtime room).
    const phone = await newPage(browser, server.url, { viewport: VIEWPORTS.phone });
    await login(phone, victim.username, { password: victim.password });
    await (await server.login(victim.username, victim.password)).patch('/api/auth/me', { locale: 'en' });
    await phone.goto(`/meetings/${m.meetingId}/live`);
    await phone.locator('ec-live-view').waitFor();

    // The secretary takes the member off the meeting.
    const meeting = (await sec.get(`/api/meetings/${m.meetingId}`)).body;
    const keep = (meeting.participants as { userId: number; role: string; canVote: boolean }[]).filter((x) => x.userId !== victim.id).map(({ userId, role, canVote }) => ({ userId, role, canVote }));
    expect((await sec.patch(`/api/meetings/${m.meetingId}`, { version: meeting.version, participants: keep })).status).toBe(200);

    // Both devices leave the meeting for the list, with the notice.
    for (const page of [tablet, phone]) {
      await page.waitForURL((u) => u.pathname === '/meetings', { timeout: 15_000 });
      await page.locator('[data-testid="meeting-revoked"]').waitFor({ timeout: 10_000 });
    }
    await expect(tablet.locator('[data-testid="meeting-revoked"]').textContent()).resolves.toContain('không còn quyền truy cập');
    await expect(phone.locator('[data-testid="meeting-revoked"]').textContent()).resolves.toContain('no longer have access');
    // The tablet's collaborative documents of the meeting are closed and its offline copy is gone.
    await expect.poll(() => tabletYjs.filter((s) => !s.closed).map((s) => s.url), { timeout: 10_000 }).toEqual([]);
    await expect.poll(kept, { timeout: 10_000 }).toEqual({ record: false, urls: 0, layers: 0 });
    // The meeting is no longer listed.
    await tablet.locator('ec-meeting-list-view').waitFor();
    await expect.poll(() => tablet.locator(`ec-meeting-list-view a[href="/meetings/${m.meetingId}"]`).count()).toBe(0);

    expect(await smallTouchTargets(tablet)).toEqual([]);
    await expectAxeClean(tablet, { label: 'meeting list after revocation (tablet, vi)' });
    await screenshot(tablet, 'meeting-revoked', 'vi');
    await expectAxeClean(phone, { label: 'meeting list after revocation (phone)' });
    expect(await smallTouchTargets(phone)).toEqual([]);
    await screenshot(phone, 'meeting-revoked-phone', 'en');

    // The notice is dismissed with its button (keyboard: it is a plain button).
    await tablet.locator('[data-testid="meeting-revoked"] button').focus();
    await tablet.keyboard.press('Enter');
    await tablet.locator('[data-testid="meeting-revoked"]').waitFor({ state: 'detached' });
    expect(tabletProblems.errors).toEqual([]);
    await tablet.context().close();
    await phone.context().close();
  });
});
