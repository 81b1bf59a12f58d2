import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VIEWPORTS, collectProblems, launchBrowser, loginAs, newPage, screenshot, smallTouchTargets } from '../helpers/browser.js';
import { type BuiltMeeting, buildMeeting } from '../helpers/factories.js';
import { type TestServer, startTestServer } from '../helpers/server.js';
import { pdf, upload } from '../integration/documents-helpers.js';
import { connectSocket, connected, newCommandId } from '../helpers/socket.js';

/**
 * A secret motion vote in five browsers: the chair's console, three members' tablets and the room
 * display (shown by the secretary's account), on the journey's own meeting (factories: thirteen voters —
 * the chair and twelve members — and one agenda item). The chair opens the prepared vote, the three members vote with one tap plus
 * confirmation and get their receipt, the chair closes it: every screen shows the same counts, outcome
 * and explanation. Needs the built client (`npm run build`).
 */
// One journey in steps: they share the browsers, the server and the meeting, and run in the order written
// (CI shuffles the files and the unit and integration tests; see scripts/test.sh).
describe('votes e2e: chair console, three member tablets and the room display', { shuffle: false }, () => {
  let server: TestServer;
  let browser: Browser;
  let chair: Page;
  let members: Page[];
  let display: Page;
  let problems: ReturnType<typeof collectProblems>[];
  let m: BuiltMeeting;

  beforeAll(async () => {
    server = await startTestServer({ seed: 'admin' });
    m = await buildMeeting(server, { members: 12, agendaItems: 1 });
    const secretary = await m.as('secretary');
    // Checked in by the secretary, the meeting opened by the chair, the vote prepared in advance.
    const s = await connected(connectSocket(server.url, secretary));
    for (const u of [m.chair, ...m.members.slice(0, 4)]) {
      expect((await s.cmd('attendance:check_in', { meetingId: m.meetingId, userId: u.id, mode: 'in_room', commandId: newCommandId() })).ok).toBe(true);
    }
    s.close();
    const c = await connected(connectSocket(server.url, await m.as('chair')));
    expect((await c.cmd('meeting:open', { meetingId: m.meetingId, overrideReason: 'Kiểm thử biểu quyết' })).ok).toBe(true);
    c.close();
    const v = await secretary.post(`/api/meetings/${m.meetingId}/votes`, { title: 'Thông qua Kế hoạch chuyển đổi số năm 2027', kind: 'motion', secret: true, majority: 'simple' });
    expect(v.status).toBe(201);

    browser = await launchBrowser();
    chair = await newPage(browser, server.url, { viewport: VIEWPORTS.tablet });
    members = await Promise.all([1, 2, 3].map((i) => newPage(browser, server.url, { viewport: i === 3 ? VIEWPORTS.phone : VIEWPORTS.tablet, hasTouch: true })));
    display = await newPage(browser, server.url, { viewport: { width: 1280, height: 720 } });
    problems = [chair, ...members, display].map(collectProblems);
    await Promise.all([loginAs(chair, m.chair), ...members.map((p, i) => loginAs(p, m.members[i])), loginAs(display, m.secretary)]);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  const tid = (page: Page, id: string) => page.locator(`[data-testid="${id}"]`).first();
  /** No sideways scrolling: long option texts and titles once widened the live view and the vote form. */
  const fitsWidth = (page: Page) => page.evaluate('document.documentElement.scrollWidth <= document.documentElement.clientWidth');

  it('the chair opens a secret motion, three members vote on their tablets, the chair closes it and every screen shows the same result', { timeout: 150_000 }, async () => {
    await Promise.all([chair.goto(`/meetings/${m.meetingId}/console`), ...members.map((p) => p.goto(`/meetings/${m.meetingId}/live`)), display.goto(`/meetings/${m.meetingId}/display`)]);
    // Five of thirteen members are checked in: the vote opens only with the chair's reason.
    await expect.poll(() => tid(chair, 'vote-open').isDisabled()).toBe(true);
    await tid(chair, 'vote-override-reason').fill('Các thành viên vắng đã có ý kiến bằng văn bản');
    await tid(chair, 'vote-open').click();
    for (const p of members) await tid(p, 'vote-choice-0').waitFor();
    await expect.poll(() => tid(display, 'board-progress').textContent()).toMatch(/0\/\d+ đã biểu quyết · \d+ thành viên/);

    // One tap, then confirmation. The third member votes against.
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
    expect(seen[0].explanation).toMatch(/^Thông qua: 2\/3 phiếu biểu quyết tán thành \(67%\), cần quá 1\/2 số phiếu biểu quyết/);
    await screenshot(display, 'vote-display-result', 'vi');
    await screenshot(chair, 'vote-console-closed', 'vi');

    // The member checks, with the receipt kept on the tablet, that their ballot was counted as cast.
    await tid(members[0], 'vote-check').click();
    await expect.poll(() => tid(members[0], 'vote-check-result').textContent()).toMatch(/đã được tính: Tán thành/);
    await screenshot(members[0], 'vote-result', 'vi');
    // The same result in English: the explanation comes from the server in both languages.
    // The room display is a kiosk (no menu, no language buttons): its account's language is set instead.
    await display.evaluate(() =>
      fetch('/api/auth/me', { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ locale: 'en' }) }),
    );
    await display.reload();
    await expect.poll(() => tid(display, 'vote-explanation').textContent()).toMatch(/^Adopted: 2 of 3 votes cast in favour \(67%\)/);
    await screenshot(display, 'vote-display-result', 'en');
    await chair.locator('ec-language-switch button[lang="en"]').click();
    await expect.poll(() => tid(chair, 'vote-outcome').textContent()).toContain('Adopted');
    await screenshot(chair, 'vote-console-closed', 'en');
    for (const p of problems) expect(p.errors).toEqual([]);
  });

  it('a member delegates their vote from the phone; the chair console lists it at once; the proxy sees whose vote they hold; revoking clears both', { timeout: 90_000 }, async () => {
    const [proxy, , phone] = members; // the first member (tablet) will hold the third's vote (phone)
    for (const p of [chair, phone, proxy]) await p.locator('ec-language-switch button[lang="vi"]').click();
    await tid(chair, 'console-delegations').waitFor();
    expect(await chair.locator('[data-testid="console-delegation"]').count()).toBe(0);
    // A vote proxy comes only from a member who is absent (docs/VOTING.md "Proxies"): the third member leaves first.
    const sec = await connected(connectSocket(server.url, await m.as('secretary')));
    expect((await sec.cmd('attendance:mark_absent', { meetingId: m.meetingId, userId: m.members[2].id, reason: 'Đi công tác', commandId: newCommandId() })).ok).toBe(true);
    sec.close();
    // The live view is document-first: attendance and delegation are in its side panel.
    for (const p of [phone, proxy]) await openLivePanel(p);
    await tid(phone, 'delegate-start').click();
    await tid(phone, 'delegate-to').selectOption(String(m.members[0].id));
    await tid(phone, 'delegate-summary').waitFor();
    expect(await smallTouchTargets(phone)).toEqual([]);
    expect(await fitsWidth(phone)).toBe(true);
    await screenshot(phone, 'vote-delegation-phone', 'vi');
    await tid(phone, 'delegate-confirm').click();
    await expect.poll(() => tid(phone, 'delegated-to').textContent()).toMatch(/Bạn đã ủy quyền biểu quyết cho .+ lúc \d{2}:\d{2}/);
    // Pushed (vote:delegated), not polled: the chair's console and the proxy's tablet update by themselves.
    const row = chair.locator(`[data-testid="console-delegation"][data-from="${m.members[2].id}"][data-to="${m.members[0].id}"]`);
    await row.waitFor({ timeout: 10_000 });
    await expect.poll(() => tid(proxy, 'delegation-held').textContent(), { timeout: 10_000 }).toMatch(/Bạn biểu quyết cả phần của: /);
    await screenshot(phone, 'vote-delegated-phone', 'vi');
    await screenshot(proxy, 'vote-delegation', 'vi');
    await screenshot(chair, 'vote-console-delegations', 'vi');
    for (const p of [chair, proxy]) await p.locator('ec-language-switch button[lang="en"]').click();
    await expect.poll(() => tid(proxy, 'delegation-held').textContent()).toMatch(/You also vote for: /);
    await expect.poll(() => tid(chair, 'console-delegations').textContent()).toMatch(/Vote delegations \(1\)/);
    expect(await smallTouchTargets(chair)).toEqual([]);
    expect(await fitsWidth(chair)).toBe(true);
    await screenshot(proxy, 'vote-delegation', 'en');
    await screenshot(chair, 'vote-console-delegations', 'en');
    await chair.locator('ec-language-switch button[lang="vi"]').click();
    await proxy.locator('ec-language-switch button[lang="vi"]').click();

    await tid(phone, 'delegation-revoke').click();
    await tid(phone, 'delegate-start').waitFor();
    await row.waitFor({ state: 'detached', timeout: 10_000 });
    await tid(proxy, 'delegation-held').waitFor({ state: 'detached', timeout: 10_000 });
    for (const p of problems) expect(p.errors).toEqual([]);
  });

  it('a member answers a written consultation on the tablet with one choice and a comment', async () => {
    const secretary = await m.as('secretary');
    const sent = await secretary.post('/api/consultations', {
      committeeId: m.committeeId,
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

  it('the secretary sends a consultation with a document picked from a meeting pack (one shared with named people only is refused with the reason); a recipient opens it in the viewer', { timeout: 90_000 }, async () => {
    const secretary = await m.as('secretary');
    const item = m.itemIds[0];
    // Named for the first member only: it follows its own list, so it cannot go to the whole committee.
    const named = await upload(secretary, m.meetingId, item, pdf('seed-3.pdf'), 'seed-3.pdf', { title: 'Báo cáo riêng', access: 'named', viewerIds: String(m.members[0].id) });
    const doc = await upload(secretary, m.meetingId, item, pdf('seed-2.pdf'), 'seed-2.pdf', { title: 'Báo cáo chuyển đổi số' });
    expect([named.status, doc.status]).toEqual([201, 201]);
    const m2 = members[1];
    expect((await m2.request.get(`/api/documents/${named.body.id}`)).status()).toBe(404);

    const sec = await newPage(browser, server.url, { viewport: VIEWPORTS.tablet });
    const secProblems = collectProblems(sec);
    await loginAs(sec, m.secretary);
    await sec.locator('ec-app header ec-language-switch button[lang="vi"]').click();
    await sec.goto('/consultations');
    await sec.locator('ec-consultations-view details summary').first().click();
    await sec.locator('ec-consultations-view input[name="title"]').fill('Xin ý kiến về Báo cáo chuyển đổi số');
    await sec.locator('ec-consultations-view textarea[name="question"]').fill('Đề nghị các đồng chí cho ý kiến về báo cáo kèm theo.');
    await sec.locator('ec-consultations-view input[name="deadline"]').fill(new Date(Date.now() + 2 * 86400_000 + 7 * 3600_000).toISOString().slice(0, 16));
    await tid(sec, 'consult-meeting').selectOption(String(m.meetingId));
    await sec.locator(`[data-testid="consult-doc"][data-id="${named.body.id}"]`).check();
    await tid(sec, 'consult-send').click();
    await expect.poll(() => tid(sec, 'consult-create-error').textContent()).toContain('người được chỉ định');
    await sec.locator(`[data-testid="consult-doc"][data-id="${named.body.id}"]`).uncheck();
    await sec.locator(`[data-testid="consult-doc"][data-id="${doc.body.id}"]`).check();
    await tid(sec, 'consult-picked').waitFor();
    await screenshot(sec, 'consultation-new', 'vi');
    await tid(sec, 'consult-send').click();
    await sec.locator('[data-testid="consultation"] [data-testid="consult-document"]').first().waitFor();

    await m2.goto('/consultations');
    const link = m2.locator(`[data-testid="consult-document"][data-id="${doc.body.id}"]`).first();
    await link.waitFor();
    await screenshot(m2, 'consultations-documents', 'vi');
    await m2.setViewportSize(VIEWPORTS.phone);
    expect(await smallTouchTargets(m2)).toEqual([]);
    expect(await fitsWidth(m2)).toBe(true);
    await screenshot(m2, 'consultations-documents-phone', 'vi');
    await m2.setViewportSize(VIEWPORTS.tablet);
    await link.click();
    await m2.waitForURL(/\/documents\/\d+\?back=consultations/);
    await m2.locator('ec-pdf-viewer .pg[data-rendered="true"]').first().waitFor({ timeout: 20_000 });
    await expect.poll(() => m2.locator('ec-document-view a.back').getAttribute('href')).toBe('/consultations');
    await screenshot(m2, 'document-from-consultation', 'vi');
    await m2.locator('ec-language-switch button[lang="en"]').click();
    await m2.goto('/consultations');
    await link.waitFor();
    await screenshot(m2, 'consultations-documents', 'en');
    await m2.locator('ec-language-switch button[lang="vi"]').click();
    await sec.locator('ec-language-switch button[lang="en"]').click();
    await sec.goto('/consultations');
    await sec.locator('ec-consultations-view details summary').first().click();
    await tid(sec, 'consult-meeting').selectOption(String(m.meetingId));
    await sec.locator(`[data-testid="consult-doc"][data-id="${doc.body.id}"]`).check();
    await screenshot(sec, 'consultation-new', 'en');
    await sec.locator('ec-language-switch button[lang="vi"]').click();
    for (const p of [...problems, secProblems]) expect(p.errors).toEqual([]);
    await sec.close();
  });
});

/** Opens the live view's side panel (attendance, delegation) unless it is open already. */
async function openLivePanel(page: Page): Promise<void> {
  const toggle = page.locator('[data-testid="panel-toggle"]').first();
  await toggle.waitFor();
  if ((await toggle.getAttribute('aria-expanded')) !== 'true') await toggle.click();
  await expect.poll(() => toggle.getAttribute('aria-expanded')).toBe('true');
}
