import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNodes } from '../helpers/cluster.js';
import { buildMeeting } from '../helpers/factories.js';
import { type TestServer, until } from '../helpers/server.js';
import { connectSocket, connected, type TestSocket } from '../helpers/socket.js';
import { testSql } from '../helpers/sql.js';
import { type TestProvider, openProvider, rawSocket } from '../helpers/yjs.js';

/**
 * A meeting's Yjs documents follow its owner (issue #18): another node refuses them with 1013 (the provider
 * retries, through HAProxy, on the owner); after a takeover the former owner writes none of its rows and
 * drops the document (its provider is then refused there), and the new owner serves and persists it.
 */
describe('Yjs documents of a meeting on its owner only', () => {
  let nodes: TestServer[];
  const sockets: TestSocket[] = [];
  const providers: TestProvider[] = [];
  const open = (server: TestServer, name: string, cookie: string) => {
    const p = openProvider(server.url, name, cookie, { maxBackoffTime: 200 });
    providers.push(p);
    return p;
  };

  beforeAll(async () => {
    // A long lease: its end is made in the database below, as a stall past it would.
    nodes = await startNodes(2, { config: { cluster: { leaseMs: 60_000 } }, logLevel: process.env.W_LEASE_LOG ?? 'silent' });
  });
  afterAll(async () => {
    for (const p of providers) p.destroy();
    for (const s of sockets) s.close();
    await Promise.allSettled(nodes.map((n) => n.close()));
  });

  async function meetingOwnedByFirst() {
    const [a] = nodes;
    const m = await buildMeeting(a, { members: 1, agendaItems: 1 });
    const secretary = await m.as('secretary');
    const chair = await m.as('chair');
    const t = await connected(connectSocket(a.url, secretary, { reconnection: false }));
    sockets.push(t);
    expect(await t.cmd('meeting:join', { meetingId: m.meetingId })).toMatchObject({ ok: true });
    return { m, secretary, chair, name: `meeting:${m.meetingId}:item:${m.itemIds[0]}:notes` };
  }
  const rows = async (name: string) => Number(await testSql(nodes[0]).value('SELECT count(*) FROM yjs_updates WHERE doc_name = ?', name));

  it('a document of a meeting another node owns is refused with 1013 (try again later); its owner serves it', async () => {
    const [a, b] = nodes;
    const { secretary, name } = await meetingOwnedByFirst();
    const raw = await rawSocket(b.url, name, secretary.cookie);
    expect(await raw.closed).toBe(1013);
    const p = open(a, name, secretary.cookie);
    await until(() => p.provider.synced, { what: 'synced on the owner' });
    p.text.insert(0, 'Ghi chú một');
    await until(async () => (await rows(name)) > 0, { what: 'update persisted by the owner' });
  });

  it('after a takeover the former owner writes no row, drops the document and refuses it; the new owner serves the committed state and persists edits', async () => {
    const [a, b] = nodes;
    const { m, secretary, chair, name } = await meetingOwnedByFirst();
    const pa = open(a, name, secretary.cookie);
    await until(() => pa.provider.synced, { what: 'synced on the first owner' });
    pa.text.insert(0, 'một ');
    await until(async () => (await rows(name)) > 0, { what: 'first edit persisted' });
    const before = await rows(name);

    await testSql(a).run("UPDATE meeting_owners SET expires_at = now() - interval '1 second' WHERE meeting_id = ?", m.meetingId);
    const onB = await connected(connectSocket(b.url, chair, { reconnection: false }));
    sockets.push(onB);
    expect(await onB.cmd('meeting:join', { meetingId: m.meetingId })).toMatchObject({ ok: true });

    // Through the former owner: its commit's fence fails, nothing is written, the connection is closed.
    const closes = pa.closes.length;
    pa.text.insert(pa.text.length, 'hai ');
    await until(() => pa.closes.length > closes, { what: 'former owner closed the connection' });
    expect(await rows(name)).toBe(before);
    expect(a.app.ctx.ownership!.epoch(m.meetingId)).toBeNull();

    // Its provider retries; the former owner refuses it now (1013: the lease is another node's).
    await until(() => pa.closes.includes(1013), { what: `refused by the former owner (${pa.closes.join(',')})` });
    // The new owner serves the document from what was committed, and persists its edits.
    const pb = open(b, name, secretary.cookie);
    await until(() => pb.provider.synced, { what: 'synced on the new owner' });
    expect(pb.text.toString()).toBe('một ');
    pb.text.insert(0, 'ba ');
    await until(async () => (await rows(name)) > before, { what: 'edit persisted by the new owner' });
  });

  it('a former owner runs none of the change hooks armed before it lost the meeting: a stale copy never reaches what they write (the projections)', async () => {
    const [a, b] = nodes;
    const { m, secretary, chair, name } = await meetingOwnedByFirst();
    // Armed by the first committed edit, due long after the takeover below.
    const HOOK_MS = 8000;
    const ran: string[] = [];
    const off = a.app.ctx.yjs.onChange('item-notes', (n, doc) => {
      if (n === name) ran.push(doc.getText('t').toString());
    }, { debounceMs: HOOK_MS, maxWaitMs: HOOK_MS });
    try {
      const pa = open(a, name, secretary.cookie);
      await until(() => pa.provider.synced, { what: 'synced on the first owner' });
      const armedAt = Date.now();
      pa.text.insert(0, 'một ');
      await until(async () => (await rows(name)) > 0, { what: 'first edit persisted' });

      await testSql(a).run("UPDATE meeting_owners SET expires_at = now() - interval '1 second' WHERE meeting_id = ?", m.meetingId);
      const onB = await connected(connectSocket(b.url, chair, { reconnection: false }));
      sockets.push(onB);
      expect(await onB.cmd('meeting:join', { meetingId: m.meetingId })).toMatchObject({ ok: true });
      pa.text.insert(pa.text.length, 'hai ');
      await until(() => a.app.ctx.ownership!.epoch(m.meetingId) === null, { what: 'the former owner stepped down' });
      expect(Date.now() - armedAt).toBeLessThan(HOOK_MS);

      await new Promise((r) => setTimeout(r, armedAt + HOOK_MS + 1000 - Date.now()));
      expect(ran).toEqual([]);
    } finally {
      off();
    }
  });
});
