import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Cluster, startCluster } from '../../scripts/cluster.js';
import { launchBrowser, loginAs, newPage, VIEWPORTS } from '../helpers/browser.js';
import { type BuiltMeeting, buildMeetingOn } from '../helpers/factories.js';
import { loginAt, until } from '../helpers/server.js';
import { connectSocket, connected, newCommandId } from '../helpers/socket.js';
import { testDatabaseUrl } from '../helpers/test-db.js';

/**
 * A/V follows the meeting's owner node (issue #18): on the local cluster (PostgreSQL, Redis, HAProxy, three
 * nodes with the SFU on, each with its own RTC ports), two headless Chromium pages with fake media join a
 * meeting's A/V through HAProxy. The meeting's router lives on its owner only (a node that does not own it
 * answers `av:join` with not_owner and creates none); kill -9 of the owner: both pages reconnect by themselves
 * to the new owner (HAProxy, not_owner), the sender's camera and microphone tracks are sent again as they were,
 * and the receiver decodes the sender's video again, from a router on the new owner.
 * "Receives" = decoded frames of A's camera growing in B's getStats (a member's microphone is closed by the
 * floor; the camera never is).
 */
// One journey: the steps share the cluster, the browsers and the meeting, in the order written.
describe('A/V through the cluster follows the meeting owner', { shuffle: false }, () => {
  let cluster: Cluster;
  let browser: Browser;
  let m: BuiltMeeting;
  const dbKey = fs.mkdtempSync(path.join(os.tmpdir(), 'ec-av-failover-'));

  const login = (username: string, password?: string) => loginAt(cluster.url, username, password);

  /** mediasoup routers on one node (its /metrics, loopback); null when the node does not answer. */
  const routers = async (nodeUrl: string): Promise<number | null> => {
    const text = await fetch(`${nodeUrl}/metrics`, { signal: AbortSignal.timeout(2000) }).then((r) => r.text(), () => null);
    const line = text?.split('\n').find((l) => l.startsWith('ecabinet_sfu_routers '));
    return line ? Number(line.split(' ')[1]) : null;
  };
  const routersByNode = async () => Object.fromEntries(await Promise.all(cluster.nodes.map(async (n) => [n.id, await routers(n.url)] as const)));
  const ownerOf = async (meetingId: number) => (await cluster.status()).meetings.find((x) => x.meetingId === meetingId)?.owner?.nodeId ?? null;

  /** What a page's A/V session shows: its state, the node its socket is on, A's frames decoded, its own tracks. */
  const probe = (page: Page) =>
    page.evaluate(async () => {
      const s = window.ecMedia!;
      const engineId = (s.client.socket.io.engine as { id?: string } | undefined)?.id;
      return {
        state: s.state,
        node: s.client.socket.connected ? (engineId?.split('.')[0] ?? null) : null,
        frames: s.state === 'joined' ? await s.inboundVideoFrames() : 0,
        tracks: s.localStream?.getTracks().map((t) => `${t.kind}:${t.id}:${t.readyState}`) ?? [],
      };
    });

  /** Resolves once `page` decodes `by` more frames than when called, on a socket of a node other than `not`; returns that node. */
  const receiving = async (page: Page, what: string, not: string | null = null, by = 5): Promise<string> => {
    let base: { node: string; frames: number } | null = null;
    const node = await until(
      async (): Promise<string | null> => {
        const p = await probe(page);
        if (p.state !== 'joined' || !p.node || p.node === not) return (base = null);
        if (!base || base.node !== p.node || p.frames < base.frames) {
          base = { node: p.node, frames: p.frames };
          return null;
        }
        return p.frames >= base.frames + by ? p.node : null;
      },
      { timeout: 30_000, interval: 200, what },
    );
    return node!;
  };

  const joinAv = async (user: { username: string; password: string }, camera: boolean) => {
    const page = await newPage(browser, cluster.url, { viewport: VIEWPORTS.tablet });
    await loginAs(page, user);
    await page.goto(`/meetings/${m.meetingId}/av`);
    await page.locator('[data-testid="mode-remote"]').click();
    if (!camera) await page.locator('ec-av-panel label.row input[type="checkbox"]').uncheck();
    await page.locator('[data-testid="mic-select"] option').first().waitFor({ state: 'attached' });
    await page.locator('[data-testid="av-join"]').click();
    await page.locator('[data-testid="av-floor"]').waitFor({ timeout: 30_000 });
    return page;
  };

  beforeAll(async () => {
    // Under test:cluster the run's PostgreSQL (a database of its own); elsewhere startCluster starts one.
    const databaseUrl = (await testDatabaseUrl(dbKey)) ?? undefined;
    cluster = await startCluster({ nodes: 3, seed: 'admin', sfu: true, databaseUrl, env: { ECABINET_MEETING_LEASE_MS: '2000', ECABINET_SFU_WORKERS: '1', LOG_LEVEL: 'warn' } });
    m = await buildMeetingOn({ login }, { members: 2, agendaItems: 0 });
    // Two cameras in three simulcast layers decoded on a shared 2-core machine: the fake camera at 5 frames a second.
    browser = await launchBrowser({ fakeMedia: true, args: ['--autoplay-policy=no-user-gesture-required', '--use-fake-device-for-media-stream=fps=5'] });
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await cluster?.stop();
    fs.rmSync(dbKey, { recursive: true, force: true });
  }, 120_000);

  let a: Page;
  let b: Page;
  let owner: string;
  /** Nodes killed so far. */
  const killed: string[] = [];

  it('two browsers through HAProxy: the meeting’s router is on its owner node only, and a node that does not own the meeting refuses av:join', async () => {
    a = await joinAv(m.members[0], true);
    b = await joinAv(m.members[1], false);
    owner = await receiving(b, 'B to receive A’s camera');
    expect(await ownerOf(m.meetingId)).toBe(owner);
    expect((await probe(a)).node).toBe(owner);
    expect(await routersByNode()).toEqual(Object.fromEntries(cluster.nodes.map((n) => [n.id, n.id === owner ? 1 : 0])));

    // A socket straight to another node (past HAProxy): its av:join is refused with the owner's name, and no router is made there.
    const other = cluster.nodes.find((n) => n.id !== owner)!;
    const s = await connected(connectSocket(other.url, await login(m.members[1].username, m.members[1].password), { reconnection: false }));
    try {
      const r = await s.cmd('av:join', { meetingId: m.meetingId, commandId: newCommandId() });
      expect(r).toMatchObject({ ok: false, error: { code: 'not_owner', details: { nodeId: owner } } });
      const t = await s.cmd('av:createTransport', { meetingId: m.meetingId, direction: 'recv', commandId: newCommandId() });
      expect(t).toMatchObject({ ok: false, error: { code: 'not_owner' } });
    } finally {
      s.close();
    }
    expect(await routers(other.url)).toBe(0);
  }, 150_000);

  it('kill -9 of the owner: both pages rejoin the new owner by themselves, A sends the same tracks again, B decodes A again within seconds', async () => {
    const tracksBefore = (await probe(a)).tracks;
    expect(tracksBefore.filter((t) => t.endsWith(':live'))).toHaveLength(2);
    // What the call shows meanwhile: "reconnecting", then "back" (watched from the kill on: the note is brief).
    const shown = Promise.all([
      b.locator('[data-testid="av-reconnecting"]').waitFor({ state: 'attached', timeout: 30_000 }),
      b.locator('[data-testid="av-reconnected"]').waitFor({ state: 'attached', timeout: 30_000 }),
    ]);
    const killedAt = Date.now();
    cluster.kill(owner, 'SIGKILL');
    const node = await receiving(b, 'B to receive A’s camera again, from another node', owner);
    const backMs = Date.now() - killedAt;
    process.stdout.write(`av-failover: B decoded A's camera again ${backMs} ms after kill -9 of ${owner} (now on ${node})\n`);
    expect(backMs, 'from kill -9 until B decodes A again').toBeLessThan(20_000);

    // The new owner runs the meeting and holds its only router; A is there too, with the tracks it had.
    expect(await ownerOf(m.meetingId)).toBe(node);
    expect((await probe(a)).node).toBe(node);
    expect((await probe(a)).tracks).toEqual(tracksBefore);
    const after = await routersByNode();
    expect(after[owner], 'the killed node answers nothing').toBeNull();
    for (const n of cluster.nodes) if (n.id !== owner) expect(after[n.id], `routers on ${n.id}`).toBe(n.id === node ? 1 : 0);
    await shown;
    killed.push(owner);
    owner = node;
  }, 150_000);

  it('an owner that gives the meeting up (SIGTERM) closes its router and tells its peers owner_changed; the media moves to the next node', async () => {
    // What the pages are told from now on (the push of a node stepping down, before it closes their sockets).
    for (const page of [a, b]) {
      await page.evaluate(() => {
        const w = window as unknown as { avResets: string[] };
        w.avResets = [];
        window.ecMedia!.client.on('av:reset', (push) => w.avResets.push(push.data.reason));
      });
    }
    const stoppedAt = Date.now();
    cluster.kill(owner, 'SIGTERM');
    const node = await receiving(b, 'B to receive A’s camera from the next node', owner);
    const backMs = Date.now() - stoppedAt;
    process.stdout.write(`av-failover: B decoded A's camera again ${backMs} ms after SIGTERM of ${owner} (now on ${node})\n`);
    expect(killed).not.toContain(node);
    expect(backMs, 'from SIGTERM until B decodes A again').toBeLessThan(20_000);
    for (const page of [a, b]) expect(await page.evaluate(() => (window as unknown as { avResets: string[] }).avResets)).toContain('owner_changed');
    expect(await ownerOf(m.meetingId)).toBe(node);
    expect(await routers(cluster.nodes.find((n) => n.id === node)!.url)).toBe(1);
    killed.push(owner);
    owner = node;
  }, 150_000);

  it('an owner that lives on but loses the lease closes its router; the pages, whose sockets it keeps open, find the new owner by not_owner', async () => {
    // Another node to take over: the one stopped gracefully comes back.
    const next = killed.at(-1)!;
    await cluster.restartNode(next);
    await until(async () => (await cluster.status()).nodes.find((n) => n.id === next)?.haproxy === 'UP', { timeout: 30_000, interval: 250, what: `${next} back in HAProxy` });
    for (const page of [a, b]) await page.evaluate(() => ((window as unknown as { avResets: string[] }).avResets.length = 0));
    // The lease moves to `next` under the living owner's feet (as after a pause or a cut to the database): its
    // renewal is refused, it steps down. The A/V pages never joined the meeting's room, so their sockets stay
    // open on the former owner: only the A/V session itself can move them.
    const pg = (await import('pg')).default;
    const db = new pg.Client({ connectionString: cluster.pgUrl });
    await db.connect();
    const movedAt = Date.now();
    try {
      await db.query(`UPDATE meeting_owners SET node_id = $2, epoch = epoch + 1, expires_at = now() + interval '30 seconds' WHERE meeting_id = $1`, [m.meetingId, next]);
    } finally {
      await db.end();
    }
    const node = await receiving(b, `B to receive A’s camera from ${next}`, owner);
    process.stdout.write(`av-failover: B decoded A's camera again ${Date.now() - movedAt} ms after the lease moved from ${owner} to ${next} (now on ${node})\n`);
    expect(node).toBe(next);
    expect((await probe(a)).node).toBe(next);
    for (const page of [a, b]) expect(await page.evaluate(() => (window as unknown as { avResets: string[] }).avResets)).toContain('owner_changed');
    // The former owner is alive and keeps no router of the meeting.
    const former = cluster.nodes.find((n) => n.id === owner)!;
    expect(await routers(former.url)).toBe(0);
    expect(await routers(cluster.nodes.find((n) => n.id === next)!.url)).toBe(1);
  }, 150_000);
});
