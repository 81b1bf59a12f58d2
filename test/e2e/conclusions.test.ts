import path from 'node:path';
import fs from 'node:fs';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VIEWPORTS, collectProblems, expectAxeClean, launchBrowser, loginAs, newPage, screenshot, smallTouchTargets } from '../helpers/browser.js';
import { type BuiltMeeting, buildCommitteeMeeting, buildMeeting, buildUser } from '../helpers/factories.js';
import { type TestServer, inDays, startTestServer } from '../helpers/server.js';

const PDF = path.resolve(import.meta.dirname, '../../../shared/testdata/pdfs/seed-1.pdf');

let server: TestServer;
let browser: Browser;
/** The test's own committee (factories): chair, secretary, two members; its meeting with two items. */
let m: BuiltMeeting;
let meetingId: number;
let committeeId: number;
let itemIds: number[];
let laterTaskId: number;

beforeAll(async () => {
  server = await startTestServer({ seed: 'admin' });
  m = await buildMeeting(server, { members: 2, agendaItems: 2, title: 'Phiên họp chuyên đề chuyển đổi số' });
  const secretary = await m.as('secretary');
  // Someone of "Sở Tài chính" in the directory: the unit is offered as a task owner.
  await buildUser(server, { unit: 'Sở Tài chính' });
  meetingId = m.meetingId;
  committeeId = m.committeeId;
  itemIds = m.itemIds;
  // Another meeting's task, not due for two months: the board must rank the late meeting first.
  const other = await buildCommitteeMeeting(m, { agendaItems: 1, publish: true, title: 'Phiên họp thường kỳ tháng 12' });
  const later = await secretary.post('/api/tasks', { meetingId: other.meetingId, agendaItemId: other.itemIds[0], title: 'Tổng kết năm', owner: { kind: 'user', userId: m.members[1].id }, deadline: inDays(60) });
  laterTaskId = later.body.id;
  browser = await launchBrowser();
});

afterAll(async () => {
  server.app.ctx.jobs.setOptions({ now: () => new Date() });
  await browser?.close();
  await server?.close();
});

