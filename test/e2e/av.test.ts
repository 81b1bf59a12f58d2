import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, loginAs, newPage, screenshot, VIEWPORTS } from '../helpers/browser.js';
import { type BuiltUser, buildMeeting, buildRoomStation, nameUsers, usersByName } from '../helpers/factories.js';
import { type TestServer, startTestServer, until } from '../helpers/server.js';
import { connectSocket, connected, type TestSocket } from '../helpers/socket.js';

/**
 * Real web client in headless Chromium with a fake camera and microphone: two remote members and
 * the room station join the A/V of a meeting of their own (a committee of three members, a room with its
 * station account); the chair runs the floor from a socket.
 * "Heard" = inbound audio bytes from that person increasing in the listener's getStats.
 */
// One journey in steps: they share the browsers, the server and the meeting, and run in the order written
// (CI shuffles the files and the unit and integration tests; see scripts/test.sh).
describe('smart-room audio/video in the browser', { shuffle: false }, () => {
  let srv: TestServer;
  let browser: Browser;
  /** The people by the demo seed's names: chair, member1…3, room1 (the room station). */
  let users: Record<string, BuiltUser>;
  let ids: Record<string, number>;
  let meetingId: number;
  const sockets: TestSocket[] = [];
  const pages: Record<string, Page> = {};

  const sock = async (username: string) => {
    const s = await connected(connectSocket(srv.url, await srv.login(users[username].username, users[username].password), { reconnection: false }));
    sockets.push(s);
    return s;
  };
  const ok = async (s: TestSocket, event: string, payload: unknown) => {
    const r = await s.cmd(event, payload);
    if (!r.ok) throw new Error(`${event}: ${JSON.stringify(r.error)}`);
    return r.data;
  };
  /** Inbound audio bytes per remote user on one page. */
  const bytes = (page: Page): Promise<Record<number, number>> => page.evaluate(() => window.ecMedia!.inboundAudioBytes());
  /** Waits until `from`'s audio grows by `by` bytes on `page` (they are heard there). */
  const heard = async (page: Page, from: number, by = 1500) => {
    const start = (await bytes(page))[from] ?? 0;
    await until(async () => ((await bytes(page))[from] ?? 0) > start + by, { timeout: 15_000, interval: 200, what: `user ${from} heard` });
  };
  /** While `speaker` is heard on `page`, `silent` is not (no audio bytes from them at all). */
  const notHeard = async (page: Page, silent: number, speaker: number) => {
    const before = (await bytes(page))[silent] ?? 0;
    await heard(page, speaker);
    const after = (await bytes(page))[silent] ?? 0;
    expect(after - before, `user ${silent} must not be heard`).toBe(0);
  };

  const joinAv = async (username: string, opts: { camera: boolean }) => {
    const page = await newPage(browser, srv.url, { viewport: VIEWPORTS.tablet });
    await loginAs(page, users[username]);
    await page.goto(`/meetings/${meetingId}/av`);
    await page.locator('[data-testid="mode-remote"]').click();
    if (!opts.camera) await page.locator('ec-av-panel label.row input[type="checkbox"]').uncheck();
    await page.locator('[data-testid="mic-select"] option').first().waitFor({ state: 'attached' });
    await page.locator('[data-testid="av-join"]').click();
    await page.locator('[data-testid="av-floor"]').waitFor();
    pages[username] = page;
    return page;
  };

  beforeAll(async () => {
    srv = await startTestServer({ seed: 'admin' });
    const m = await buildMeeting(srv, { members: 3, agendaItems: 1, title: 'Phiên họp kiểm thử âm thanh, hình ảnh' });
    users = { ...usersByName(m), room1: await buildRoomStation(srv, m) };
    await nameUsers(await srv.login('admin'), [
      [users.chair, 'Trần Sỹ Thanh'],
      [users.member1, 'Nguyễn Văn An'],
      [users.member2, 'Trần Thị Bình'],
      [users.member3, 'Lê Hoàng Cường'],
      [users.room1, 'Phòng họp số 1 — thiết bị phòng'],
    ]);
    ids = Object.fromEntries(Object.entries(users).map(([name, u]) => [name, u.id]));
    meetingId = m.meetingId;
    // The fake camera at 5 frames a second (Chromium's default is 20): two cameras in three simulcast layers, decoded
    // on four pages, is CPU a shared 2-core machine lacks; the test is about the audio (the video still shows).
    browser = await launchBrowser({ fakeMedia: true, args: ['--autoplay-policy=no-user-gesture-required', '--use-fake-device-for-media-stream=fps=5'] });
  }, 60_000);
  afterAll(async () => {
    for (const s of sockets) s.close();
    await browser?.close();
    await srv?.close();
  });

  it('the floor opens one microphone at a time, the chair opens discussion and mutes, and the microphones follow the speakers’ list', async () => {
    const chair = await sock('chair');
    await ok(chair, 'meeting:open', { meetingId, overrideReason: 'Kiểm thử âm thanh' });
    const m1 = await sock('member1');
    const m2 = await sock('member2');
    for (const s of [m1, m2]) await ok(s, 'attendance:check_in', { meetingId, mode: 'remote' });

    const room = await joinAv('room1', { camera: true });
    const p1 = await joinAv('member1', { camera: true });
    const p2 = await joinAv('member2', { camera: false });
    // everyone receives everyone else's microphone (room station: open; members: paused by the server)
    await until(async () => Object.keys(await bytes(p1)).length >= 2 && Object.keys(await bytes(room)).length >= 2, { timeout: 20_000, what: 'consumers' });

    // Nobody has the floor: the room station is heard, the members are not.
    await notHeard(p2, ids.member1, ids.room1);
    await notHeard(p1, ids.member2, ids.room1);

    // The chair grants member1 the floor: member1 is heard by member2 and in the room; member2 is not.
    const r1 = await ok(m1, 'speaker:request', { meetingId, kind: 'speech' });
    await ok(chair, 'speaker:grant', { meetingId, requestId: r1.requestId });
    await heard(p2, ids.member1);
    await heard(room, ids.member1);
    await notHeard(p1, ids.member2, ids.room1);
    await p1.locator('[data-testid="my-mic"]', { hasText: /đang mở/ }).waitFor();
    await screenshot(p1, 'av', 'vi');
    await screenshot(room, 'av-room', 'vi');

    // Open discussion: member2 is heard too; the chair mutes member2 and they are silent again.
    await ok(chair, 'av:setOpenDiscussion', { meetingId, open: true });
    await heard(p1, ids.member2);
    await ok(chair, 'av:mute', { meetingId, userId: ids.member2 });
    await until(async () => {
      const a = (await bytes(p1))[ids.member2];
      await heard(p1, ids.room1, 500);
      return (await bytes(p1))[ids.member2] === a;
    }, { timeout: 15_000, interval: 100, what: 'member2 muted by the chair' });
    await notHeard(p1, ids.member2, ids.room1);
    await ok(chair, 'av:setOpenDiscussion', { meetingId, open: false });

    // The floor moves to the next speaker: member2's microphone opens (the chair's mute is lifted by
    // the grant), member1's closes.
    await ok(m2, 'speaker:request', { meetingId, kind: 'speech' });
    await ok(chair, 'speaker:next', { meetingId });
    await heard(p1, ids.member2);
    await heard(room, ids.member2);
    await until(async () => {
      const a = (await bytes(p2))[ids.member1];
      await heard(p2, ids.room1, 500);
      return (await bytes(p2))[ids.member1] === a;
    }, { timeout: 15_000, interval: 100, what: 'member1 closed after the floor moved' });
    await notHeard(room, ids.member1, ids.member2);

    // Connection quality is measured and shown.
    await p2.locator('[data-testid="av-quality"] .dot.good, [data-testid="av-quality"] .dot.fair').first().waitFor({ timeout: 10_000 });
    await screenshot(p2, 'av-speaker', 'vi');
    await p2.locator('ec-language-switch button[lang="en"]').click();
    await p2.locator('[data-testid="av-floor"]', { hasText: 'Speaking' }).waitFor();
    await screenshot(p2, 'av', 'en');
  }, 120_000);

  it('a tablet in the room joins listen-only (nothing sent, no echo) and hears the speaker; the call fits a phone screen', async () => {
    const tablet = await newPage(browser, srv.url, { viewport: VIEWPORTS.phone });
    await loginAs(tablet, users.member3);
    await tablet.goto(`/meetings/${meetingId}/av`);
    await tablet.locator('[data-testid="mode-in_room"]').click();
    await tablet.locator('[data-testid="av-join"]').click();
    await tablet.locator('[data-testid="headphones"]').waitFor();
    await until(async () => Object.keys(await bytes(tablet)).length >= 3, { timeout: 20_000, what: 'tablet consumers' });
    await heard(tablet, ids.member2);
    await screenshot(tablet, 'av-tablet', 'vi');
  }, 60_000);
});
