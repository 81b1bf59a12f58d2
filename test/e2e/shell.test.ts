import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, VIEWPORTS, collectProblems, expectAxeClean, launchBrowser, loginAs, newPage, screenshot } from '../helpers/browser.js';
import { type BuiltMeeting, buildCommitteeMeeting, buildMeeting } from '../helpers/factories.js';
import { type TestServer, startTestServer } from '../helpers/server.js';

let server: TestServer;
let browser: Browser;
/** The journey's own committee (factories): its members sign in, its secretary publishes. */
let m: BuiltMeeting;

beforeAll(async () => {
  server = await startTestServer({ seed: 'admin' });
  m = await buildMeeting(server, { members: 3, agendaItems: 1 });
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

/** Links of the header's main navigation that are not entirely inside the viewport. */
async function cutNavLinks(page: Page): Promise<string[]> {
  return page.locator('ec-app header nav a').evaluateAll((links) =>
    links.filter((a) => {
      const r = a.getBoundingClientRect();
      return r.left < 0 || r.right > window.innerWidth + 0.5 || r.width === 0;
    }).map((a) => a.textContent ?? ''),
  );
}

// One journey in steps: they share the browsers, the server and the meeting, and run in the order written
// (CI shuffles the files and the unit and integration tests; see scripts/test.sh).
describe('app shell', { shuffle: false }, () => {
  it('English chosen on the login page survives the login and becomes the account language (after a reload too)', async () => {
    const page = await newPage(browser, server.url);
    await page.goto('/login');
    await page.locator('ec-login-view ec-language-switch button[lang="en"]').click();
    await page.locator('ec-login-view button[type="submit"]', { hasText: 'Sign in' }).waitFor();
    await expectAxeClean(page, { label: 'login (en)' });
    await page.locator('ec-login-view input[name="username"]').fill(m.members[0].username);
    await page.locator('ec-login-view input[name="password"]').fill(m.members[0].password);
    await page.locator('ec-login-view button[type="submit"]').click();
    await page.waitForURL(/\/meetings/);
    await page.locator('ec-app header nav a', { hasText: 'Meetings' }).waitFor();
    await expect.poll(() => page.evaluate(() => fetch('/api/auth/me').then((r) => r.json()).then((m) => m.locale))).toBe('en');
    await page.reload();
    await page.locator('ec-app header nav a', { hasText: 'Meetings' }).waitFor();
    expect(await page.evaluate(() => document.documentElement.lang)).toBe('en');
  }, 180_000);

  it('a language switched in the header and the page reloaded before the server stored it: the app comes back in that language and stores it then', async () => {
    const page = await newPage(browser, server.url);
    await loginAs(page, m.members[1]);
    await page.locator('ec-app header nav a', { hasText: 'Cuộc họp' }).waitFor();
    // The switch's PATCH never reaches the server (bad Wi-Fi, or the page left at once: a navigation cancels it).
    const held: (() => Promise<void>)[] = [];
    await page.route('**/api/auth/me', (route) => (route.request().method() === 'PATCH' ? held.push(() => route.abort('internetdisconnected')) : route.continue()));
    await page.locator('ec-app header ec-language-switch button[lang="en"]').click();
    await expect.poll(() => page.evaluate(() => document.documentElement.lang)).toBe('en');
    await expect.poll(() => held.length).toBe(1);
    const account = async () => (await (await m.login(m.members[1])).get('/api/auth/me')).body.locale as string;
    expect(await account()).toBe('vi');
    for (const lose of held) await lose();
    await page.unroute('**/api/auth/me');
    await page.reload();
    await page.locator('ec-app header nav a', { hasText: 'Meetings' }).waitFor();
    expect(await page.evaluate(() => document.documentElement.lang)).toBe('en');
    // …and the account has it now (another device of this user opens in English).
    await expect.poll(account).toBe('en');
  }, 180_000);

  it('on a phone every tab of the main menu is fully visible (no strip cut at the edge), for a member and an admin', async () => {
    for (const [user, account] of [['member', m.members[1]], ['admin', ADMIN]] as const) {
      const page = await newPage(browser, server.url, { viewport: VIEWPORTS.phone });
      await loginAs(page, account);
      for (const path of ['/meetings', '/search', '/tasks']) {
        await page.goto(path);
        await page.locator('ec-app header nav a[aria-current="page"]').first().waitFor();
        expect(await cutNavLinks(page), `${user} ${path}`).toEqual([]);
        expect(await page.evaluate('document.documentElement.scrollWidth <= document.documentElement.clientWidth')).toBe(true);
      }
      await expectAxeClean(page, { label: `${user} phone shell` });
      await screenshot(page, `shell-phone-${user}`, 'vi');
      await page.context().close();
    }
  }, 240_000);

  it("the room's big display is a kiosk: no app menu, notification bell or logout button", async () => {
    const page = await newPage(browser, server.url);
    const problems = collectProblems(page);
    await loginAs(page, m.secretary);
    await page.goto(`/meetings/${m.meetingId}/display`);
    await page.locator('ec-room-display-view').waitFor();
    await page.waitForFunction(() => !!document.querySelector('ec-app')?.shadowRoot?.querySelector('main ec-room-display-view'));
    expect(await page.locator('ec-app header').count()).toBe(0);
    expect(await page.locator('ec-app button.logout').count()).toBe(0);
    expect(await page.locator('ec-notification-bell').count()).toBe(0);
    // Leaving the kiosk brings the menu back.
    await page.goto('/meetings');
    await page.locator('ec-app header nav').waitFor();
    expect(problems.errors).toEqual([]);
  }, 180_000);

  it("a member's meeting list shows a meeting as soon as it is published to them (push, no reload)", async () => {
    const page = await newPage(browser, server.url);
    await loginAs(page, m.members[2]);
    await page.locator('ec-meeting-list-view [role="tabpanel"]').waitFor();
    const title = 'Họp bất thường về ứng phó bão số 9';
    const secretary = await m.as('secretary');
    const extra = await buildCommitteeMeeting(m, { agendaItems: 1, title });
    // A draft is not shown to members.
    await page.waitForTimeout(300);
    expect(await page.locator('ec-meeting-list-view li', { hasText: title }).count()).toBe(0);
    expect((await secretary.post(`/api/meetings/${extra.meetingId}/publish`)).status).toBe(200);
    await page.locator('ec-meeting-list-view li', { hasText: title }).waitFor({ timeout: 10_000 });
  }, 180_000);
});
