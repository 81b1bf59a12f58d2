import fs from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectProblems, launchBrowser, loginAs, newPage, screenshot, smallTouchTargets } from '../helpers/browser.js';
import { type BuiltMeeting, buildMeeting, buildUser } from '../helpers/factories.js';
import { type TestServer, inDays, startTestServer } from '../helpers/server.js';

const PDF = path.resolve(import.meta.dirname, '../../../shared/testdata/pdfs/seed-1.pdf');
/** A real-world long name: it must shrink with an ellipsis on a phone, never widen the page. */
const PDF_NAME = 'Dự thảo kế hoạch số hóa hồ sơ một cửa liên thông cấp tỉnh năm 2027 (bản trình).pdf';

let server: TestServer;
let browser: Browser;
let taskId: number;
/** The test's own meeting (factories); its first member owns the task. */
let m: BuiltMeeting;

beforeAll(async () => {
  server = await startTestServer({ seed: 'admin' });
  m = await buildMeeting(server, { members: 1, agendaItems: 1 });
  // Someone of "Sở Tài chính" in the directory: the unit may co-operate on tasks.
  await buildUser(server, { unit: 'Sở Tài chính' });
  const secretary = await m.as('secretary');
  const t = await secretary.post('/api/tasks', {
    meetingId: m.meetingId,
    agendaItemId: m.itemIds[0],
    title: 'Xây dựng kế hoạch số hóa hồ sơ một cửa năm 2027',
    description: 'Sở Nội vụ chủ trì, Sở Tài chính phối hợp bố trí kinh phí.',
    owner: { kind: 'user', userId: m.members[0].id },
    coUnits: ['Sở Tài chính'],
    deadline: inDays(14),
  });
  taskId = t.body.id;
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('progress report with attachments', () => {
  it('the owner attaches files to a progress report, sees the upload, then the files as download links in the history (vi and en)', async () => {
    const page = await newPage(browser, server.url);
    const problems = collectProblems(page);
    await loginAs(page, m.members[0]);
    await page.goto('/tasks');
    const card = page.locator(`[data-testid="task-${taskId}"]`);
    await card.waitFor();

    await card.locator('[data-testid="progress-comment"]').fill('Đã hoàn thành dự thảo kế hoạch; gửi kèm dự thảo và bảng kinh phí.');
    await card.locator('input[type="number"]').fill('60');
    const input = card.locator('[data-testid="attach-input"]');
    await input.setInputFiles([
      { name: PDF_NAME, mimeType: 'application/pdf', buffer: fs.readFileSync(PDF) },
      { name: 'ghi-chú.txt', mimeType: 'text/plain', buffer: Buffer.from('Ghi chú: kinh phí dự kiến 2 tỷ đồng.\n') },
      { name: 'nhầm.exe', mimeType: 'application/octet-stream', buffer: Buffer.from('MZ\x90\x00') },
    ]);
    await expect.poll(() => card.locator('[data-testid="chosen-file"]').count()).toBe(3);
    // The wrong file is taken off the list before sending.
    await card.locator('[data-testid="chosen-file"]', { hasText: 'nhầm.exe' }).locator('button').click();
    await expect.poll(() => card.locator('[data-testid="chosen-file"]').count()).toBe(2);
    expect(await smallTouchTargets(page)).toEqual([]);
    await screenshot(page, 'my-tasks-attach', 'vi');

    await card.locator('button[type="submit"]').click();
    await card.locator('[data-testid="history-toggle"]').click();
    const links = card.locator('[data-testid="attachment-link"]');
    await expect.poll(() => links.count(), { timeout: 15_000 }).toBe(2);
    expect(await links.first().textContent()).toContain(PDF_NAME);
    expect(await links.nth(1).textContent()).toContain('ghi-chú.txt');
    // The form empties once the report's answer is back (the history may show the files a moment earlier, by push).
    await expect.poll(() => card.locator('[data-testid="chosen-file"]').count()).toBe(0);

    // A download link gives back the very bytes, under the Vietnamese name.
    const [download] = await Promise.all([page.waitForEvent('download'), links.first().click()]);
    expect(download.suggestedFilename()).toBe(PDF_NAME);
    const saved = await download.path();
    expect(fs.readFileSync(saved).equals(fs.readFileSync(PDF))).toBe(true);

    // A refused type shows a clear error and sends nothing.
    await card.locator('[data-testid="progress-comment"]').fill('Thử gửi trang web');
    await input.setInputFiles([{ name: 'bao-cao.pdf', mimeType: 'application/pdf', buffer: Buffer.from('<html><body>not a pdf</body></html>') }]);
    await card.locator('button[type="submit"]').click();
    await card.locator('[data-testid="report-error"]').waitFor();
    expect(await card.locator('[data-testid="report-error"]').textContent()).toContain('Loại tệp không được chấp nhận');
    await card.locator('[data-testid="chosen-file"] button').click();
    await card.locator('[data-testid="progress-comment"]').fill('');

    await screenshot(page, 'my-tasks', 'vi');
    // On a phone the long file names shrink (ellipsis) instead of widening the page.
    await page.setViewportSize({ width: 390, height: 844 });
    expect(await page.evaluate('document.documentElement.scrollWidth <= document.documentElement.clientWidth')).toBe(true);
    expect(await smallTouchTargets(page)).toEqual([]);
    await page.setViewportSize({ width: 1024, height: 768 });

    await page.locator('ec-language-switch button[lang="en"]').first().click();
    await card.locator('[data-testid="attach-files"]', { hasText: 'Attach files' }).waitFor();
    await page.reload();
    await card.locator('[data-testid="history-toggle"]', { hasText: 'History' }).click();
    await expect.poll(() => links.count()).toBe(2);
    await card.locator('[data-testid="attach-files"]', { hasText: 'Attach files' }).waitFor();
    await screenshot(page, 'my-tasks', 'en');
    expect(problems.csp).toEqual([]);
    expect(problems.errors).toEqual([]);
  }, 90_000);
});
