import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { VIEWPORTS, launchBrowser, newPage, screenshot } from '../helpers/browser.js';
import { type BuiltUser, buildMeeting } from '../helpers/factories.js';
import { type NetSwitch, netSwitch } from '../helpers/net-switch.js';
import { type TestServer, startTestServer } from '../helpers/server.js';
import { connectSocket, connected, newCommandId } from '../helpers/socket.js';
import { pdf, upload } from '../integration/documents-helpers.js';

/**
 * Tablets that keep working when the Wi-Fi drops (docs/OFFLINE.md). The browser reaches the server
 * through a relay that can cut the network (test/helpers/net-switch.ts) and the context is set
 * offline too, so nothing reaches the server while "offline": what the member sees comes from the
 * service worker and the offline copy on the tablet.
 */
// One journey in steps: they share the browsers, the server and the meeting, and run in the order written
// (CI shuffles the files and the unit and integration tests; see scripts/test.sh).
describe('offline e2e: installable app, meeting packs ready offline, remote wipe', { shuffle: false }, () => {
  let server: TestServer;
  let wifi: NetSwitch;
  let browser: Browser;

  beforeAll(async () => {
    server = await startTestServer({ seed: 'admin' });
    wifi = await netSwitch(server.port);
    browser = await launchBrowser();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await wifi?.close();
    await server?.close();
  });

  // A failed test must not leave the next one without network.
  beforeEach(() => wifi?.on());

  const viewer = (page: Page) => page.locator('ec-pdf-viewer');
  const pageBox = (page: Page, n: number) => page.locator(`ec-pdf-viewer .pg[data-page="${n}"]`);
  const tid = (page: Page, id: string) => page.locator(`[data-testid="${id}"]`).first();

  /** A meeting 10 days ahead (not downloaded automatically) with the large pack, a seed article and a view-only confidential draft. */
  async function meetingWithPack(startsInHours = 240) {
    const m = await buildMeeting(server, { members: 2, agendaItems: 1, startsInHours });
    const sec = await m.as('secretary');
    const big = await upload(sec, m.meetingId, m.itemIds[0], pdf('board-pack-large.pdf'), 'board-pack-large.pdf', { title: 'Bộ tài liệu 451 trang' });
    const seed = await upload(sec, m.meetingId, m.itemIds[0], pdf('seed-0.pdf'), 'seed-0.pdf', { title: 'Tờ trình chuyển đổi số' });
    const secret = await upload(sec, m.meetingId, m.itemIds[0], pdf('seed-1.pdf'), 'seed-1.pdf', { title: 'Dự thảo mật' });
    for (const r of [big, seed, secret]) expect(r.status).toBe(201);
    expect((await sec.patch(`/api/documents/${secret.body.id}`, { access: 'confidential', viewerIds: [m.members[0].id] })).status).toBe(200);
    return { m, sec, bigId: big.body.id as number, seedId: seed.body.id as number, secretId: secret.body.id as number };
  }

  async function signIn(page: Page, u: BuiltUser) {
    await page.goto('/login');
    await page.locator('ec-login-view input[name="username"]').fill(u.username);
    await page.locator('ec-login-view input[name="password"]').fill(u.password);
    await page.locator('ec-login-view button[type="submit"]').click();
    await page.waitForURL(/\/meetings/);
    await page.locator('[data-testid="current-user"]').waitFor({ state: 'attached' });
    // The service worker controls the page from its first visit (clients.claim).
    await page.waitForFunction(() => !!navigator.serviceWorker.controller, null, { timeout: 90_000 });
  }

  async function goOffline(page: Page) {
    wifi.off();
    await page.context().setOffline(true);
  }
  async function goOnline(page: Page) {
    wifi.on();
    await page.context().setOffline(false);
  }

  const cachedUrls = (page: Page) =>
    page.evaluate(async () => {
      const c = await caches.open('ec-offline-v1');
      return (await c.keys()).map((r) => new URL(r.url).pathname + new URL(r.url).search);
    });

  it('one tap keeps a meeting on the tablet; with no network the app reloads, page 300 of the large pack opens, find works, a note is drawn; back online it reaches another member', { timeout: 240_000 }, async () => {
    const { m, bigId, secretId } = await meetingWithPack();
    const page = await newPage(browser, wifi.url, { viewport: VIEWPORTS.tablet });
    await signIn(page, m.members[0]);

    await page.goto(`/meetings/${m.meetingId}/documents`);
    const toggle = page.locator('ec-meeting-pack-view ec-offline-toggle');
    await toggle.locator('[data-testid="offline-download"]').click();
    await toggle.locator('[data-state="downloading"]').waitFor({ timeout: 10_000 }).catch(() => undefined);
    await toggle.locator('[data-state="ready"]').waitFor({ timeout: 90_000 });
    await expect(toggle.locator('.ready').textContent()).resolves.toMatch(/Sẵn sàng ngoại tuyến · [\d,.]+ MB/);
    await expect(toggle.locator('[data-testid="offline-excluded"]').textContent()).resolves.toContain('1 tài liệu mật');
    // The view-only confidential draft was never stored on the tablet.
    const stored = await cachedUrls(page);
    expect(stored).toContain(`/api/documents/${bigId}/file`);
    expect(stored.filter((u) => u.includes(`/documents/${secretId}`))).toEqual([]);
    await screenshot(page, 'offline-ready', 'vi');

    // The meeting list shows it too, at a glance.
    await page.goto('/meetings');
    await page.locator(`li[data-meeting-id="${m.meetingId}"] [data-state="ready"]`).waitFor();

    await goOffline(page);
    await page.reload();
    await page.locator('[data-testid="current-user"]').waitFor({ state: 'attached', timeout: 30_000 });
    await page.locator('ec-offline-banner [role="status"]').waitFor({ timeout: 15_000 });
    await page.locator(`li[data-meeting-id="${m.meetingId}"]`).waitFor();

    await page.goto(`/meetings/${m.meetingId}/documents`);
    await page.locator('ec-meeting-pack-view li.doc', { hasText: 'Bộ tài liệu 451 trang' }).waitFor({ timeout: 30_000 });
    await page.goto(`/documents/${bigId}`);
    await pageBox(page, 1).and(page.locator('[data-rendered="true"]')).waitFor({ timeout: 60_000 });
    const input = viewer(page).locator('input[name="page"]');
    await input.fill('300');
    await input.press('Enter');
    await pageBox(page, 300).and(page.locator('[data-rendered="true"]')).waitFor({ timeout: 60_000 });
    await expect(viewer(page).getAttribute('page')).resolves.toBe('300');
    await screenshot(page, 'offline-page-300', 'vi');

    // Find inside the document without network: words of page 300 typed without marks.
    const member = await m.as('member', 0);
    const text300 = (await member.get(`/api/documents/${bigId}/pages/300/text`)).body.text as string;
    const tokens = text300.split(/\s+/);
    const word = (w: string) => /^\p{L}{3,}$/u.test(w);
    const at = tokens.findIndex((w, i) => i > 3 && word(w) && word(tokens[i + 1] ?? ''));
    // Two adjacent words of page 300, typed without Vietnamese marks.
    const words = `${tokens[at]} ${tokens[at + 1]}`.normalize('NFD').replace(/\p{M}/gu, '').replace(/[đĐ]/g, 'd');
    const find = viewer(page).locator('input[name="find"]');
    await find.fill(words);
    await find.press('Enter');
    await viewer(page).locator('[data-testid="find-count"]').waitFor({ timeout: 20_000 });
    await expect(viewer(page).locator('[data-testid="find-count"]').textContent()).resolves.toMatch(/\d/);

    // Annotate offline on the annotation view of the same document (a stroke, shared).
    await page.goto(`/documents/${bigId}/annotate?page=300`);
    await pageBox(page, 300).and(page.locator('[data-rendered="true"]')).waitFor({ timeout: 60_000 });
    await page.locator('ec-document-annotations button[data-tool="pen"]').click();
    const layer = pageBox(page, 300).locator('ec-annotation-layer svg');
    await layer.waitFor({ timeout: 10_000 });
    const box = (await layer.boundingBox())!;
    await page.mouse.move(box.x + 120, box.y + 200);
    await page.mouse.down();
    for (let i = 1; i <= 12; i++) await page.mouse.move(box.x + 120 + i * 8, box.y + 200 + Math.sin(i / 2) * 10);
    await page.mouse.up();
    await screenshot(page, 'offline-annotate', 'vi');
    await page.locator('ec-annotation-layer g.own [data-kind="ink"]').first().waitFor({ timeout: 10_000 });
    await page.locator('ec-document-annotations button', { hasText: 'Chia sẻ tất cả' }).click();
    await screenshot(page, 'offline-annotate', 'vi');

    // Another member, online, sees nothing yet; once the tablet is back, the stroke reaches them.
    const other = await newPage(browser, server.url, { viewport: VIEWPORTS.tablet });
    await signIn(other, m.members[1]);
    await other.goto(`/documents/${bigId}/annotate?page=300`);
    await other.locator('ec-document-annotations .status').filter({ hasText: 'Đã đồng bộ' }).waitFor({ timeout: 60_000 });
    expect(await other.locator('ec-annotation-layer g.shared [data-kind="ink"]').count()).toBe(0);
    await goOnline(page);
    await other.locator('ec-annotation-layer g.shared [data-kind="ink"]').first().waitFor({ timeout: 30_000 });
    await page.context().close();
    await other.context().close();
  });

  it('after one visit the app opens with no network, in the language last chosen on the tablet', { timeout: 120_000 }, async () => {
    const m = await buildMeeting(server, { members: 1, agendaItems: 1, startsInHours: 240 });
    const page = await newPage(browser, wifi.url, { viewport: VIEWPORTS.phone });
    await signIn(page, m.members[0]);
    await page.locator('ec-app header ec-language-switch button', { hasText: 'EN' }).click();
    await page.locator('html[lang="en"]').waitFor({ state: 'attached' });
    // The account and meeting list are on the tablet once signed in (no meeting downloaded here).
    await expect.poll(async () => (await cachedUrls(page)).includes('/api/auth/me'), { timeout: 20_000 }).toBe(true);
    await goOffline(page);
    await page.reload();
    await page.locator('[data-testid="current-user"]').waitFor({ state: 'attached', timeout: 30_000 });
    await page.locator('html[lang="en"]').waitFor({ state: 'attached' });
    await page.locator('ec-offline-banner [role="status"]').waitFor();
    await expect(page.locator('ec-offline-banner [role="status"]').textContent()).resolves.toMatch(/offline|Connection/i);
    await page.locator(`li[data-meeting-id="${m.meetingId}"]`).waitFor({ timeout: 15_000 });
    await screenshot(page, 'offline-start-phone', 'en');
    await page.context().close();
  });

  /** A live meeting of its own with one open secret motion; returns the chair's socket to close it. */
  async function liveVote() {
    const m = await buildMeeting(server, { members: 2, agendaItems: 1, startsInHours: 1 });
    const sec = await m.as('secretary');
    const s = await connected(connectSocket(server.url, sec));
    for (const u of [m.chair, ...m.members]) {
      expect((await s.cmd('attendance:check_in', { meetingId: m.meetingId, userId: u.id, mode: 'in_room', commandId: newCommandId() })).ok).toBe(true);
    }
    s.close();
    const chair = await connected(connectSocket(server.url, await m.as('chair')));
    expect((await chair.cmd('meeting:open', { meetingId: m.meetingId, overrideReason: 'Kiểm thử ngoại tuyến' })).ok).toBe(true);
    const v = await sec.post(`/api/meetings/${m.meetingId}/votes`, { title: 'Thông qua tờ trình', kind: 'motion', secret: true });
    expect(v.status).toBe(201);
    expect((await chair.cmd('vote:open', { voteId: v.body.id, overrideReason: 'Kiểm thử ngoại tuyến', commandId: newCommandId() })).ok).toBe(true);
    const voted = async () => {
      const list = (await sec.get(`/api/meetings/${m.meetingId}/votes`)).body.votes as { id: number; voted: number }[];
      return list.find((x) => x.id === v.body.id)!.voted;
    };
    return { m, sec, chair, voteId: v.body.id as number, voted };
  }

  async function castOffline(page: Page) {
    await tid(page, 'vote-choice-0').waitFor({ timeout: 30_000 });
    await goOffline(page);
    await tid(page, 'vote-choice-0').click();
    await tid(page, 'vote-confirm').click();
  }

  it('a ballot cast with no network says the tablet is offline and waits; back online it is counted exactly once', { timeout: 180_000 }, async () => {
    const { m, chair, voted } = await liveVote();
    const page = await newPage(browser, wifi.url, { viewport: VIEWPORTS.tablet });
    await signIn(page, m.members[0]);
    await page.goto(`/meetings/${m.meetingId}/live`);
    await castOffline(page);
    await expect(tid(page, 'vote-queued').textContent()).resolves.toMatch(/mất kết nối/);
    await screenshot(page, 'offline-vote-queued', 'vi');
    expect(await voted()).toBe(0);
    // Asking for the floor needs the room: with no network the tablet says the request waits for the connection.
    await tid(page, 'ask-speech').click();
    await expect.poll(() => tid(page, 'command-queued').textContent()).toContain('mất kết nối');
    await goOnline(page);
    await tid(page, 'vote-recorded').waitFor({ timeout: 30_000 });
    await expect.poll(voted, { timeout: 10_000 }).toBe(1);
    // Back online it went through once: the member sees their place in the queue.
    await tid(page, 'my-request').waitFor({ timeout: 30_000 });
    await tid(page, 'command-queued').waitFor({ state: 'detached' });
    // Nothing else is replayed later: still one ballot after a reload.
    await page.reload();
    await tid(page, 'vote-recorded').waitFor({ timeout: 30_000 });
    expect(await voted()).toBe(1);
    chair.close();
    await page.context().close();
  });

  it('a ballot queued offline for a vote that closed meanwhile is refused on reconnect with the reason shown', { timeout: 180_000 }, async () => {
    const { m, chair, voteId, voted } = await liveVote();
    const page = await newPage(browser, wifi.url, { viewport: VIEWPORTS.phone, locale: 'en-GB' });
    await signIn(page, m.members[0]);
    await page.goto(`/meetings/${m.meetingId}/live`);
    await castOffline(page);
    await tid(page, 'vote-queued').waitFor();
    expect((await chair.cmd('vote:close', { voteId, commandId: newCommandId() })).ok).toBe(true);
    await goOnline(page);
    // The replayed ballot is refused (vote_closed) and the member is told why; it never counts.
    const alert = page.locator('ec-vote-panel [role="alert"]');
    await alert.waitFor({ timeout: 30_000 });
    await expect(alert.textContent()).resolves.toMatch(/kết thúc/);
    await screenshot(page, 'offline-vote-closed-phone', 'vi');
    expect(await voted()).toBe(0);
    chair.close();
    await page.context().close();
  });

  it('a full storage quota stops the download with a message and nothing claims to be ready; a document updated later replaces its offline copy and the member is told', { timeout: 180_000 }, async () => {
    const m = await buildMeeting(server, { members: 1, agendaItems: 1, startsInHours: 240 });
    const sec = await m.as('secretary');
    const doc = await upload(sec, m.meetingId, m.itemIds[0], pdf('seed-0.pdf'), 'seed-0.pdf', { title: 'Tờ trình chuyển đổi số' });
    expect(doc.status).toBe(201);
    const page = await newPage(browser, wifi.url, { viewport: VIEWPORTS.tablet });
    await signIn(page, m.members[0]);

    // The tablet has almost no storage left for this origin (Chromium's quota, set through CDP).
    const cdp = await page.context().newCDPSession(page);
    const origin = new URL(wifi.url).origin;
    const usage = (await cdp.send('Storage.getUsageAndQuota', { origin })).usage;
    await cdp.send('Storage.overrideQuotaForOrigin', { origin, quotaSize: usage + 10_000 });
    await page.goto(`/meetings/${m.meetingId}/documents`);
    const toggle = page.locator('ec-meeting-pack-view ec-offline-toggle');
    await toggle.locator('[data-testid="offline-download"]').click();
    const status = toggle.locator('[data-testid="offline-status"]');
    await toggle.locator('[data-state="error"]').waitFor({ timeout: 60_000 });
    await expect(status.textContent()).resolves.toContain('Không đủ dung lượng');
    await screenshot(page, 'offline-quota', 'vi');
    expect(await cachedUrls(page)).not.toContain(`/api/documents/${doc.body.id}/file`);
    await page.goto('/meetings');
    expect(await page.locator(`li[data-meeting-id="${m.meetingId}"] [data-state="ready"]`).count()).toBe(0);
    await page.goto(`/meetings/${m.meetingId}/documents`);
    await toggle.locator('[data-state="error"], [data-state="none"]').first().waitFor();

    // Space freed: the member tries again and the meeting becomes ready.
    await cdp.send('Storage.overrideQuotaForOrigin', { origin });
    await toggle.locator('[data-testid="offline-download"]').click();
    await toggle.locator('[data-state="ready"]').waitFor({ timeout: 60_000 });
    const storedBytes = () =>
      page.evaluate(async (url) => (await (await (await caches.open('ec-offline-v1')).match(url))?.arrayBuffer())?.byteLength ?? 0, `/api/documents/${doc.body.id}/file`);
    const before = await storedBytes();
    expect(before).toBeGreaterThan(0);

    // The secretary replaces the file with a new version: at the tablet's next contact the copy is replaced and the banner says so.
    const fd = new FormData();
    fd.append('file', new Blob([pdf('seed-2.pdf') as Uint8Array<ArrayBuffer>], { type: 'application/pdf' }), 'seed-2.pdf');
    expect((await sec.post(`/api/documents/${doc.body.id}/versions`, fd)).status).toBe(201);
    await page.reload();
    const notice = page.locator('ec-offline-banner [data-testid="offline-updated"]');
    await notice.waitFor({ timeout: 30_000 });
    await expect(notice.textContent()).resolves.toContain('Tờ trình chuyển đổi số');
    await expect.poll(storedBytes).not.toBe(before);
    // The copy is the new version (seed-2 is ~8 KB larger than seed-0), the one the server serves now.
    const current = await page.evaluate(async (url) => (await (await fetch(url)).arrayBuffer()).byteLength, `/api/documents/${doc.body.id}/file`);
    expect(await storedBytes()).toBe(current);
    expect(current - before).toBeGreaterThan(4_000);
    await screenshot(page, 'offline-updated', 'vi');
    await page.context().close();
  });

  it('logout wipes Cache Storage and IndexedDB; a restricted document and a removed meeting are deleted from the tablet at its next contact', { timeout: 240_000 }, async () => {
    const { m, sec, seedId, bigId } = await meetingWithPack(48);
    const page = await newPage(browser, wifi.url, { viewport: VIEWPORTS.phone, offlineAuto: true });
    await signIn(page, m.members[0]);
    // Meetings of the next days are made available automatically.
    await page.locator(`li[data-meeting-id="${m.meetingId}"] [data-state="ready"]`).waitFor({ timeout: 120_000 });
    expect(await cachedUrls(page)).toContain(`/api/documents/${seedId}/file`);
    await screenshot(page, 'offline-list-phone', 'vi');

    // The secretary restricts the seed article to member 2: at the next contact its copy goes.
    expect((await sec.patch(`/api/documents/${seedId}`, { access: 'named', viewerIds: [m.members[1].id] })).status).toBe(200);
    await page.reload();
    await expect.poll(async () => (await cachedUrls(page)).filter((u) => u.includes(`/documents/${seedId}`)), { timeout: 30_000 }).toEqual([]);
    expect(await cachedUrls(page)).toContain(`/api/documents/${bigId}/file`);

    // Open annotations exist in IndexedDB (pre-synced layers).
    const dbsBefore = await page.evaluate(async () => (await indexedDB.databases()).map((d) => d.name));
    expect(dbsBefore.some((n) => n?.startsWith('ec-annotations'))).toBe(true);

    await page.locator('ec-app header button.logout').click();
    await page.waitForURL(/\/login/);
    await expect
      .poll(() =>
        page.evaluate(async () => ({
          caches: (await caches.keys()).filter((k) => k.startsWith('ec-offline')),
          idb: (await indexedDB.databases()).map((d) => d.name).filter((n) => n?.startsWith('ec-annotations')),
          records: localStorage.getItem('ec-offline-meetings'),
        })),
      )
      .toEqual({ caches: [], idb: [], records: null });
    await page.context().close();
  });

  it('an administrator revokes the tablet: at its next contact the session ends and every offline copy is wiped', { timeout: 240_000 }, async () => {
    const { m, bigId } = await meetingWithPack();
    const page = await newPage(browser, wifi.url, { viewport: VIEWPORTS.tablet });
    await signIn(page, m.members[0]);
    await page.goto(`/meetings/${m.meetingId}/documents`);
    await page.locator('ec-offline-toggle [data-testid="offline-download"]').click();
    await page.locator('ec-offline-toggle [data-state="ready"]').waitFor({ timeout: 90_000 });
    expect(await cachedUrls(page)).toContain(`/api/documents/${bigId}/file`);

    // The administrator finds the member's tablet in the users view and revokes it.
    const admin = await newPage(browser, server.url, { viewport: VIEWPORTS.tablet });
    await admin.goto('/login');
    await admin.locator('ec-login-view input[name="username"]').fill('admin');
    await admin.locator('ec-login-view input[name="password"]').fill('ecabinet-demo');
    await admin.locator('ec-login-view button[type="submit"]').click();
    await admin.waitForURL(/\/meetings/);
    await admin.goto('/admin/users');
    await admin.locator('ec-admin-users-view input[type="search"]').fill(m.members[0].username);
    await admin.locator(`tr[data-username="${m.members[0].username}"] [data-testid="user-devices-open"]`).click();
    const list = admin.locator('[data-testid="user-devices"] li[data-device]');
    await expect.poll(() => list.count()).toBe(1);
    admin.once('dialog', (d) => void d.accept());
    await list.first().locator('button.danger').click();
    await admin.locator('[data-testid="user-devices"] [role="status"]').waitFor();
    await screenshot(admin, 'admin-devices', 'vi');
    await admin.context().close();

    await page.reload();
    await page.waitForURL(/\/login/, { timeout: 30_000 });
    await expect
      .poll(() => page.evaluate(async () => ({ caches: (await caches.keys()).filter((k) => k.startsWith('ec-offline')), records: localStorage.getItem('ec-offline-meetings') })), { timeout: 20_000 })
      .toEqual({ caches: [], records: null });
    await page.context().close();
  });
});

