import fs from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTES } from '../../client/routes.js';
import { upload, pdf } from '../integration/documents-helpers.js';
import { ADMIN, VIEWPORTS, axeViolations, launchBrowser, loginAs, newPage } from '../helpers/browser.js';
import { buildMeeting } from '../helpers/factories.js';
import { type TestServer, inDays, startTestServer } from '../helpers/server.js';

/**
 * Accessibility sweep: every route of client/routes.ts, as each role that can reach it, at
 * 1024×768 (Vietnamese) and on a phone (English), checked with axe-core (serious and critical
 * violations) once the view has loaded. The meeting and its people are the test's own (factories).
 */

let server: TestServer;
let browser: Browser;
let visits: { route: string; path: string; user: string | null; ready: string }[];
/** Who signs in for a role named in `visits`. */
let accounts: Record<string, { username: string; password: string }>;

beforeAll(async () => {
  server = await startTestServer({ seed: 'admin' });
  const m = await buildMeeting(server, { members: 2, guests: 1, agendaItems: 2, title: 'Phiên họp kiểm tra khả năng tiếp cận' });
  accounts = { member1: m.members[0], secretary: m.secretary, chair: m.chair, guest: m.guests[0], admin: ADMIN };
  const secretary = await m.as('secretary');
  const doc = await upload(secretary, m.meetingId, m.itemIds[0], pdf('seed-1.pdf'), 'Báo cáo tình hình.pdf');
  const documentId = doc.body.id as number;
  const c = await secretary.post(`/api/meetings/${m.meetingId}/agenda/items/${m.itemIds[0]}/conclusions`, { text: 'Thống nhất thông qua báo cáo.', kind: 'decision' });
  await secretary.post('/api/tasks', { meetingId: m.meetingId, conclusionId: c.body.id, title: 'Hoàn thiện báo cáo', owner: { kind: 'user', userId: m.members[0].id }, deadline: inDays(10) });
  const id = m.meetingId;
  const cid = m.committeeId;
  visits = [
    { route: '/login', path: '/login', user: null, ready: 'ec-login-view form' },
    ...['member1', 'secretary', 'admin'].map((user) => ({ route: '/meetings', path: '/meetings', user, ready: 'ec-meeting-list-view [role="tabpanel"]' })),
    { route: '/meetings/new', path: '/meetings/new', user: 'secretary', ready: 'ec-meeting-editor-view form' },
    { route: '/meetings/:id/edit', path: `/meetings/${id}/edit`, user: 'secretary', ready: 'ec-meeting-editor-view form' },
    ...['member1', 'secretary', 'chair', 'guest'].map((user) => ({ route: '/meetings/:id', path: `/meetings/${id}`, user, ready: '[data-testid="meeting-title"]' })),
    ...['member1', 'secretary'].map((user) => ({ route: '/meetings/:id/documents', path: `/meetings/${id}/documents`, user, ready: 'ec-meeting-pack-view h1' })),
    { route: '/documents/:id', path: `/documents/${documentId}`, user: 'member1', ready: 'ec-document-view ec-pdf-viewer' },
    { route: '/documents/:id/annotate', path: `/documents/${documentId}/annotate`, user: 'member1', ready: 'ec-annotate-view ec-pdf-viewer' },
    { route: '/meetings/:id/annotations', path: `/meetings/${id}/annotations`, user: 'member1', ready: 'ec-my-annotations-view h1' },
    ...['member1', 'chair'].map((user) => ({ route: '/meetings/:id/live', path: `/meetings/${id}/live`, user, ready: 'ec-live-view h1' })),
    { route: '/meetings/:id/console', path: `/meetings/${id}/console`, user: 'chair', ready: 'ec-chair-console-view h1' },
    { route: '/meetings/:id/display', path: `/meetings/${id}/display`, user: 'secretary', ready: 'ec-room-display-view' },
    { route: '/meetings/:id/av', path: `/meetings/${id}/av`, user: 'member1', ready: 'ec-av-view h1' },
    ...['secretary', 'chair', 'member1'].map((user) => ({ route: '/meetings/:id/minutes', path: `/meetings/${id}/minutes`, user, ready: 'ec-minutes-view h1' })),
    ...['member1', 'secretary'].map((user) => ({ route: '/tasks', path: '/tasks', user, ready: 'ec-my-tasks-view h1' })),
    ...['secretary', 'member1'].map((user) => ({ route: '/committees/:id/tasks', path: `/committees/${cid}/tasks`, user, ready: 'ec-task-board-view h1' })),
    ...['member1', 'secretary'].map((user) => ({ route: '/consultations', path: '/consultations', user, ready: 'ec-consultations-view h1' })),
    ...['member1', 'admin'].map((user) => ({ route: '/account', path: '/account', user, ready: 'ec-account-view h1' })),
    { route: '/search', path: `/search?q=${encodeURIComponent('báo cáo')}`, user: 'member1', ready: 'ec-search-view h1' },
    { route: '/admin/users', path: '/admin/users', user: 'admin', ready: 'ec-admin-users-view h1' },
    { route: '/admin/committees', path: '/admin/committees', user: 'admin', ready: 'ec-admin-committees-view h1' },
    { route: '/admin/rooms', path: '/admin/rooms', user: 'admin', ready: 'ec-admin-rooms-view h1' },
  ];
  browser = await launchBrowser({ fakeMedia: true });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

/** Waits for the view's landmark element, then until no loading spinner is left (at most 5 s). */
async function settle(page: Page, ready: string): Promise<void> {
  await page.locator(ready).first().waitFor({ state: 'attached', timeout: 20_000 });
  await page
    .waitForFunction(
      `(() => { const any = (root) => [...root.querySelectorAll('*')].some((e) => (e.classList.contains('spinner') && e.getBoundingClientRect().width > 0) || (e.shadowRoot && any(e.shadowRoot))); return !any(document); })()`,
      undefined,
      { timeout: 5_000 },
    )
    .catch(() => undefined);
}

/** Visits `list` at one viewport and language; returns the violations by visit. */
async function sweep(list: typeof visits, vp: 'tablet' | 'phone', locale: 'vi' | 'en'): Promise<Record<string, string[]>> {
  const found: Record<string, string[]> = {};
  const pages = new Map<string | null, Page>();
  for (const v of list) {
    let page = pages.get(v.user);
    if (!page) {
      page = await newPage(browser, server.url, { viewport: VIEWPORTS[vp] });
      if (v.user) {
        await loginAs(page, accounts[v.user]);
        if (locale === 'en') {
          await page.locator('ec-app header ec-language-switch button[lang="en"]').click();
          await page.locator('ec-app header nav a', { hasText: 'Meetings' }).waitFor();
        }
      }
      pages.set(v.user, page);
    }
    const t0 = Date.now();
    await page.goto(v.path);
    if (!v.user && locale === 'en') await page.locator('ec-login-view ec-language-switch button[lang="en"]').click();
    await settle(page, v.ready);
    const violations = await axeViolations(page);
    if (violations.length) found[`${v.route} as ${v.user ?? 'anonymous'} (${vp}, ${locale})`] = violations;
    if (process.env.A11Y_LOG) fs.appendFileSync(process.env.A11Y_LOG, `${vp} ${v.path} ${v.user} ${Date.now() - t0}ms ${JSON.stringify(violations)}\n`);
  }
  for (const p of pages.values()) await p.context().close();
  return found;
}

// One journey in steps: they share the browsers, the server and the meeting, and run in the order written
// (CI shuffles the files and the unit and integration tests; see scripts/test.sh).
describe('accessibility of every view', { shuffle: false }, () => {
  it('every route, as each role that reaches it, at 1024×768 in Vietnamese: no serious or critical axe-core violation', async () => {
    // Every route of the app is visited.
    expect(ROUTES.map((r) => r.path).filter((p) => p !== '/' && !visits.some((v) => v.route === p))).toEqual([]);
    expect(await sweep(visits, 'tablet', 'vi')).toEqual({});
  }, 900_000);

  it('every route on a phone in English (as the first role listed for it): no serious or critical axe-core violation', async () => {
    const once = visits.filter((v, i) => visits.findIndex((w) => w.route === v.route) === i);
    expect(await sweep(once, 'phone', 'en')).toEqual({});
  }, 900_000);
});
