import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VIEWPORTS, axeViolations, collectProblems, launchBrowser, livePage, newPage, screenshot, smallTouchTargets } from '../helpers/browser.js';
import { type BuiltMeeting, type BuiltUser, buildMeeting } from '../helpers/factories.js';
import { type TestServer, startTestServer, until } from '../helpers/server.js';
import { type TestSocket, connectSocket, connected } from '../helpers/socket.js';
import { pdf, upload } from '../integration/documents-helpers.js';

/**
 * The presenter driven from the chair's console, with the members' live views following, on a
 * meeting of the test's own (factories): the chair starts presenting a 14-page document and moves its
 * pages from the console; a member who opens the live view late lands on the presenter's page; a
 * member with the floor takes over from their tablet and the chair takes it back from the console
 * (the former presenter's tablet stops presenting and follows); the presenter's tablet drops off
 * (followers keep the page and see it marked) and resumes presenting when it comes back.
 */

let server: TestServer;
let browser: Browser;
const problems: ReturnType<typeof collectProblems>[] = [];

const tid = (page: Page, id: string) => page.locator(`[data-testid="${id}"]`).first();
const viewer = (page: Page) => page.locator('ec-live-view ec-pdf-viewer');

const shows = (page: Page, n: number, what: string) =>
  until(async () => (await livePage(page)) === n, { what, timeout: 20_000 });

/**
 * A browser context signed in as `user` with a session made over HTTP (the login form is tested
 * elsewhere; this keeps the test short), in `locale` (the account's language).
 */
async function signedIn(m: BuiltMeeting, user: BuiltUser, viewport: { width: number; height: number }, locale: 'vi' | 'en' = 'vi'): Promise<Page> {
  const http = await m.login(user);
  if (locale === 'en') expect((await http.patch('/api/auth/me', { locale: 'en' })).status).toBe(200);
  const page = await newPage(browser, server.url, { viewport, hasTouch: true, locale: locale === 'en' ? 'en-GB' : 'vi-VN' });
  const [name, value] = [http.cookie.slice(0, http.cookie.indexOf('=')), http.cookie.slice(http.cookie.indexOf('=') + 1)];
  await page.context().addCookies([{ name, value, url: server.url }]);
  problems.push(collectProblems(page));
  return page;
}

/** `user`'s live view of the meeting, loaded. */
async function openLive(m: BuiltMeeting, user: BuiltUser, viewport: { width: number; height: number }, locale: 'vi' | 'en' = 'vi'): Promise<Page> {
  const page = await signedIn(m, user, viewport, locale);
  await page.goto(`/meetings/${m.meetingId}/live`);
  await tid(page, 'presenter-state').waitFor();
  return page;
}

/** A meeting of its own, open, with a 14-page document on item 1; the chair's console and member 1's live view open. */
async function setup(title: string) {
  const m = await buildMeeting(server, { members: 2, agendaItems: 2, title });
  const secretary = await m.as('secretary');
  const up = await upload(secretary, m.meetingId, m.itemIds[0], pdf('tracemonkey.pdf'), 'tracemonkey.pdf', { title: 'Báo cáo tổng hợp', access: 'all', published: 'true' });
  expect(up.status, JSON.stringify(up.body)).toBeLessThan(300);
  const chairSocket = await connected(connectSocket(server.url, await m.as('chair')));
  sockets.push(chairSocket);
  expect((await chairSocket.cmd('meeting:open', { meetingId: m.meetingId, overrideReason: 'kiểm thử' })).ok).toBe(true);
  const consolePage = await signedIn(m, m.chair, VIEWPORTS.tablet);
  await consolePage.goto(`/meetings/${m.meetingId}/console`);
  await tid(consolePage, 'console-presenter').waitFor();
  await until(async () => (await tid(consolePage, 'console-doc').locator('option').count()) > 0, { what: 'documents in the console' });
  const member = await openLive(m, m.members[0], VIEWPORTS.tablet);
  return { m, chairSocket, consolePage, member };
}
const sockets: TestSocket[] = [];

beforeAll(async () => {
  server = await startTestServer({ seed: 'admin' });
  browser = await launchBrowser();
}, 60_000);

afterAll(async () => {
  for (const s of sockets) s.close();
  await browser?.close();
  await server?.close();
});

