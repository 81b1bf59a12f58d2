import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BuiltMeeting, buildMeeting } from '../helpers/factories.js';
import { VIEWPORTS, axeViolations, collectProblems, launchBrowser, login, newPage, screenshot, smallTouchTargets } from '../helpers/browser.js';
import { type TestServer, startTestServer } from '../helpers/server.js';
import { connectSocket, connected, newCommandId } from '../helpers/socket.js';

/**
 * The chair's view of a vote across roles (issue #14), on a meeting of our own (factories): the
 * countdown on the console, a member's tablet and the room display, the chair extending it and voting from
 * the console, a proxy holder's two ballots, the roll-call table everywhere after the close; and the
 * committee's voting rules in the admin's committee form.
 */
// One journey in steps: they share the browsers, the server and the meeting, and run in the order written
// (CI shuffles the files and the unit and integration tests; see scripts/test.sh).
describe('votes e2e: the chair’s view', { shuffle: false }, () => {
  let server: TestServer;
  let browser: Browser;
  let m: BuiltMeeting;
  let chair: Page;
  let proxy: Page;
  let display: Page;
  let problems: ReturnType<typeof collectProblems>[];

  beforeAll(async () => {
    server = await startTestServer({ seed: 'admin' });
    m = await buildMeeting(server, { members: 3, agendaItems: 2 });
    // The chair and members 1–2 are checked in; member 3 is away and gives their vote to member 2.
    for (const who of [await m.as('chair'), await m.as('member', 0), await m.as('member', 1)]) {
      const t = await connected(connectSocket(server.url, who));
      expect((await t.cmd('attendance:check_in', { meetingId: m.meetingId, mode: 'in_room', commandId: newCommandId() })).ok).toBe(true);
      t.close();
    }
    const away = await connected(connectSocket(server.url, await m.as('member', 2)));
    expect((await away.cmd('vote:delegate', { meetingId: m.meetingId, toUserId: m.members[1].id, commandId: newCommandId() })).ok).toBe(true);
    away.close();
    const c = await connected(connectSocket(server.url, await m.as('chair')));
    expect((await c.cmd('meeting:open', { meetingId: m.meetingId })).ok).toBe(true);
    c.close();
    // A named (roll-call) motion with ten minutes on the clock, prepared in advance by the secretary.
    const v = await (await m.as('secretary')).post(`/api/meetings/${m.meetingId}/votes`, { title: 'Thông qua kế hoạch số hóa hồ sơ năm 2027', kind: 'motion', secret: false, durationSeconds: 600 });
    expect(v.status, JSON.stringify(v.body)).toBe(201);

    browser = await launchBrowser();
    chair = await newPage(browser, server.url, { viewport: VIEWPORTS.tablet });
    proxy = await newPage(browser, server.url, { viewport: VIEWPORTS.tablet, hasTouch: true });
    display = await newPage(browser, server.url, { viewport: { width: 1280, height: 720 } });
    problems = [chair, proxy, display].map(collectProblems);
    await login(chair, m.chair.username, { password: m.chair.password });
    await login(proxy, m.members[1].username, { password: m.members[1].password });
    await login(display, m.members[0].username, { password: m.members[0].password });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  const tid = (page: Page, id: string) => page.locator(`[data-testid="${id}"]`).first();
  /** Seconds left on a page's vote countdown (the timer's data-remaining). */
  const remaining = async (page: Page) => Number(await page.locator('[data-testid="vote-countdown"] ec-live-timer').first().getAttribute('data-remaining'));

  it('countdown on every screen, the chair extends it and votes from the console, the proxy casts two ballots, the roll-call table after the close', { timeout: 120_000 }, async () => {
    await Promise.all([chair.goto(`/meetings/${m.meetingId}/console`), proxy.goto(`/meetings/${m.meetingId}/live`), display.goto(`/meetings/${m.meetingId}/display`)]);
    await tid(chair, 'vote-open').click();

    // The countdown, from the server's deadline, on the console, the tablet and the room display.
    for (const p of [chair, proxy, display]) {
      await tid(p, 'vote-countdown').waitFor();
      await expect.poll(() => remaining(p)).toBeGreaterThan(500);
      expect(await remaining(p)).toBeLessThanOrEqual(600);
    }
    await tid(chair, 'vote-extend-5').click();
    for (const p of [chair, proxy, display]) await expect.poll(() => remaining(p), { timeout: 10_000 }).toBeGreaterThan(600);

    // The chair votes from the console like any member.
    const own = chair.locator('[data-testid="chair-ballot"]');
    await own.locator('[data-testid="vote-choice-0"]').click();
    await own.locator('[data-testid="vote-confirm"]').click();
    await expect.poll(() => own.locator('[data-testid="vote-recorded"]').textContent()).toMatch(/Tán thành/);
    await screenshot(chair, 'votes-chair-console-open', 'vi');

    // The proxy holder: their own ballot, then the absent member's, chosen by name — two separate ballots.
    const panel = proxy.locator('ec-vote-panel');
    await panel.locator('[data-testid="vote-choice-0"]').click();
    await panel.locator('[data-testid="vote-confirm"]').click();
    await panel.locator('[data-testid="vote-recorded"]').waitFor();
    const forWhom = panel.locator('select');
    await expect.poll(() => forWhom.locator('option').allTextContents()).toEqual(['Bản thân tôi', `${m.members[2].fullName} (ủy quyền)`]);
    await forWhom.selectOption(String(m.members[2].id));
    // Their own choice is not shown under the absent member's name.
    expect(await panel.locator('[data-testid="vote-recorded"]').count()).toBe(0);
    await panel.locator('[data-testid="vote-choice-1"]').click();
    await panel.locator('[data-testid="vote-confirm"]').click();
    // The proxied ballot is shown as the absent member's, with their choice — never the holder's own.
    await expect.poll(() => panel.locator('[data-testid="vote-recorded"]').textContent()).toContain(`Phiếu của ${m.members[2].fullName}: Không tán thành`);
    await forWhom.selectOption('');
    await expect.poll(() => panel.locator('[data-testid="vote-recorded"]').textContent()).toContain('Bạn đã chọn: Tán thành');
    await screenshot(proxy, 'votes-proxy-two-ballots', 'vi');
    await expect.poll(() => tid(chair, 'console-progress').textContent(), { timeout: 15_000 }).toMatch(/^3\/4 /);

    await tid(chair, 'vote-close').click();
    // The roll-call table on the console, the room display and the proxy's tablet: one row per ballot,
    // the proxied one naming who cast it.
    for (const p of [chair, display, proxy]) {
      const roll = p.locator('[data-testid="vote-roll"]').first();
      await roll.waitFor({ timeout: 15_000 });
      await expect.poll(() => roll.locator('[data-testid="roll-row"]').count()).toBe(3);
      const away = roll.locator(`[data-testid="roll-row"][data-user-id="${m.members[2].id}"]`);
      await expect.poll(() => away.textContent()).toContain(`qua ủy quyền: ${m.members[1].fullName}`);
      expect(await away.textContent()).toContain('Không tán thành');
      expect(await roll.locator(`[data-testid="roll-row"][data-user-id="${m.chair.id}"]`).textContent()).toContain('Tán thành');
    }
    expect(await tid(chair, 'vote-pdf').getAttribute('href')).toMatch(/\/api\/votes\/\d+\/export\.pdf$/);
    await screenshot(chair, 'votes-chair-console-roll', 'vi');
    await screenshot(display, 'votes-display-roll', 'vi');
    expect(await axeViolations(chair)).toEqual([]);
    expect(await smallTouchTargets(chair)).toEqual([]);
    for (const p of problems) expect(p.errors).toEqual([]);
  });

  it('the admin sets the committee’s majority and proxy rules in the committee form; the next vote uses them', { timeout: 60_000 }, async () => {
    const admin = await newPage(browser, server.url, { viewport: VIEWPORTS.tablet });
    await login(admin, 'admin');
    const name = ((await (await server.login('admin')).get('/api/committees')).body.committees as { id: number; name: string }[]).find((c) => c.id === m.committeeId)!.name;
    await admin.goto('/admin/committees');
    await admin.locator('ul[data-testid="committees"] li', { hasText: name }).getByRole('button').click();
    const rules = admin.locator('[data-testid="committee-vote-settings"]');
    const majority = rules.locator('select[name="majority"]');
    // Offered first and preselected: more than half of all members.
    await expect.poll(() => majority.inputValue()).toBe('absolute_members');
    expect(await majority.locator('option').first().getAttribute('value')).toBe('absolute_members');
    await majority.selectOption('two_thirds');
    await rules.locator('input[name="maxProxies"]').fill('2');
    const violations = await axeViolations(admin);
    expect(violations, violations.join("\n")).toEqual([]);
    await screenshot(admin, 'votes-admin-committee-rules', 'vi');
    await admin.locator('[data-testid="committee-form"] button[type="submit"]').click();
    await admin.locator('[data-testid="committee-form"]').waitFor({ state: 'detached' });
    const settings = (await (await m.as('secretary')).get(`/api/committees/${m.committeeId}/vote-settings`)).body;
    expect(settings).toMatchObject({ majority: 'two_thirds', maxProxies: 2, delegatorMayVote: false });
    const v = await (await m.as('secretary')).post(`/api/meetings/${m.meetingId}/votes`, { title: 'Theo quy tắc mới', kind: 'motion' });
    expect(v.body.majority).toBe('two_thirds');
    await admin.close();
  });
});
