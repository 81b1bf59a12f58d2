import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDemoMeeting } from '../../server/minutes/minutes.demo.js';
import { ADMIN, SCREENSHOT_DIR, VIEWPORTS, collectProblems, launchBrowser, loginAs, newPage, screenshot } from '../helpers/browser.js';
import { type BuiltMeeting, buildMeeting } from '../helpers/factories.js';
import { pdfsig } from '../helpers/pdfsig.js';
import { type TestServer, inDays, startTestServer } from '../helpers/server.js';

let server: TestServer;
let browser: Browser;
let taskDeadline: string;
/** The test's own committee and meeting (factories): the chair, the secretary and the twelve members the script needs. */
let m: BuiltMeeting;

beforeAll(async () => {
  server = await startTestServer({ seed: 'admin' });
  m = await buildMeeting(server, { members: 12, agendaItems: 2 });
  // The task goes to "Sở Nội vụ" (the first member's unit) with "Sở Thông tin và Truyền thông" (the second's).
  const admin = await server.login('admin');
  for (const [u, unit] of [[m.members[0], 'Sở Nội vụ'], [m.members[1], 'Sở Thông tin và Truyền thông']] as const) {
    expect((await admin.patch(`/api/users/${u.id}`, { unit })).status).toBe(200);
  }
  taskDeadline = inDays(2);
  // The meeting happened: attendance, speakers, a motion voted and announced, a conclusion and a task.
  await runDemoMeeting(server.app.ctx, m.meetingId, {
    taskDeadline,
    people: { secretary: m.secretary.username, chair: m.chair.username, members: m.members.map((u) => u.username) },
  });
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

async function openMinutes(page: Page, user: { username: string; password: string }) {
  await loginAs(page, user);
  await page.goto(`/meetings/${m.meetingId}`);
  await page.locator('[data-testid="minutes-link"]').click();
  await page.locator('ec-minutes-view h1').waitFor();
}

async function typeInEditor(page: Page, text: string) {
  const editor = page.locator('ec-minutes-editor .ProseMirror');
  await editor.click();
  await page.keyboard.press('End');
  await page.keyboard.press('Enter');
  await page.keyboard.type(text);
}

async function sign(page: Page) {
  await page.locator('[data-testid="sign-open"]').click();
  await page.locator('[data-testid="sign-pin"]').fill('123456');
  await page.locator('[data-testid="sign-confirm"]').click();
  await page.locator('ec-sign-dialog').waitFor({ state: 'detached' });
}

describe('minutes end to end', () => {
  it('two secretaries write together, the vote result is in the generated part, finalize, chair and secretary sign, a member acknowledges, the task shows on "my tasks" and, once overdue, first on the board', async () => {
    const a = await newPage(browser, server.url);
    const problems = collectProblems(a);
    const b = await newPage(browser, server.url);
    const problemsB = collectProblems(b);
    await openMinutes(a, m.secretary);
    await openMinutes(b, ADMIN); // a second minutes writer (managers of the meeting may write)

    // Generated part: recomputed from the live meeting and the votes domain.
    const generated = a.locator('ec-minutes-view section.generated');
    await generated.getByText('Kết quả: Thông qua').waitFor({ timeout: 15_000 });
    await generated.getByText('Vắng (lý do: Ốm)').waitFor();
    await generated.getByText(`${m.members[0].fullName} — 3 phút 5 giây`).waitFor();

    await typeInEditor(a, 'Thư ký Thu ghi: các sở thống nhất lộ trình.');
    await typeInEditor(b, 'Quản trị bổ sung: cần bố trí kinh phí.');
    await expect.poll(() => a.locator('ec-minutes-editor .ProseMirror').innerText(), { timeout: 15_000 }).toContain('Quản trị bổ sung: cần bố trí kinh phí.');
    await expect.poll(() => b.locator('ec-minutes-editor .ProseMirror').innerText(), { timeout: 15_000 }).toContain('Thư ký Thu ghi: các sở thống nhất lộ trình.');
    // Live cursors carry the other writer's name.
    await expect.poll(() => b.locator('ec-minutes-editor .collaboration-carets__label').allInnerTexts(), { timeout: 15_000 }).toContain(m.secretary.fullName);
    await screenshot(a, 'minutes-editor', 'vi');

    await a.locator('[data-testid="finalize"]').click();
    await a.locator('[data-testid="minutes-version-1"]').waitFor();

    const chair = await newPage(browser, server.url);
    await openMinutes(chair, m.chair);
    await chair.locator('[data-testid="sign-open"]').click();
    await chair.locator('[data-testid="sign-pin"]').fill('000000');
    await chair.locator('[data-testid="sign-confirm"]').click();
    await chair.locator('ec-sign-dialog .error').filter({ hasText: 'Còn 4 lần thử' }).waitFor();
    await chair.locator('[data-testid="sign-pin"]').fill('123456');
    await screenshot(chair, 'minutes-sign', 'vi');
    await chair.locator('[data-testid="sign-confirm"]').click();
    await chair.locator('ec-sign-dialog').waitFor({ state: 'detached' });
    await chair.locator('[data-testid="signature-chair"]').waitFor();

    await a.reload();
    await a.locator('[data-testid="minutes-version-1"]').waitFor();
    await sign(a);
    await a.locator('[data-testid="signature-secretary"]').waitFor();

    const member = await newPage(browser, server.url);
    await openMinutes(member, m.members[0]);
    await member.locator('[data-testid="ack"]').click();
    await member.locator('[data-testid="acks"]').filter({ hasText: m.members[0].fullName }).waitFor();
    await screenshot(member, 'minutes-published', 'vi');
    await member.setViewportSize(VIEWPORTS.phone);
    await screenshot(member, 'minutes-phone', 'vi');
    await member.setViewportSize(VIEWPORTS.tablet);

    // The signed PDF verifies; its pages are rendered for the docs.
    const pdf = Buffer.from(await (await member.request.get(`/api/meetings/${m.meetingId}/minutes/versions/1/pdf`)).body());
    expect(pdfsig(pdf).signatures.map((s) => s.validation)).toEqual(['Signature is Valid.', 'Signature is Valid.']);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'minutes-pdf-'));
    fs.writeFileSync(path.join(dir, 'm.pdf'), pdf);
    execFileSync('/usr/bin/pdftoppm', ['-png', '-r', '60', path.join(dir, 'm.pdf'), path.join(dir, 'p')]);
    for (const f of fs.readdirSync(dir).filter((x) => x.endsWith('.png'))) {
      const n = Number(/p-0*(\d+)\.png/.exec(f)![1]);
      fs.copyFileSync(path.join(dir, f), path.join(SCREENSHOT_DIR, `minutes-pdf-page${n}-vi.png`));
    }

    // "My tasks" of a person of the owner unit (Sở Nội vụ).
    await member.locator('ec-app nav a[href="/tasks"]').click();
    await member.locator('ec-task-card').filter({ hasText: 'kế hoạch số hóa hồ sơ năm 2027' }).waitFor();
    expect(await member.locator('[data-testid="overdue"]').count()).toBe(0);
    await screenshot(member, 'my-tasks-from-conclusion', 'vi');

    // The deadline passes (the server's task clock is moved forward): first on the board, marked overdue.
    server.app.ctx.jobs.setOptions({ now: () => new Date(Date.parse(taskDeadline) + 86400_000) });
    await a.goto(`/committees/${m.committeeId}/tasks`);
    const first = a.locator('ec-task-card').first();
    await first.filter({ hasText: 'kế hoạch số hóa hồ sơ năm 2027' }).waitFor();
    await first.locator('[data-testid="overdue"]').waitFor();
    await screenshot(a, 'task-board', 'vi');
    expect(problems.errors).toEqual([]);
    expect(problemsB.errors).toEqual([]);
    expect(problems.csp).toEqual([]);
  }, 180_000);
});
