import crypto from 'node:crypto';
import fs from 'node:fs';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VIEWPORTS, collectProblems, expectAxeClean, launchBrowser, login, newPage, screenshot, smallTouchTargets } from '../helpers/browser.js';
import { type BuiltMeeting, buildMeeting } from '../helpers/factories.js';
import { type TestServer, startTestServer } from '../helpers/server.js';
import { connectSocket, connected, newCommandId } from '../helpers/socket.js';
import { pdf, upload } from '../integration/documents-helpers.js';

let server: TestServer;
let browser: Browser;
let m: BuiltMeeting;

beforeAll(async () => {
  server = await startTestServer({ seed: 'admin' });
  // The secretary's own meeting (factories: her committee, her meeting, one document), run and closed by its chair.
  m = await buildMeeting(server, { members: 2, agendaItems: 1, title: `Phiên họp lưu trữ ${crypto.randomBytes(3).toString('hex')}` });
  const secretary = await m.as('secretary');
  expect((await upload(secretary, m.meetingId, m.itemIds[0], pdf('alphatrans.pdf'), 'to-trinh.pdf')).status).toBe(201);
  const chair = await connected(connectSocket(server.url, await m.as('chair')));
  expect(await chair.cmd('meeting:join', { meetingId: m.meetingId })).toMatchObject({ ok: true });
  expect(await chair.cmd('meeting:open', { meetingId: m.meetingId, overrideReason: 'Thử lưu trữ' })).toMatchObject({ ok: true });
  expect(await chair.cmd('meeting:close', { meetingId: m.meetingId, commandId: newCommandId() })).toMatchObject({ ok: true });
  chair.close();
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('meeting archive in the browser', () => {
  it('the secretary finds her closed meeting under past meetings, creates its archive, watches the progress and downloads the zip whose SHA-256 the page shows (vi at tablet size, en on a phone)', async () => {
    const page = await newPage(browser, server.url, { viewport: VIEWPORTS.tablet });
    const problems = collectProblems(page);
    await login(page, m.secretary.username, { password: m.secretary.password });
    await page.locator('ec-meeting-list-view #tab-past').click();
    await page.locator('ec-meeting-list-view a', { hasText: 'Phiên họp lưu trữ' }).click();
    await page.waitForURL(new RegExp(`/meetings/${m.meetingId}$`));
    const section = page.locator('[data-testid="meeting-archive"]');
    await section.waitFor();
    expect(await section.locator('h2').textContent()).toBe('Lưu trữ phiên họp');
    await section.locator('[data-testid="archive-start"]').click();
    // The progress indicator shows while the job runs (or the finished archive, on a fast machine).
    await page.locator('[data-testid="archive-progress"], [data-testid="archive-download"]').first().waitFor();
    const link = section.locator('[data-testid="archive-download"]');
    await link.waitFor({ timeout: 30_000 });
    expect(await link.textContent()).toMatch(/Tải gói lưu trữ \(\d+(\.\d)? (KB|MB)\)/);
    const shown = (await section.locator('[data-testid="archive-sha256"]').textContent())!.replace('SHA-256:', '').trim();
    expect(shown).toMatch(/^[0-9a-f]{64}$/);
    expect(await smallTouchTargets(page)).toEqual([]);
    await expectAxeClean(page, { label: 'archive vi' });
    await screenshot(page, 'meeting-archive', 'vi');

    const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
    expect(download.suggestedFilename()).toMatch(new RegExp(`^luu-tru-phien-hop-${m.meetingId}-\\d{8}\\.zip$`));
    const bytes = fs.readFileSync((await download.path())!);
    expect(crypto.createHash('sha256').update(bytes).digest('hex')).toBe(shown);
    expect(bytes.subarray(0, 4).toString('latin1')).toBe('PK\u0003\u0004');

    // English on a phone: the account's language, the same archive offered.
    await page.setViewportSize(VIEWPORTS.phone);
    await page.evaluate(() => fetch('/api/auth/me', { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ locale: 'en' }) }));
    await page.goto(`/meetings/${m.meetingId}`);
    const en = page.locator('[data-testid="meeting-archive"]');
    await en.locator('[data-testid="archive-download"]').waitFor();
    expect(await en.locator('h2').textContent()).toBe('Meeting archive');
    expect(await en.locator('[data-testid="archive-download"]').textContent()).toMatch(/^Download the archive \(/);
    expect(await smallTouchTargets(page)).toEqual([]);
    await expectAxeClean(page, { label: 'archive en phone' });
    await screenshot(page, 'meeting-archive', 'en');
    expect([...problems.errors, ...problems.csp]).toEqual([]);
    await page.context().close();
  });
});