// One journey in steps: they share the browsers, the server and the meeting, and run in the order written
// (CI shuffles the files and the unit and integration tests; see scripts/test.sh).
describe('presenting from the chair console', { shuffle: false }, () => {
  it('the chair presents and moves pages from the console (within the document\'s pages); the follower\'s page moves; the console is axe-clean with 44 px targets', async () => {
    const { m, consolePage, member } = await setup('Họp trình chiếu từ bảng điều khiển');
    // The current item's document is preselected; nobody presents yet.
    expect(await tid(consolePage, 'console-presenter-state').textContent()).toContain('Chưa có ai trình bày');
    expect(await tid(consolePage, 'console-next-page').isDisabled()).toBe(true);
    await tid(consolePage, 'console-present').click();
    await expect.poll(() => tid(consolePage, 'console-presenter-state').textContent()).toMatch(/đang trình bày.*Báo cáo tổng hợp.*trang 1\/14/s);
    await shows(member, 1, 'member on page 1');

    await tid(consolePage, 'console-next-page').click();
    await expect.poll(() => tid(consolePage, 'console-page').inputValue()).toBe('2');
    await tid(consolePage, 'console-next-page').click();
    await shows(member, 3, 'member on page 3');
    await tid(consolePage, 'console-page').fill('7');
    await tid(consolePage, 'console-page').press('Enter');
    await shows(member, 7, 'member on page 7');
    await expect.poll(() => tid(member, 'presenter-page').textContent()).toContain('7');
    // Out of range: the console keeps to the document's pages.
    await tid(consolePage, 'console-page').fill('99');
    await tid(consolePage, 'console-page').press('Enter');
    await expect.poll(() => tid(consolePage, 'console-page').inputValue()).toBe('14');
    await shows(member, 14, 'member on the last page');
    await tid(consolePage, 'console-prev-page').click();
    await shows(member, 13, 'member on page 13');

    await screenshot(consolePage, 'console-presenter', 'vi');
    expect(await axeViolations(consolePage)).toEqual([]);
    expect(await smallTouchTargets(consolePage)).toEqual([]);
  }, 120_000);

  it('a late joiner lands on the presenter\'s page; handover: a member with the floor takes over from the tablet, the chair takes it back from the console; a presenter who drops off is marked and resumes on return; stop from the console', async () => {
    const { m, chairSocket, consolePage, member } = await setup('Họp chuyển quyền trình bày');
    const meetingId = m.meetingId;
    // The chair presents page 5 from the console; member 2 opens the live view only now, on a phone in
    // English, and lands on the presenter's page.
    await tid(consolePage, 'console-present').click();
    await tid(consolePage, 'console-page').fill('5');
    await tid(consolePage, 'console-page').press('Enter');
    const late = await openLive(m, m.members[1], VIEWPORTS.phone, 'en');
    await shows(late, 5, 'phone on page 5');
    // member1 asks for the floor from the bar and the chair gives it (socket: the console is tested elsewhere).
    await tid(member, 'bar-check-in').click();
    await tid(member, 'ask-speech').click();
    // The click sends the request; the chair's snapshot shows it once the server has it (polled: the tablet's
    // command may still be on its way — on PostgreSQL under load a one-shot read came too early).
    const requestId = await until(async () => {
      const queued = await chairSocket.cmd('meeting:join', { meetingId });
      return (queued as { data: { snapshot: { live: { speakers: { queue: { id: number }[] } } } } }).data.snapshot.live.speakers.queue[0]?.id;
    }, { what: "member1's floor request in the chair's snapshot", timeout: 20_000 });
    expect(requestId).toBeGreaterThan(0);
    expect((await chairSocket.cmd('speaker:grant', { meetingId, requestId })).ok).toBe(true);

    // member1 presents from the tablet: the console and the phone show it.
    await tid(member, 'present').check();
    await expect.poll(() => tid(consolePage, 'console-presenter-state').textContent()).toContain(m.members[0].fullName);
    const pageInput = viewer(member).locator('input[name="page"]');
    await pageInput.fill('9');
    await pageInput.press('Enter');
    await shows(late, 9, 'phone follows member1 to page 9');
    await expect.poll(() => tid(consolePage, 'console-page').inputValue()).toBe('9');

    // member1's tablet drops off (the page is gone, and its connection with it): the phone stays on
    // page 9 and sees the presenter marked disconnected.
    await member.goto('/healthz');
    await tid(late, 'presenter-offline').waitFor({ timeout: 20_000 });
    expect(await tid(late, 'presenter-offline').textContent()).toContain('disconnected');
    expect(await livePage(late)).toBe(9);
    await expect.poll(() => tid(consolePage, 'console-presenter-state').textContent()).toContain('mất kết nối');

    // member1 comes back: the tablet presents again from where it was; the mark goes away.
    await member.goto(`/meetings/${meetingId}/live`);
    await expect.poll(() => tid(member, 'present').isChecked(), { timeout: 20_000 }).toBe(true);
    await shows(member, 9, 'returning presenter on page 9');
    await expect.poll(() => tid(late, 'presenter-offline').count(), { timeout: 20_000 }).toBe(0);

    // The chair takes it back from the console: member1's tablet stops presenting and follows.
    await tid(consolePage, 'console-next-page').click();
    await shows(late, 10, 'phone on page 10');
    await shows(member, 10, 'former presenter follows to page 10');
    await expect.poll(() => tid(member, 'present').isChecked()).toBe(false);
    expect(await tid(member, 'follow').isChecked()).toBe(true);
    expect(await tid(consolePage, 'console-presenter-state').textContent()).toContain(m.chair.fullName);

    // Stop from the console: nobody presents; the readers stay where they are.
    await tid(consolePage, 'console-stop').click();
    await expect.poll(() => tid(member, 'presenter-state').textContent()).toContain('Chưa có ai trình bày');
    await expect.poll(() => tid(late, 'presenter-state').textContent()).toContain('Nobody is presenting');
    expect(await livePage(late)).toBe(10);

    for (const pr of problems) expect(pr.errors).toEqual([]);
  }, 120_000);
});
