import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VIEWPORTS, collectProblems, launchBrowser, login, newPage, screenshot } from '../helpers/browser.js';
import { type TestServer, startTestServer, userIds } from '../helpers/server.js';
import { connectSocket, connected, newCommandId } from '../helpers/socket.js';

/**
 * A secret motion vote in five browsers: the chair's console, three members' tablets and the room
 * display (demo meeting 1). The chair opens the prepared vote, the three members vote with one tap plus
 * confirmation and get their receipt, the chair closes it: every screen shows the same counts, outcome
 * and explanation. Needs the built client (`npm run build`).
 */
describe('votes e2e: chair console, three member tablets and the room display', () => {
  let server: TestServer;
  let browser: Browser;
  let chair: Page;
  let members: Page[];
  let display: Page;
  let problems: ReturnType<typeof collectProblems>[];

  beforeAll(async () => {
    server = await startTestServer();
    const ids = await userIds(await server.login('admin'));
    const secretary = await server.login('secretary');
    // Checked in by the secretary, the meeting opened by the chair, the vote prepared in advance.
    const s = await connected(connectSocket(server.url, secretary));
    for (const u of ['chair', 'member1', 'member2', 'member3', 'member4']) {
      expect((await s.cmd('attendance:check_in', { meetingId: 1, userId: ids[u], mode: 'in_room', commandId: newCommandId() })).ok).toBe(true);
    }
    s.close();
    const c = await connected(connectSocket(server.url, await server.login('chair')));
    expect((await c.cmd('meeting:open', { meetingId: 1, overrideReason: 'Kiểm thử biểu quyết' })).ok).toBe(true);
    c.close();
    const v = await secretary.post('/api/meetings/1/votes', { title: 'Thông qua Kế hoạch chuyển đổi số năm 2027', kind: 'motion', secret: true });
    expect(v.status).toBe(201);

    browser = await launchBrowser();
    chair = await newPage(browser, server.url, { viewport: VIEWPORTS.tablet });
    members = await Promise.all([1, 2, 3].map((i) => newPage(browser, server.url, { viewport: i === 3 ? VIEWPORTS.phone : VIEWPORTS.tablet, hasTouch: true })));
    display = await newPage(browser, server.url, { viewport: { width: 1280, height: 720 } });
    problems = [chair, ...members, display].map(collectProblems);
    await Promise.all([login(chair, 'chair'), ...members.map((p, i) => login(p, `member${i + 1}`)), login(display, 'room1')]);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  const tid = (page: Page, id: string) => page.locator(`[data-testid="${id}"]`).first();

  it('the chair opens a secret motion, three members vote on their tablets, the chair closes it and every screen shows the same result', { timeout: 150_000 }, async () => {
    await Promise.all([chair.goto('/meetings/1/console'), ...members.map((p) => p.goto('/meetings/1/live')), display.goto('/meetings/1/display')]);
    await tid(chair, 'vote-open').click();
    for (const p of members) await tid(p, 'vote-choice-0').waitFor();
    await expect.poll(() => tid(display, 'board-progress').textContent()).toMatch(/0\/\d+ người đã biểu quyết/);

    // One tap, then confirmation. member3 votes against.
    const choice = [0, 0, 1];
    for (const [i, p] of members.entries()) {
      await tid(p, `vote-choice-${choice[i]}`).click();
      if (i === 0) await screenshot(p, 'vote-confirm', 'vi');
      await tid(p, 'vote-confirm').click();
      await tid(p, 'vote-recorded').waitFor();
      await expect.poll(() => tid(p, 'vote-receipt').textContent()).toMatch(/^[A-Za-z0-9_-]{22}$/);
    }
    await screenshot(members[0], 'vote-panel-recorded', 'vi');
    await screenshot(members[2], 'vote-panel-phone', 'vi');
    // Progress reaches the chair and the room (coalesced pushes).
    await expect.poll(() => tid(chair, 'console-progress').textContent(), { timeout: 10_000 }).toMatch(/^3\/5 /);
    await expect.poll(() => tid(display, 'board-progress').textContent(), { timeout: 10_000 }).toMatch(/^3\/5 /);
    await screenshot(chair, 'vote-console-open', 'vi');

    await tid(chair, 'vote-close').click();
    const pages = [chair, ...members, display];
    for (const p of pages) await tid(p, 'vote-result').waitFor();
    const seen = await Promise.all(
      pages.map(async (p) => ({
        outcome: await tid(p, 'vote-result').getAttribute('data-outcome'),
        for: (await tid(p, 'count-0').locator('td.n').textContent())?.trim(),
        against: (await tid(p, 'count-1').locator('td.n').textContent())?.trim(),
        abstain: (await tid(p, 'count-abstain').locator('td.n').textContent())?.trim(),
        explanation: (await tid(p, 'vote-explanation').textContent())?.trim(),
      })),
    );
    for (const s of seen) expect(s).toEqual(seen[0]);
    expect(seen[0]).toMatchObject({ outcome: 'adopted', for: '2', against: '1', abstain: '0' });
    expect(seen[0].explanation).toMatch(/^Thông qua: 2 tán thành, 1 không tán thành, 0 không biểu quyết/);
    await screenshot(display, 'vote-display-result', 'vi');
    await screenshot(chair, 'vote-console-closed', 'vi');

    // The member checks, with the receipt kept on the tablet, that their ballot was counted as cast.
    await tid(members[0], 'vote-check').click();
    await expect.poll(() => tid(members[0], 'vote-check-result').textContent()).toMatch(/đã được tính: Tán thành/);
    await screenshot(members[0], 'vote-result', 'vi');
    // The same result in English: the explanation comes from the server in both languages.
    await display.locator('ec-language-switch button[lang="en"]').click();
    await expect.poll(() => tid(display, 'vote-explanation').textContent()).toMatch(/^Adopted: 2 for, 1 against, 0 abstaining/);
    await screenshot(display, 'vote-display-result', 'en');
    await chair.locator('ec-language-switch button[lang="en"]').click();
    await expect.poll(() => tid(chair, 'vote-outcome').textContent()).toContain('Adopted');
    await screenshot(chair, 'vote-console-closed', 'en');
    for (const p of problems) expect(p.errors).toEqual([]);
  });

  it('a member answers a written consultation on the tablet with one choice and a comment', async () => {
    const secretary = await server.login('secretary');
    const committeeId = (await secretary.get('/api/committees')).body.committees[0].id;
    const sent = await secretary.post('/api/consultations', {
      committeeId,
      title: 'Dự thảo Quy chế làm việc của Ban Chỉ đạo',
      question: 'Đề nghị các đồng chí cho ý kiến về dự thảo Quy chế làm việc (sửa đổi).',
      deadline: new Date(Date.now() + 3 * 86400_000).toISOString(),
    });
    expect(sent.status).toBe(201);
    const p = members[1];
    await p.locator('ec-language-switch button[lang="vi"]').click();
    await p.goto('/consultations');
    await tid(p, 'answer-other').click();
    await p.locator('ec-consultations-view textarea').first().fill('Đề nghị bổ sung chế độ báo cáo hằng quý.');
    await tid(p, 'answer-send').click();
    await expect.poll(async () => (await secretary.get(`/api/consultations/${sent.body.id}`)).body.counts).toEqual({ agree: 0, disagree: 0, other: 1, none: 12 });
    await screenshot(p, 'consultations', 'vi');
  });
});
