import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, VIEWPORTS, collectProblems, launchBrowser, loginAs, logout, newPage, screenshot, smallTouchTargets, touchDrag } from '../helpers/browser.js';
import { type BuiltMeeting, type BuiltUser, buildCommitteeMeeting, buildMeeting } from '../helpers/factories.js';
import { type TestServer, startTestServer } from '../helpers/server.js';

/**
 * The foundation scenario end to end in Chromium: the secretary prepares and publishes a meeting
 * through the UI (agenda reordered by drag and drop and by keyboard), a member sees exactly that
 * agenda in Vietnamese at 1024×768, a guest of another committee's meeting does not see it at all.
 * The committee, its people and the other meeting are the journey's own (factories; `seed: 'admin'`).
 * Needs the built client (`npm run build`; scripts/test.sh builds when sources are newer).
 */
// One journey in steps: they share the browsers, the server and the meeting, and run in the order written
// (CI shuffles the files and the unit and integration tests; see scripts/test.sh).
describe('foundation e2e: prepare, publish and read a meeting in the web client', { shuffle: false }, () => {
  let server: TestServer;
  let browser: Browser;
  const title = 'Phiên họp chuyên đề Chuyển đổi số tháng 12';
  const A = 'Báo cáo kết quả thực hiện Đề án 06';
  const B = 'Tham luận của Sở Nội vụ về cải cách thủ tục hành chính';
  const C = 'Kết luận của Chủ tọa';
  let meetingId = 0;
  /** Our committee (chair, secretary, four members) with one draft meeting nobody is notified of. */
  let m: BuiltMeeting;
  /** The member who presents item A. */
  let presenter: BuiltUser;
  /** A guest invited only to another committee's meeting. */
  let guest: BuiltUser;

  beforeAll(async () => {
    server = await startTestServer({ seed: 'admin' });
    m = await buildMeeting(server, { members: 4, agendaItems: 0, publish: false });
    presenter = m.members[3];
    guest = (await buildMeeting(server, { members: 1, guests: 1, agendaItems: 1 })).guests[0];
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  /** [number, title] of every row of the agenda builder, in display order. */
  const builderRows = (page: Page) =>
    page.locator('ec-agenda-builder li.row[data-number]').evaluateAll((rows) => rows.map((r) => [(r as HTMLElement).dataset.number, r.querySelector('.t')?.textContent?.trim()]));
  const row = (page: Page, text: string) => page.locator('ec-agenda-builder li.row[data-number]', { hasText: text });

  async function addItem(page: Page, itemTitle: string, extra: { minutes?: string; presenter?: string; description?: string } = {}) {
    await page.locator('[data-testid="add-item"]').click();
    const form = page.locator('ec-agenda-builder [data-testid="item-form"]');
    await form.locator('input[name="title"]').fill(itemTitle);
    if (extra.presenter) await form.locator('select[name="presenterId"]').selectOption({ label: extra.presenter });
    if (extra.minutes) await form.locator('input[name="durationMinutes"]').fill(extra.minutes);
    if (extra.description) await form.locator('textarea[name="description"]').fill(extra.description);
    await form.locator('button[type="submit"]').click();
    await row(page, itemTitle).waitFor();
  }

  it('the secretary creates a meeting, builds a three-item agenda (one nested) by drag and drop and keyboard, gets a clear message on a version conflict, and publishes', async () => {
    const page = await newPage(browser, server.url, { viewport: VIEWPORTS.tablet });
    // The CSP allows only 'self' (+ data: fonts/images): self-hosted fonts and the bundle must load without violations.
    const problems = collectProblems(page);
    await page.goto('/');
    await page.locator('ec-login-view input[name="username"]').waitFor();
    await screenshot(page, 'login', 'vi');
    await loginAs(page, m.secretary);

    await page.locator('[data-testid="new-meeting"]').click();
    await page.waitForURL(/\/meetings\/new$/);
    const form = page.locator('ec-meeting-editor-view form.meeting');
    await form.locator('input[name="title"]').fill(title);
    await form.locator('select[name="mode"]').selectOption('hybrid');
    // Participants default to the committee's members with their roles.
    await expect.poll(() => form.locator('[data-testid="participant-rows"] tbody tr').count()).toBe(2 + m.members.length);
    await form.locator('[data-testid="save-meeting"]').click();
    await page.waitForURL(/\/meetings\/\d+\/edit$/);
    meetingId = Number(/\/meetings\/(\d+)\/edit/.exec(page.url())![1]);

    await addItem(page, C);
    await addItem(page, A, { minutes: '30', presenter: presenter.fullName, description: 'Báo cáo của Văn phòng UBND Thành phố.' });
    await addItem(page, B, { minutes: '15' });
    expect(await builderRows(page)).toEqual([
      ['1', C],
      ['2', A],
      ['3', B],
    ]);

    // Drag and drop (pointer events): A's handle onto the upper half of C → A goes first.
    const handle = row(page, A).locator('[data-testid="drag-handle"]');
    const hb = (await handle.boundingBox())!;
    const cb = (await row(page, C).boundingBox())!;
    await page.mouse.move(hb.x + hb.width / 2, hb.y + hb.height / 2);
    await page.mouse.down();
    await page.mouse.move(cb.x + cb.width / 2, cb.y + cb.height / 2, { steps: 4 });
    await page.mouse.move(cb.x + cb.width / 2, cb.y + 4, { steps: 4 });
    await page.mouse.up();
    await expect.poll(() => builderRows(page)).toEqual([
      ['1', A],
      ['2', C],
      ['3', B],
    ]);

    // Another secretary edits the agenda meanwhile: the next move from this page is refused with
    // 409 version_conflict, the page says so and reloads the agenda (which shows their change).
    const other = await m.as('secretary');
    const current = (await other.get(`/api/meetings/${meetingId}/agenda`)).body;
    const cId = current.items.find((i: { title: string }) => i.title === C).id;
    expect((await other.patch(`/api/meetings/${meetingId}/agenda/items/${cId}`, { version: current.version, durationMinutes: 10 })).status).toBe(200);
    await row(page, B).focus();
    await page.keyboard.press('Alt+ArrowUp');
    await page.locator('[data-testid="agenda-message"]', { hasText: 'vừa được người khác thay đổi' }).waitFor();
    await row(page, C).getByText('10 phút').waitFor();
    expect(await builderRows(page)).toEqual([
      ['1', A],
      ['2', C],
      ['3', B],
    ]);

    // Keyboard: B up one place (Alt+↑), then into A as a sub-item (Alt+→).
    await row(page, B).focus();
    await page.keyboard.press('Alt+ArrowUp');
    await expect.poll(() => builderRows(page)).toEqual([
      ['1', A],
      ['2', B],
      ['3', C],
    ]);
    await expect.poll(() => page.evaluate(() => (document.querySelector('ec-app')!.shadowRoot!.activeElement?.shadowRoot?.activeElement?.shadowRoot?.activeElement as HTMLElement | null)?.dataset.number)).toBe('2');
    await page.keyboard.press('Alt+ArrowRight');
    await expect.poll(() => builderRows(page)).toEqual([
      ['1', A],
      ['1.1', B],
      ['2', C],
    ]);
    await screenshot(page, 'meeting-editor', 'vi');
    expect(await smallTouchTargets(page)).toEqual([]);

    await page.locator('[data-testid="publish"]').click();
    await page.locator('[data-testid="confirm-publish"]').click();
    await expect.poll(() => page.locator('ec-meeting-editor-view [data-testid="meeting-status"]').textContent()).toBe('Đã công bố');
    // The self-hosted Vietnamese subset of the UI font is what renders the text.
    const viFont = await page.evaluate(() => [...document.fonts].filter((f) => f.family.includes('Be Vietnam Pro') && /1ea0/i.test(f.unicodeRange)).map((f) => f.status));
    expect(viFont).toContain('loaded');
    expect(problems).toEqual({ csp: [], errors: [] });
    await page.context().close();
  });

  it('a member at 1024×768 sees exactly that agenda in Vietnamese, sees the offline banner while offline, and switches to English (kept on the account)', async () => {
    const page = await newPage(browser, server.url, { viewport: VIEWPORTS.tablet });
    await loginAs(page, m.members[0]);
    await expect.poll(() => page.locator('html').getAttribute('lang')).toBe('vi');
    const card = page.locator('[data-testid="meeting-list"] li', { hasText: title });
    await card.waitFor();
    await expect.poll(() => page.locator('[data-testid="unread-count"]').textContent()).toBe('1');
    await screenshot(page, 'meeting-list', 'vi');
    // The bell lists the invitation published a moment ago.
    await page.locator('ec-notification-bell button.bell').click();
    await page.locator('ec-notification-bell .panel li', { hasText: `Bạn được mời họp: ${title}` }).waitFor();
    await screenshot(page, 'notifications', 'vi');
    await page.keyboard.press('Escape');
    // News arrives by push (notifications:new), not by the bell's 5-minute poll: another invitation
    // published now shows on the open page within seconds.
    await buildCommitteeMeeting(m, { publish: true, title: 'Họp bổ sung' });
    await expect.poll(() => page.locator('[data-testid="unread-count"]').textContent(), { timeout: 10_000 }).toBe('2');
    await card.locator('a').click();
    await page.waitForURL(new RegExp(`/meetings/${meetingId}$`));
    const agenda = page.locator('ec-agenda-tree li');
    await agenda.first().waitFor();
    const rows = await agenda.evaluateAll((els) => els.map((e) => [e.querySelector('.num')?.textContent?.trim(), e.querySelector('.title')?.textContent?.trim()]));
    expect(rows).toEqual([
      ['1', A],
      ['1.1', B],
      ['2', C],
    ]);
    expect(await page.locator('ec-meeting-detail-view h2#agenda-h').textContent()).toBe('Chương trình họp');
    const itemA = (await page.locator('ec-agenda-tree li', { hasText: A }).textContent())!.replace(/\s+/g, ' ');
    expect(itemA).toContain(`Trình bày: ${presenter.fullName}`);
    expect(itemA).toContain('30 phút');
    expect(itemA).toContain('Báo cáo của Văn phòng UBND Thành phố.');
    await screenshot(page, 'meeting-detail', 'vi');

    // Offline: the banner appears, and goes away when the network is back.
    const banner = page.locator('ec-offline-banner [role="status"]');
    await page.context().setOffline(true);
    await expect.poll(() => banner.textContent()).toBe('Mất kết nối — đang kết nối lại');
    await page.context().setOffline(false);
    await expect.poll(() => banner.count()).toBe(0);

    // English: the switch re-renders in place and is stored on the account (survives a reload).
    await page.locator('ec-language-switch button[lang="en"]').first().click();
    await page.locator('ec-meeting-detail-view h2#agenda-h', { hasText: 'Agenda' }).waitFor();
    await page.reload();
    await page.locator('ec-meeting-detail-view h2#agenda-h', { hasText: 'Agenda' }).waitFor();
    expect(await page.locator('html').getAttribute('lang')).toBe('en');
    await screenshot(page, 'meeting-detail', 'en');
    await page.goto('/meetings');
    await page.locator('[data-testid="meeting-list"] li', { hasText: title }).waitFor();
    await screenshot(page, 'meeting-list', 'en');
    await page.context().close();
  });

  it('the guest does not see the meeting at all (no list has it, its page says not found); a lost session returns to the login page', async () => {
    const page = await newPage(browser, server.url, { viewport: VIEWPORTS.phone });
    await loginAs(page, guest);
    // The guest is invited to another committee's meeting only: the list loads with it, without ours.
    const list = page.locator('[data-testid="meeting-list"]');
    await list.waitFor();
    expect(await list.textContent()).not.toContain(title);
    await screenshot(page, 'meeting-list-phone', 'vi');
    expect(await smallTouchTargets(page)).toEqual([]);
    for (const tab of ['live', 'past']) {
      await page.locator(`ec-meeting-list-view #tab-${tab}`).click();
      await page.locator('[data-testid="meeting-list"], [data-testid="meetings-empty"]').first().waitFor();
      expect(await page.locator('ec-meeting-list-view #panel').textContent()).not.toContain(title);
    }
    await page.goto(`/meetings/${meetingId}`);
    await page.locator('ec-meeting-detail-view h1', { hasText: 'Không tìm thấy cuộc họp' }).waitFor();
    expect(await page.locator('ec-meeting-detail-view').textContent()).not.toContain(A);

    // A lost session (401 on any call) brings the user back to the login page, remembering where they were.
    await page.context().clearCookies();
    await page.locator('ec-meeting-detail-view a[href="/meetings"]').last().click();
    await page.waitForURL(/\/login\?next=%2Fmeetings/);
    await page.locator('ec-login-view input[name="username"]').waitFor();
    await page.context().close();
  });

  it('the admin manages users, committees and rooms: a created user can be deactivated (and can no longer sign in), a created room appears in the list', async () => {
    const page = await newPage(browser, server.url, { viewport: VIEWPORTS.tablet });
    await loginAs(page, ADMIN);
    await page.locator('ec-app nav a[href="/admin/users"]').click();
    await page.locator(`ec-admin-users-view tr[data-username="${m.members[0].username}"]`).waitFor();
    await screenshot(page, 'admin-users', 'vi');
    // Create a user, then deactivate them: the list shows the new account, then as disabled.
    await page.locator('[data-testid="new-user"]').click();
    const uf = page.locator('ec-admin-users-view [data-testid="user-form"]');
    await uf.locator('input[name="username"]').fill('chuyenvien.snv');
    await uf.locator('input[name="fullName"]').fill('Lê Thị Đào');
    await uf.locator('input[name="unit"]').fill('Sở Nội vụ');
    await uf.locator('input[name="password"]').fill('mat-khau-tam-thoi');
    await uf.locator('input[name="email"]').fill('dao.lt@noivu.example.gov.vn');
    await uf.locator('button[type="submit"]').click();
    const newRow = page.locator('ec-admin-users-view tr[data-username="chuyenvien.snv"]');
    await newRow.getByText('Hoạt động').waitFor();
    await newRow.getByText('dao.lt@noivu.example.gov.vn').waitFor();
    await newRow.getByRole('button', { name: 'Khóa' }).click();
    await newRow.getByText('Đã khóa').waitFor();
    expect((await server.login('chuyenvien.snv', 'mat-khau-tam-thoi').catch((e: Error) => e.message)) as string).toMatch(/login chuyenvien\.snv failed: 401 .*invalid_credentials/);

    await page.locator('ec-app nav a[href="/admin/committees"]').click();
    const committee = ((await (await server.login('admin')).get('/api/committees')).body.committees as { id: number; name: string }[]).find((c) => c.id === m.committeeId)!.name;
    await page.locator('ec-admin-committees-view [data-testid="committees"] li', { hasText: committee }).getByRole('button').click();
    await expect.poll(() => page.locator('ec-admin-committees-view [data-testid="committee-form"] tbody tr').count()).toBe(2 + m.members.length);
    await screenshot(page, 'admin-committees', 'vi');

    await page.locator('ec-app nav a[href="/admin/rooms"]').click();
    await page.locator('[data-testid="new-room"]').click();
    await page.locator('ec-admin-rooms-view form input[name="name"]').fill('Phòng họp trực tuyến số 2');
    await page.locator('ec-admin-rooms-view form input[name="location"]').fill('Tầng 3, nhà B');
    await page.locator('ec-admin-rooms-view form input[name="capacity"]').fill('40');
    await page.locator('ec-admin-rooms-view form button[type="submit"]').click();
    await page.locator('ec-admin-rooms-view [data-testid="rooms"] tr', { hasText: 'Phòng họp trực tuyến số 2' }).waitFor();
    await screenshot(page, 'admin-rooms', 'vi');
    await logout(page);
    await page.context().close();
  });

  it('on a touch screen the secretary reorders the agenda by dragging with a finger, then edits, adds a sub-item and deletes through the builder', async () => {
    const { meetingId: id } = await buildCommitteeMeeting(m, { agendaItems: 3, title: 'Họp thử trên máy tính bảng' });
    const page = await newPage(browser, server.url, { viewport: VIEWPORTS.tablet, hasTouch: true });
    await loginAs(page, m.secretary);
    await page.goto(`/meetings/${id}/edit`);
    const rows = page.locator('ec-agenda-builder li.row[data-number]');
    await rows.nth(2).waitFor();
    await page.locator('ec-agenda-builder').scrollIntoViewIfNeeded();
    const h = (await rows.nth(2).locator('[data-testid="drag-handle"]').boundingBox())!;
    const top = (await rows.nth(0).boundingBox())!;
    await touchDrag(page, { x: h.x + h.width / 2, y: h.y + h.height / 2 }, { x: h.x + h.width / 2, y: top.y + 4 });
    await expect
      .poll(() => rows.evaluateAll((els) => els.map((e) => `${(e as HTMLElement).dataset.number} ${e.querySelector('.t')?.textContent}`)))
      .toEqual(['1 Nội dung 3', '2 Nội dung 1', '3 Nội dung 2']);

    // Edit an item, add a sub-item with the row's "+" button, delete an item (with its confirmation).
    const rowOf = (t: string) => page.locator('ec-agenda-builder li.row[data-number]', { hasText: t });
    await rowOf('Nội dung 1').getByRole('button', { name: 'Sửa' }).click();
    const form = page.locator('ec-agenda-builder [data-testid="item-form"]');
    await form.locator('input[name="title"]').fill('Nội dung 1 (đã sửa)');
    await form.locator('button[type="submit"]').click();
    await rowOf('Nội dung 1 (đã sửa)').waitFor();
    await rowOf('Nội dung 3').getByRole('button', { name: 'Thêm mục con' }).click();
    await form.locator('input[name="title"]').fill('Nội dung 3a');
    await form.locator('button[type="submit"]').click();
    await rowOf('Nội dung 3a').waitFor();
    await rowOf('Nội dung 2').getByRole('button', { name: 'Xóa' }).click();
    await rowOf('Nội dung 2').getByRole('button', { name: 'Xóa', exact: true }).click();
    await expect
      .poll(() => rows.evaluateAll((els) => els.map((e) => `${(e as HTMLElement).dataset.number} ${e.querySelector('.t')?.textContent}`)))
      .toEqual(['1 Nội dung 3', '1.1 Nội dung 3a', '2 Nội dung 1 (đã sửa)']);
    await page.context().close();
  });
});
