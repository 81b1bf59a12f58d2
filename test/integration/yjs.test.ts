import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { CLOSE_CODES } from '../../shared/close-codes.js';
import { itemNotesDocName } from '../../shared/protocol/yjs.js';
import { buildCommitteeMeeting, buildMeeting, editMeeting } from '../helpers/factories.js';
import { type HttpClient, type TestServer, startTestServer, until } from '../helpers/server.js';
import { type TestProvider, openProvider, rawSocket } from '../helpers/yjs.js';
import { testSql } from '../helpers/sql.js';

let server: TestServer;
const open: TestProvider[] = [];

function provider(name: string, who: HttpClient, opts: { origin?: string } = {}) {
  const p = openProvider(server.url, name, who.cookie, opts);
  open.push(p);
  return p;
}
const synced = (p: TestProvider) => until(() => p.provider.synced, { what: 'provider synced' });
const terminalClose = (p: TestProvider) =>
  new Promise<number>((resolve) => p.provider.on('closed', (e: { code: number }) => resolve(e.code)));

beforeAll(async () => {
  server = await startTestServer({ seed: 'admin' });
});

/**
 * A published meeting of a committee of the test's own (chair, secretary, `members` members, one agenda item),
 * signed-in clients for its people, and the name of its item's notes document: no other test touches it
 * (tests run in any order).
 */
async function notesOf(opts: { members?: number } = {}) {
  const m = await buildMeeting(server, { members: opts.members ?? 1, agendaItems: 1 });
  const [secretary, chair, ...members] = await Promise.all([m.as('secretary'), m.as('chair'), ...m.members.map((_, i) => m.as('member', i))]);
  return { m, name: itemNotesDocName(m.meetingId, m.itemIds[0]), secretary, chair, member: members[0], members };
}

afterAll(async () => {
  for (const p of open) p.destroy();
  await server.close();
});