describe('conclusions to tasks in the browser', () => {
  it('the secretary records a conclusion on an item and turns it into two tasks; they show in the minutes conclusions section and on the board; the owner reports progress with a comment and a file; the board shows overdue work by owner and by meeting', async () => {
    const sec = await newPage(browser, server.url);
    const problems = collectProblems(sec);
    await loginAs(sec, m.secretary);
    await sec.goto(`/meetings/${meetingId}`);
    const section = sec.locator(`[data-testid="conclusions-item-${itemIds[0]}"]`);
    await section.locator('[data-testid="add-conclusion"]').click();
    await section.locator('input[type="radio"][value="assignment"]').check();
    await section.locator('[data-testid="conclusion-text"]').fill('Giao Sở Nội vụ và Sở Tài chính xây dựng kế hoạch số hóa hồ sơ năm 2027, trình Ban Chỉ đạo.');
    await section.locator('[data-testid="conclusion-submit"]').click();
    const conclusion = section.locator('[data-testid="conclusion"]');
    await conclusion.filter({ hasText: 'Giao Sở Nội vụ và Sở Tài chính' }).waitFor();
    expect(await conclusion.locator('.badge').textContent()).toContain('Giao nhiệm vụ');

    // Two tasks from the one conclusion, one owner each.
    await conclusion.locator('[data-testid="assign-task"]').click();
    const form = conclusion.locator('[data-testid="task-form"]');
    await form.locator('[data-testid="task-title"]').fill('Xây dựng dự thảo kế hoạch số hóa hồ sơ');
    await form.locator('[data-testid="task-owner"]').selectOption(`user:${m.members[0].id}`);
    await form.locator('[data-testid="task-result"]').fill('Dự thảo kế hoạch trình Ban Chỉ đạo');
    await form.locator('[data-testid="task-submit"]').click();
    await conclusion.locator('[data-testid="conclusion-task"]').first().waitFor();
    await form.locator('[data-testid="task-title"]').fill('Bố trí kinh phí số hóa năm 2027');
    await form.locator('[data-testid="task-owner"]').selectOption('unit:Sở Tài chính');
    await form.locator('[data-testid="task-deadline"]').fill(new Date(Date.now() + 7 * 3600_000 + 20 * 86400_000).toISOString().slice(0, 10));
    await form.locator('[data-testid="task-submit"]').click();
    // Not expect.poll's 1 s default: the task's POST (which now waits for the committee's follow-up item) and the
    // two reloads can take longer than that on PostgreSQL under load; the task is created, only later.
    await expect.poll(() => conclusion.locator('[data-testid="conclusion-task"]').count(), { timeout: 15_000 }).toBe(2);
    expect(await conclusion.locator('[data-testid="conclusion-task"]').allTextContents()).toEqual([
      expect.stringContaining('Xây dựng dự thảo kế hoạch số hóa hồ sơ'),
      expect.stringContaining('Sở Tài chính'),
    ]);
    expect(await smallTouchTargets(sec)).toEqual([]);
    await expectAxeClean(sec, { label: 'meeting detail with conclusions (secretary)' });
    await screenshot(sec, 'meeting-conclusions', 'vi');

    // The minutes' conclusions section (generated by the server) lists both tasks under the conclusion.
    await sec.goto(`/meetings/${meetingId}/minutes`);
    const generated = sec.locator('ec-minutes-blocks[data-section="conclusions"]');
    await expect.poll(async () => ((await generated.count()) ? await generated.evaluate((e) => e.shadowRoot?.textContent ?? '') : ''), { timeout: 15_000 }).toMatch(
      new RegExp(`KẾT LUẬN VÀ GIAO NHIỆM VỤ[\\s\\S]*Giao nhiệm vụ: Giao Sở Nội vụ và Sở Tài chính[\\s\\S]*Xây dựng dự thảo kế hoạch số hóa hồ sơ — Chủ trì: ${m.members[0].fullName}[\\s\\S]*kết quả: Dự thảo kế hoạch trình Ban Chỉ đạo[\\s\\S]*Bố trí kinh phí số hóa năm 2027 — Chủ trì: Sở Tài chính`),
    );
    await expectAxeClean(sec, { label: 'minutes (secretary)' });
    await screenshot(sec, 'minutes-conclusions', 'vi');

    // The board: both tasks with their 5 rõ.
    await sec.goto(`/committees/${committeeId}/tasks`);
    const card = sec.locator('ec-task-card', { hasText: 'Xây dựng dự thảo kế hoạch số hóa hồ sơ' });
    await card.waitFor();
    const five = card.locator('[data-testid="five-clear"]');
    expect(await five.innerText()).toMatch(
      new RegExp(`Rõ người[\\s\\S]*Rõ việc[\\s\\S]*Rõ quy trình[\\s\\S]*Phiên họp chuyên đề chuyển đổi số › Nội dung 1[\\s\\S]*Theo kết luận: Giao Sở Nội vụ[\\s\\S]*Giao bởi ${m.secretary.fullName}[\\s\\S]*Rõ trách nhiệm[\\s\\S]*Rõ kết quả[\\s\\S]*Dự thảo kế hoạch trình Ban Chỉ đạo`),
    );

    // The owner reports progress with a comment and a file.
    const owner = await newPage(browser, server.url);
    const ownerProblems = collectProblems(owner);
    await loginAs(owner, m.members[0]);
    await owner.goto('/tasks');
    const mine = owner.locator('ec-task-card', { hasText: 'Xây dựng dự thảo kế hoạch số hóa hồ sơ' });
    await mine.locator('[data-testid="progress-comment"]').fill('Đã có dự thảo lần 1, gửi kèm.');
    await mine.locator('input[type="number"]').fill('40');
    await mine.locator('[data-testid="attach-input"]').setInputFiles([{ name: 'du-thao-ke-hoach.pdf', mimeType: 'application/pdf', buffer: fs.readFileSync(PDF) }]);
    await mine.locator('button[type="submit"]').click();
    await mine.locator('[data-testid="five-result"]', { hasText: '40%' }).waitFor();
    await mine.locator('[data-testid="history-toggle"]').click();
    await mine.locator('[data-testid="attachment-link"]', { hasText: 'du-thao-ke-hoach.pdf' }).waitFor();
    expect(await mine.locator('[data-testid="history-event"]').last().innerText()).toContain('Đã có dự thảo lần 1, gửi kèm.');
    await expectAxeClean(owner, { label: 'my tasks (owner)' });
    await screenshot(owner, 'my-tasks-five-clear', 'vi');

    // A month later both tasks of the first meeting are overdue; the other meeting's is not.
    const monthLater = Date.now() + 30 * 86400_000;
    server.app.ctx.jobs.setOptions({ now: () => new Date(monthLater) });
    await sec.goto(`/committees/${committeeId}/tasks`);
    await sec.locator('ec-task-card').first().waitFor();
    await sec.locator('[data-testid="group-owner"]').click();
    const groups = sec.locator('[data-testid="task-group"]');
    await expect.poll(() => groups.count(), { timeout: 15_000 }).toBe(3);
    const byOwner = await groups.evaluateAll((els) => els.map((e) => (e.querySelector('[data-testid="group-name"]')?.textContent ?? '') + '|' + (e.querySelector('[data-testid="group-overdue"]')?.textContent ?? '')));
    expect(byOwner.slice(0, 2).sort()).toEqual([`${m.members[0].fullName}|1 quá hạn`, 'Sở Tài chính|1 quá hạn'].sort());
    expect(byOwner[2]).toMatch(/\|$/);
    await sec.locator('[data-testid="group-meeting"]').click();
    await expect.poll(() => groups.count(), { timeout: 15_000 }).toBe(2);
    expect(await groups.first().locator('[data-testid="group-name"]').textContent()).toBe('Phiên họp chuyên đề chuyển đổi số');
    expect(await groups.first().locator('[data-testid="group-overdue"]').textContent()).toBe('2 quá hạn');
    expect(await groups.nth(1).locator('[data-testid="group-overdue"]').count()).toBe(0);
    expect(await groups.nth(1).locator(`[data-testid="task-${laterTaskId}"]`).count()).toBe(1);
    expect(await smallTouchTargets(sec)).toEqual([]);
    await expectAxeClean(sec, { label: 'task board grouped by meeting' });
    await screenshot(sec, 'task-board-by-meeting', 'vi');

    // English on a phone.
    await sec.setViewportSize(VIEWPORTS.phone);
    await sec.locator('ec-language-switch button[lang="en"]').first().click();
    await sec.locator('[data-testid="group-owner"]', { hasText: 'By owner' }).click();
    await sec.locator('[data-testid="group-overdue"]', { hasText: '1 overdue' }).first().waitFor();
    expect(await sec.evaluate('document.documentElement.scrollWidth <= document.documentElement.clientWidth')).toBe(true);
    expect(await smallTouchTargets(sec)).toEqual([]);
    await expectAxeClean(sec, { label: 'task board (en, phone)' });
    await screenshot(sec, 'task-board-by-owner', 'en');
    await sec.goto(`/meetings/${meetingId}`);
    await sec.locator('[data-testid="conclusion"]', { hasText: 'Assignment' }).waitFor();
    expect(await sec.evaluate('document.documentElement.scrollWidth <= document.documentElement.clientWidth')).toBe(true);
    await expectAxeClean(sec, { label: 'meeting detail (en, phone)' });
    await screenshot(sec, 'meeting-conclusions', 'en');

    expect(problems.csp).toEqual([]);
    expect(problems.errors).toEqual([]);
    expect(ownerProblems.errors).toEqual([]);
  }, 300_000);
});