describe('Yjs hub: item notes over the y-websocket protocol', () => {
  it('several writers converge and read-only participants see the text while their own updates are dropped', async () => {
    const { name, secretary, chair, member } = await notesOf();
    const a = provider(name, secretary);
    const b = provider(name, await server.login('admin'));
    const reader = provider(name, member);
    await Promise.all([a, b, reader].map(synced));
    a.text.insert(0, 'Kết luận: ');
    b.text.insert(0, 'Ý kiến. ');
    for (let i = 0; i < 20; i++) (i % 2 ? a : b).text.insert(0, String(i % 10));
    await until(() => a.text.toString() === b.text.toString() && reader.text.toString() === a.text.toString() && a.text.length === 38, {
      what: 'convergence',
    });
    expect(a.text.toString()).toContain('Kết luận: ');

    reader.text.insert(0, 'READER WROTE THIS ');
    a.text.insert(a.text.length, ' end');
    await until(() => reader.text.toString().endsWith(' end'), { what: 'reader receives later edits' });
    // A fresh client sees the server's state: the reader's insert never reached it.
    const fresh = provider(name, chair);
    await synced(fresh);
    expect(fresh.text.toString()).toBe(a.text.toString());
    expect(fresh.text.toString()).not.toContain('READER');
    expect(b.text.toString()).not.toContain('READER');
  });

  it('awareness is relayed between connections, including read-only ones', async () => {
    const { name, secretary, member } = await notesOf();
    const writer = provider(name, secretary);
    const reader = provider(name, member);
    await Promise.all([writer, reader].map(synced));
    reader.provider.awareness.setLocalStateField('user', { name: 'người đọc' });
    await until(() => [...writer.provider.awareness.getStates().values()].some((s) => s.user?.name === 'người đọc'), { what: 'awareness' });
  });

  it('refuses without a session (4401), from a foreign Origin (4403), without access (4403) and for unknown names (4404)', async () => {
    const { m, name: notes, secretary, member } = await notesOf();
    const anon = provider(notes, server.anonymous());
    expect(await terminalClose(anon)).toBe(CLOSE_CODES.unauthenticated);

    const foreign = provider(notes, secretary, { origin: 'https://evil.example' });
    expect(await terminalClose(foreign)).toBe(CLOSE_CODES.forbidden);

    // A draft meeting of the same committee: its members do not see it yet.
    const draft = await buildCommitteeMeeting(m, { agendaItems: 1, secretary });
    const outsider = provider(itemNotesDocName(draft.meetingId, draft.itemIds[0]), member);
    expect(await terminalClose(outsider)).toBe(CLOSE_CODES.forbidden);

    // An item of another meeting addressed through this one is refused too.
    const wrongItem = provider(itemNotesDocName(m.meetingId, draft.itemIds[0]), secretary);
    expect(await terminalClose(wrongItem)).toBe(CLOSE_CODES.forbidden);

    const [meetingId, itemId] = [m.meetingId, m.itemIds[0]];
    for (const name of [`no-such-kind:${meetingId}`, `meeting:${meetingId}:item:x:notes`, `meeting:0${meetingId}:item:${itemId}:notes`, `MEETING:${meetingId}`]) {
      const p = provider(name, secretary);
      expect(await terminalClose(p)).toBe(CLOSE_CODES.unknownDocument);
    }
    // Refused providers stop: no reconnect loop.
    const closesBefore = anon.closes.length;
    await new Promise((r) => setTimeout(r, 300));
    expect(anon.closes.length).toBe(closesBefore);
    expect(anon.provider.shouldConnect).toBe(false);
  });

  it('closes a connection that sends invalid messages with 4400 without touching the document or other clients', async () => {
    const { name, secretary, member } = await notesOf();
    const good = provider(name, secretary);
    await synced(good);
    good.text.insert(0, 'intact');
    await until(() => server.app.ctx.yjs.stats().perDoc[name]?.rows >= 1, { what: 'persisted' });

    const garbage: Uint8Array[] = [
      Uint8Array.from([9, 1, 2]), // unknown message type
      Uint8Array.from([0, 7]), // unknown sync step
      Uint8Array.from([0, 2, 50, 1, 2, 3]), // update length past the end
      (() => {
        const e = encoding.createEncoder();
        encoding.writeVarUint(e, 0);
        encoding.writeVarUint(e, 2);
        encoding.writeVarUint8Array(e, Uint8Array.from([5, 200, 3, 255, 255, 255, 255, 15, 1, 2, 3]));
        return encoding.toUint8Array(e);
      })(), // an update that does not decode
      Uint8Array.from([1, 3, 1, 2, 3]), // awareness that is not an awareness update
      Uint8Array.from([2, 0, 0]), // auth message from a client
    ];
    for (const frame of garbage) {
      const { ws, closed } = await rawSocket(server.url, name, secretary.cookie);
      ws.send(frame);
      expect(await closed).toBe(CLOSE_CODES.invalidMessage);
    }
    const text = await rawSocket(server.url, name, secretary.cookie);
    text.ws.send('hello');
    expect(await text.closed).toBe(CLOSE_CODES.invalidMessage);

    good.text.insert(good.text.length, ' still');
    const fresh = provider(name, member);
    await until(() => fresh.provider.synced && fresh.text.toString() === 'intact still', { what: 'doc intact after garbage' });
    expect(good.provider.wsconnected).toBe(true);
  });

  it('refuses a frame over maxPayload (1009), an update that would grow the document past its limit and a pile of unintegrated updates (4413)', async () => {
    const { name, secretary, chair, member } = await notesOf();
    const hub = server.app.ctx.yjs;
    const { ws, closed } = await rawSocket(server.url, name, secretary.cookie);
    ws.send(new Uint8Array(3 * 1024 * 1024));
    expect(await closed).toBe(1009);

    hub.setOptions({ docBytes: 64 * 1024 });
    try {
      const writer = provider(name, secretary);
      const watcher = provider(name, member);
      await Promise.all([writer, watcher].map(synced));
      writer.text.insert(0, 'small');
      await until(() => watcher.text.toString() === 'small', { what: 'small update accepted' });
      const closedCode = terminalClose(writer);
      writer.text.insert(0, 'x'.repeat(100 * 1024));
      expect(await closedCode).toBe(CLOSE_CODES.documentTooLarge);
      const fresh = provider(name, chair);
      await synced(fresh);
      expect(fresh.text.toString()).toBe('small');
      expect(watcher.text.toString()).toBe('small');

      // Updates whose dependencies never arrive wait in memory: capped too.
      const orphanDoc = new Y.Doc();
      const orphanUpdates: Uint8Array[] = [];
      orphanDoc.on('update', (u: Uint8Array) => orphanUpdates.push(u));
      orphanDoc.getText('t').insert(0, 'a');
      orphanDoc.getText('t').insert(1, 'y'.repeat(20 * 1024));
      const raw = await rawSocket(server.url, name, secretary.cookie);
      const e = encoding.createEncoder();
      encoding.writeVarUint(e, 0);
      encoding.writeVarUint(e, 2);
      encoding.writeVarUint8Array(e, orphanUpdates[1]);
      raw.ws.send(encoding.toUint8Array(e));
      expect(await raw.closed).toBe(CLOSE_CODES.documentTooLarge);
      expect(watcher.text.toString()).toBe('small');
      // …and dropped, so other writers carry on.
      const writer2 = provider(name, secretary);
      await synced(writer2);
      writer2.text.insert(5, '!');
      await until(() => watcher.text.toString() === 'small!', { what: 'writers unaffected' });
    } finally {
      hub.setOptions({ docBytes: 16 * 1024 * 1024 });
    }
  });

  it('closes a connection that floods messages with 1013 (transient) while others keep syncing, and its provider comes back', async () => {
    const { name, secretary, member } = await notesOf();
    const good = provider(name, secretary);
    await synced(good);
    const { ws, closed } = await rawSocket(server.url, name, member.cookie);
    const query = Uint8Array.from([3]);
    for (let i = 0; i < 1000; i++) ws.send(query);
    expect(await closed).toBe(CLOSE_CODES.tryAgainLater);

    // A stock provider that floods is closed the same way, reconnects by itself and converges.
    const flooder = provider(name, secretary);
    await synced(flooder);
    const closes = flooder.closes.length;
    for (let i = 0; i < 600; i++) flooder.text.insert(0, 'z');
    await until(() => flooder.closes.length > closes, { what: 'flooder closed' });
    expect(flooder.closes.at(-1)).toBe(CLOSE_CODES.tryAgainLater);
    await until(() => flooder.provider.synced && good.text.toString() === flooder.text.toString(), { what: 'flooder re-synced' });
    expect(good.text.toString()).toContain('z'.repeat(600));
  });

  it('re-checks access when the meeting changes and closes revoked connections with 4403; a logout closes its connections with 4401', async () => {
    const { m, name, secretary, members } = await notesOf({ members: 2 });
    const [leaving, staying] = members;
    const pLeaving = provider(name, leaving);
    const pStaying = provider(name, staying);
    await Promise.all([pLeaving, pStaying].map(synced));

    const closedLeaving = terminalClose(pLeaving);
    // The secretary takes the first member off the meeting (who stays in the committee).
    await editMeeting(m, { removeParticipants: [m.members[0]], secretary });
    expect(await closedLeaving).toBe(CLOSE_CODES.forbidden);
    expect(pStaying.provider.wsconnected).toBe(true);

    const closedStaying = terminalClose(pStaying);
    // The logout itself closes the connection (bus session:ended), without waiting for a re-check sweep.
    await staying.post('/api/auth/logout');
    expect(await closedStaying).toBe(CLOSE_CODES.unauthenticated);
  });

  it('withDoc writes like a client (persisted and broadcast) and onChange reports the committed content, debounced', async () => {
    const hub = server.app.ctx.yjs;
    const { name, member } = await notesOf();
    const seen: string[] = [];
    const off = hub.onChange('item-notes', (n, doc) => {
      if (n === name) seen.push(doc.getText('t').toString());
    }, { debounceMs: 30, maxWaitMs: 200 });
    try {
      const p = provider(name, member);
      await synced(p);
      await hub.withDoc(name, (doc) => doc.getText('t').insert(0, 'Phần do máy chủ sinh ra. '));
      await hub.withDoc(name, (doc) => doc.getText('t').insert(0, '§ '));
      await until(() => p.text.toString().startsWith('§ Phần do máy chủ sinh ra.'), { what: 'server write broadcast' });
      await until(() => seen.length > 0, { what: 'onChange' });
      expect(seen.at(-1)).toBe(p.text.toString());
      expect(seen.length).toBe(1); // two writes in a row are reported once
      // Persisted: rows exist in SQLite for this document.
      const rows = (await testSql(server).get('select count(*) n from yjs_updates where doc_name = ?', name)) as { n: number };
      expect(rows.n).toBeGreaterThan(0);
    } finally {
      off();
    }
  });

  it('compaction replaces many stored updates by one row with exactly the same content', async () => {
    const hub = server.app.ctx.yjs;
    const { name, secretary, chair } = await notesOf();
    hub.setOptions({ compactAfterUpdates: 40, compactMinIntervalMs: 200 });
    try {
      const w = provider(name, secretary);
      await synced(w);
      for (let i = 0; i < 150; i++) {
        if (i % 7 === 6) w.text.delete(0, 2);
        else w.text.insert(Math.floor(w.text.length / 2), `${i},`);
      }
      const expected = w.text.toString();
      const count = async () => ((await testSql(server).get('select count(*) n from yjs_updates where doc_name = ?', name)) as { n: number }).n;
      await until(async () => (await hub.getDoc(name)).getText('t').toString() === expected, { what: 'all updates received' });
      // All 150 updates committed, yet fewer than 40 rows: it compacted on its own past the threshold.
      await until(async () => hub.stats().perDoc[name].pending === 0 && (await count()) === hub.stats().perDoc[name].rows && (await count()) < 40, { what: 'auto-compaction' });
      await hub.compactDoc(name);
      expect(await count()).toBe(1);
      // Rebuild from the stored rows alone.
      const rows = (await testSql(server).all('select data from yjs_updates where doc_name = ? order by id', name)) as { data: Buffer }[];
      const rebuilt = new Y.Doc();
      for (const r of rows) Y.applyUpdate(rebuilt, r.data);
      expect(rebuilt.getText('t').toString()).toBe(expected);
      const fresh = provider(name, chair);
      await until(() => fresh.provider.synced && fresh.text.toString() === expected, { what: 'fresh client after compaction' });
    } finally {
      hub.setOptions({ compactAfterUpdates: 500, compactMinIntervalMs: 10_000 });
    }
  });

  it('unloads a document after its last connection leaves, and reloads it from SQLite', async () => {
    const hub = server.app.ctx.yjs;
    const { name, secretary, chair } = await notesOf();
    hub.setOptions({ unloadAfterMs: 50 });
    try {
      const w = provider(name, secretary);
      await synced(w);
      w.text.insert(0, 'trước khi dỡ ');
      const expected = () => w.text.toString();
      await until(() => (hub.stats().perDoc[name]?.rows ?? 0) >= 1, { what: 'persisted' });
      const text = expected();
      for (const p of open.filter((p) => p.provider.roomname === name)) p.provider.disconnect();
      await until(() => !hub.stats().perDoc[name], { what: 'unloaded' });
      const fresh = provider(name, chair);
      await until(() => fresh.provider.synced && fresh.text.toString() === text, { what: 'reloaded' });
    } finally {
      hub.setOptions({ unloadAfterMs: 30_000 });
    }
  });

  it('a graceful restart keeps the notes: close commits and compacts, the new server loads them from SQLite', async () => {
    const other = await startTestServer({ seed: 'admin' });
    let restarted: TestServer | null = null;
    try {
      const m = await buildMeeting(other, { members: 1, agendaItems: 1 });
      const sec = await m.as('secretary');
      const name = itemNotesDocName(m.meetingId, m.itemIds[0]);
      const w = openProvider(other.url, name, sec.cookie);
      await until(() => w.provider.synced, { what: 'synced' });
      for (let i = 0; i < 30; i++) w.text.insert(w.text.length, `${i};`);
      const expected = w.text.toString();
      await until(async () => (await other.app.ctx.yjs.getDoc(name)).getText('t').toString() === expected, { what: 'server has all' });
      w.destroy();
      await other.close();
      const rows = async () => (await testSql(restarted ?? other).get('select count(*) n from yjs_updates where doc_name = ?', name)) as { n: number };
      restarted = await startTestServer({ dataDir: other.dataDir, seed: 'admin' });
      expect((await rows()).n).toBe(1); // compacted on close
      const sec2 = await restarted.login(m.secretary.username, m.secretary.password);
      const r = openProvider(restarted.url, name, sec2.cookie);
      try {
        await until(() => r.provider.synced && r.text.toString() === expected, { what: 'notes after restart' });
      } finally {
        r.destroy();
      }
    } finally {
      await (restarted ?? other).close();
    }
  });

  it('sync step 1 is answered with the full state of the document (stock protocol)', async () => {
    const { name: notes, secretary, member } = await notesOf();
    const writer = provider(notes, secretary);
    await synced(writer);
    writer.text.insert(0, 'Ý kiến của các sở đã ghi. ');
    writer.text.insert(writer.text.length, 'Chủ tọa kết luận.');
    const written = writer.text.toString();
    await until(async () => (await server.app.ctx.yjs.getDoc(notes)).getText('t').toString() === written, { what: 'server has the notes' });
    const { ws } = await rawSocket(server.url, notes, member.cookie);
    const frames: Uint8Array[] = [];
    ws.on('message', (d: Buffer) => frames.push(new Uint8Array(d)));
    const e = encoding.createEncoder();
    encoding.writeVarUint(e, 0);
    encoding.writeVarUint(e, 0);
    encoding.writeVarUint8Array(e, Y.encodeStateVector(new Y.Doc()));
    ws.send(encoding.toUint8Array(e));
    const step2 = await until(() =>
      frames.find((f) => {
        const d = decoding.createDecoder(f);
        return decoding.readVarUint(d) === 0 && decoding.readVarUint(d) === 1;
      }),
    );
    const d = decoding.createDecoder(step2 as Uint8Array);
    decoding.readVarUint(d);
    decoding.readVarUint(d);
    const doc = new Y.Doc();
    Y.applyUpdate(doc, decoding.readVarUint8Array(d));
    expect(doc.getText('t').toString()).toBe('Ý kiến của các sở đã ghi. Chủ tọa kết luận.');
    expect(doc.getText('t').toString()).toBe((await server.app.ctx.yjs.getDoc(notes)).getText('t').toString());
    ws.close();
  });
});
