import zlib from 'node:zlib';
import { eq } from 'drizzle-orm';
import * as encoding from 'lib0/encoding';
import { PDFDocument, PDFName, PDFRawStream, PDFArray, type PDFRef } from 'pdf-lib';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { CLOSE_CODES } from '../../shared/close-codes.js';
import { type AnnotationItem, type Highlight, type Ink, layerDocName } from '../../shared/protocol/annotations.js';
import { mulberry32 } from '../../shared/rules/random.js';
import { annotationLayers } from '../../server/annotations/annotations.docs.js';
import { yjsUpdates } from '../../server/db/tables.js';
import { type BuiltMeeting, buildCommitteeMeeting, buildMeeting, usersByName } from '../helpers/factories.js';
import { type HttpClient, type TestServer, startTestServer, until } from '../helpers/server.js';
import { type TestProvider, openProvider, rawSocket } from '../helpers/yjs.js';
import { PAGE_TEXTS, highlightItem, inkItem, itemsOf, noteItem, replacePdf, snapshot, textPdf, uploadPdf } from './annotations-helpers.js';

let server: TestServer;
/** The test's own committee and published meeting (chair, secretary, three members, one agenda item): built before each test. */
let m: BuiltMeeting;
let secretary: HttpClient;
let member1: HttpClient;
let member2: HttpClient;
let member3: HttpClient;
let ids: Record<string, number>;
let itemId: number;
/** A document of the test's meeting that every participant sees. */
let doc: { id: number; current: { id: number } };
const open: TestProvider[] = [];

function provider(name: string, who: HttpClient) {
  const p = openProvider(server.url, name, who.cookie);
  open.push(p);
  return p;
}
const synced = (p: TestProvider) => until(() => p.provider.synced, { what: 'provider synced' });
const terminalClose = (p: TestProvider) => new Promise<number>((resolve) => p.provider.on('closed', (e: { code: number }) => resolve(e.code)));
const privateName = (documentId: number, user: string) => layerDocName({ documentId, layer: 'private', userId: ids[user] });
const sharedName = (documentId: number) => layerDocName({ documentId, layer: 'shared', meetingId: m.meetingId });
const author = (user: string, name: string) => ({ userId: ids[user], name, color: '#845ef7' });
/** The stored Yjs rows of a document, as latin1 strings (to look for item ids in them). */
const storedRows = async (name: string) =>
  (await server.app.ctx.store.q.select({ data: yjsUpdates.data }).from(yjsUpdates).where(eq(yjsUpdates.docName, name))).map((r) => Buffer.from(r.data).toString('latin1'));

beforeAll(async () => {
  server = await startTestServer({ seed: 'admin', logLevel: process.env.TLOG as never });
});

/** Every test builds its own committee, meeting, people and documents (CI runs the tests shuffled). */
beforeEach(async () => {
  m = await buildMeeting(server, { members: 3, agendaItems: 1 });
  ids = Object.fromEntries(Object.entries(usersByName(m)).map(([name, u]) => [name, u.id]));
  [secretary, member1, member2, member3] = await Promise.all([m.as('secretary'), m.as('member', 0), m.as('member', 1), m.as('member', 2)]);
  itemId = m.itemIds[0];
  const bytes = await textPdf(PAGE_TEXTS);
  doc = await uploadPdf(secretary, m.meetingId, itemId, bytes);
});

/** A confidential document of the test's meeting that only member1 sees. */
const uploadSecret = async () => uploadPdf(secretary, m.meetingId, itemId, await textPdf(PAGE_TEXTS), { access: 'confidential', viewerIds: String(ids.member1), title: 'Mật' });

afterEach(() => {
  for (const p of open.splice(0)) p.destroy();
});

afterAll(async () => {
  for (const p of open) p.destroy();
  await server.close();
});

describe('annotation layers: who may open them', () => {
  it("another user asking for someone's private layer is refused with 4403 and receives nothing", async () => {
    const owner = provider(privateName(doc.id, 'member1'), member1);
    await synced(owner);
    const ink = inkItem(1);
    itemsOf(owner.doc, doc.current.id).set(ink.id, ink);
    const live = await annotationLayers(server.app.ctx).doc(privateName(doc.id, 'member1'));
    await until(() => itemsOf(live, doc.current.id).has(ink.id), { what: 'owner item on the server' });

    const intruder = provider(privateName(doc.id, 'member1'), member2);
    const received: Uint8Array[] = [];
    intruder.doc.on('update', (u: Uint8Array) => received.push(u));
    expect(await terminalClose(intruder)).toBe(CLOSE_CODES.forbidden);
    expect(intruder.provider.synced).toBe(false);
    expect(received).toHaveLength(0);
    expect(itemsOf(intruder.doc, doc.current.id).size).toBe(0);
  });

  it('the owner of a private layer gets their own items on a second device', async () => {
    const a = provider(privateName(doc.id, 'member3'), member3);
    await synced(a);
    const ink = inkItem(2);
    itemsOf(a.doc, doc.current.id).set(ink.id, ink);
    const b = provider(privateName(doc.id, 'member3'), member3);
    await until(() => itemsOf(b.doc, doc.current.id).get(ink.id)?.id === ink.id, { what: 'second device sees the ink' });
  });

  it('a member without access to a confidential document cannot open its shared layer; a named viewer can', async () => {
    const secret = await uploadSecret();
    const outsider = provider(sharedName(secret.id), member2);
    expect(await terminalClose(outsider)).toBe(CLOSE_CODES.forbidden);
    const ownPrivate = provider(privateName(secret.id, 'member2'), member2);
    expect(await terminalClose(ownPrivate)).toBe(CLOSE_CODES.forbidden);
    const viewer = provider(sharedName(secret.id), member1);
    await synced(viewer);
  });

  it('a member taken off a document loses its layers at once (4403), the remaining viewer keeps them', async () => {
    const d = await uploadPdf(secretary, m.meetingId, itemId, await textPdf(PAGE_TEXTS), { title: 'Sắp hạn chế' });
    const leaving = provider(sharedName(d.id), member2);
    const leavingPrivate = provider(privateName(d.id, 'member2'), member2);
    const staying = provider(sharedName(d.id), member1);
    await Promise.all([synced(leaving), synced(leavingPrivate), synced(staying)]);
    const closed = Promise.all([terminalClose(leaving), terminalClose(leavingPrivate)]);
    const r = await secretary.patch(`/api/documents/${d.id}`, { access: 'named', viewerIds: [ids.member1] });
    expect(r.status).toBe(200);
    expect(await closed).toEqual([CLOSE_CODES.forbidden, CLOSE_CODES.forbidden]);
    expect(staying.provider.wsconnected).toBe(true);
  });

  it('a shared layer named with another meeting than the document’s is refused', async () => {
    // Another published meeting of the same committee, which member1 attends too, and a meeting that does not exist.
    const other = await buildCommitteeMeeting(m, { publish: true, secretary });
    for (const meetingId of [other.meetingId, 999_999]) {
      const wrong = provider(layerDocName({ documentId: doc.id, layer: 'shared', meetingId }), member1);
      expect(await terminalClose(wrong)).toBe(CLOSE_CODES.forbidden);
    }
  });
});

describe('annotation layers: bad updates are refused before they are applied', () => {
  it('oversized or malformed items, forged authors, foreign roots and edits of others\' items never reach another client or the store; valid edits keep flowing', async () => {
    const name = sharedName(doc.id);
    const bad = provider(name, member2);
    const good = provider(name, member1);
    const watcher = provider(name, member3);
    await Promise.all([synced(bad), synced(good), synced(watcher)]);
    const v = doc.current.id;
    const before = snapshot(watcher.doc, v).length;
    const fullName = (await member1.get('/api/auth/me')).body.fullName as string;
    const ok = inkItem(1, { author: author('member1', fullName) } as Partial<Ink>);
    itemsOf(good.doc, v).set(ok.id, ok);
    await until(() => itemsOf(watcher.doc, v).has(ok.id) && itemsOf(bad.doc, v).has(ok.id), { what: 'valid item reaches everyone' });

    // Everything the watcher and the good client ever see from here on: keys set or deleted, roots touched.
    const seen: string[] = [];
    for (const p of [watcher, good]) {
      itemsOf(p.doc, v).observe((e) => e.keysChanged.forEach((k) => seen.push(`${e.changes.keys.get(k)!.action}:${k}`)));
      p.doc.on('update', (_u: Uint8Array, _o: unknown, d: Y.Doc) => {
        for (const [root, type] of d.share) if (!/^v\d+$/.test(root) && root !== 'carry' && (type._start !== null || type._map.size > 0)) seen.push(`root:${root}`);
      });
    }

    const huge = inkItem(1, { author: author('member2', 'x') } as Partial<Ink>);
    huge.points = new Array(10_000).fill(5);
    itemsOf(bad.doc, v).set(huge.id, huge);
    const forged = inkItem(1, { author: author('member1', fullName) } as Partial<Ink>);
    itemsOf(bad.doc, v).set(forged.id, forged);
    itemsOf(bad.doc, v).set('not_an_item', { hello: 'world' } as unknown as AnnotationItem);
    const beyond = inkItem(99);
    itemsOf(bad.doc, v).set(beyond.id, beyond);
    bad.doc.getText('junk').insert(0, 'x'.repeat(1000));
    // Someone else's shared item: neither erased nor rewritten by a non-manager.
    itemsOf(bad.doc, v).delete(ok.id);
    const rewritten = { ...ok, color: '#000000' };
    bad.doc.transact(() => itemsOf(bad.doc, v).set('tmp_key_1', rewritten)); // wrong key for the id, too

    // A legit change of the offender in the same session still syncs (its clock continues after the refused ones).
    const badName = (await member2.get('/api/auth/me')).body.fullName as string;
    const legit = inkItem(2, { author: author('member2', badName) } as Partial<Ink>);
    itemsOf(bad.doc, v).set(legit.id, legit);
    await until(() => itemsOf(watcher.doc, v).has(legit.id) && itemsOf(good.doc, v).has(legit.id), { what: "offender's valid item reaches the others" });
    // The offender's replica drops its refused insertions (the server sends it their deletion)…
    await until(() => !itemsOf(bad.doc, v).has(huge.id) && !itemsOf(bad.doc, v).has(forged.id) && !itemsOf(bad.doc, v).has('not_an_item') && bad.doc.getText('junk').length === 0, { what: 'offender drops refused items' });
    // …and over the whole window nobody else saw any refused change: only the legit item arrived.
    await new Promise((r) => setTimeout(r, 300));
    expect(seen.filter((x) => !x.endsWith(`:${legit.id}`))).toEqual([]);
    for (const p of [watcher, good]) {
      expect(itemsOf(p.doc, v).get(ok.id)).toEqual(ok);
      expect(p.doc.share.has('junk')).toBe(false);
    }
    expect(snapshot(watcher.doc, v).length).toBe(before + 2);
    // Server state and store are clean: the refused content was never applied, nor written to SQLite.
    const live = await annotationLayers(server.app.ctx).doc(name);
    expect(itemsOf(live, v).has(huge.id) || itemsOf(live, v).has(forged.id) || itemsOf(live, v).has('not_an_item') || itemsOf(live, v).has(beyond.id)).toBe(false);
    expect(itemsOf(live, v).get(ok.id)).toEqual(ok);
    expect(live.share.has('junk')).toBe(false);
    const rows = await storedRows(name);
    for (const needle of [huge.id, forged.id, 'not_an_item', beyond.id, 'tmp_key_1', 'xxxxxxxx']) expect(rows.some((r) => r.includes(needle))).toBe(false);
    expect(rows.some((r) => r.includes(legit.id))).toBe(true);
  });

  it("a manager erases someone else's shared item: it is gone for everyone and on the server", async () => {
    const name = sharedName(doc.id);
    const owner = provider(name, member1);
    const other = provider(name, member2);
    const manager = provider(name, secretary);
    await Promise.all([synced(owner), synced(other), synced(manager)]);
    const v = doc.current.id;
    const fullName = (await member1.get('/api/auth/me')).body.fullName as string;
    const ink = inkItem(1, { author: author('member1', fullName) } as Partial<Ink>);
    itemsOf(owner.doc, v).set(ink.id, ink);
    await until(() => itemsOf(other.doc, v).has(ink.id) && itemsOf(manager.doc, v).has(ink.id), { what: 'item reaches everyone' });
    itemsOf(manager.doc, v).delete(ink.id);
    await until(() => !itemsOf(owner.doc, v).has(ink.id) && !itemsOf(other.doc, v).has(ink.id), { what: "the manager's erasure reaches everyone" });
    expect(itemsOf(await annotationLayers(server.app.ctx).doc(name), v).has(ink.id)).toBe(false);
  });

  it('a connection that keeps sending refused updates is closed with 4422; the document and the others are untouched', async () => {
    const hub = annotationLayers(server.app.ctx).hub;
    hub.setOptions({ maxRefusedUpdates: 3 });
    try {
      const name = privateName(doc.id, 'member3');
      const watcher = provider(name, member3);
      const offender = provider(name, member3);
      await Promise.all([synced(watcher), synced(offender)]);
      const closed = terminalClose(offender);
      for (let i = 0; i < 3; i++) {
        const bad = inkItem(1, { author: author('member3', 'private layers have no authors') } as Partial<Ink>);
        itemsOf(offender.doc, doc.current.id).set(bad.id, bad);
        await new Promise((r) => setTimeout(r, 30));
      }
      expect(await closed).toBe(CLOSE_CODES.updateRefused);
      expect([...itemsOf(watcher.doc, doc.current.id).values()].some((x) => x.author)).toBe(false);
      const ink = inkItem(2);
      itemsOf(watcher.doc, doc.current.id).set(ink.id, ink);
      const fresh = provider(name, member3);
      await until(() => itemsOf(fresh.doc, doc.current.id).has(ink.id), { what: 'the layer keeps working' });
    } finally {
      hub.setOptions({ maxRefusedUpdates: 20 });
    }
  });

  it('a malformed Yjs frame (4400) or an oversized one (1009) closes only the sender; the layer and other clients are untouched', async () => {
    const name = privateName(doc.id, 'member1');
    const watcher = provider(name, member1);
    await synced(watcher);
    const count = itemsOf(watcher.doc, doc.current.id).size;
    const { ws, closed } = await rawSocket(server.url, name, member1.cookie);
    const enc = encoding.createEncoder();
    encoding.writeVarUint(enc, 0);
    encoding.writeVarUint(enc, 2);
    encoding.writeVarUint8Array(enc, new Uint8Array([1, 2, 3, 250, 251, 252, 9, 9]));
    ws.send(encoding.toUint8Array(enc));
    expect(await closed).toBe(CLOSE_CODES.invalidMessage);
    // An oversized frame (3 MiB: a pasted image, a runaway stroke) is refused by size alone.
    const big = await rawSocket(server.url, name, member1.cookie);
    big.ws.send(new Uint8Array(3 * 1024 * 1024));
    expect(await big.closed).toBe(CLOSE_CODES.messageTooBig);
    const ink = inkItem(1);
    itemsOf(watcher.doc, doc.current.id).set(ink.id, ink);
    const fresh = provider(name, member1);
    await until(() => fresh.provider.synced && itemsOf(fresh.doc, doc.current.id).size === count + 1, { what: 'fresh client sees intact layer' });
  });
});

describe('annotation layers: refused changes after a restart', () => {
  it('a refused edit of someone else\'s item is not in the layer after a restart; the legit edits of the same session are', async () => {
    const name = sharedName(doc.id);
    const v = doc.current.id;
    const [n1, n2] = await Promise.all([member1, member2].map(async (c) => (await c.get('/api/auth/me')).body.fullName as string));
    const owner = provider(name, member1);
    const other = provider(name, member2);
    await Promise.all([synced(owner), synced(other)]);
    const mine = noteItem(1, 'của member1', { author: author('member1', n1) } as never);
    itemsOf(owner.doc, v).set(mine.id, mine as AnnotationItem);
    await until(() => itemsOf(other.doc, v).has(mine.id), { what: 'note synced' });
    itemsOf(other.doc, v).set(mine.id, { ...(mine as AnnotationItem), text: 'sửa trộm', author: author('member2', n2) } as AnnotationItem);
    const theirs = noteItem(2, 'của member2', { author: author('member2', n2) } as never);
    itemsOf(other.doc, v).set(theirs.id, theirs as AnnotationItem);
    await until(() => itemsOf(owner.doc, v).has(theirs.id), { what: 'legit note synced' });
    expect(itemsOf(owner.doc, v).get(mine.id)).toEqual(mine);
    owner.destroy();
    other.destroy();
    const dataDir = server.dataDir;
    await server.close();
    server = await startTestServer({ dataDir, seed: 'admin', logLevel: process.env.TLOG });
    [secretary, member1, member2, member3] = await Promise.all([m.secretary, ...m.members].map((u) => server.login(u.username, u.password)));
    const again = openProvider(server.url, name, member3.cookie);
    open.push(again);
    await until(() => again.provider.synced, { what: 'synced after restart' });
    expect(itemsOf(again.doc, v).get(mine.id)).toEqual(mine);
    expect(itemsOf(again.doc, v).get(theirs.id)).toEqual(theirs);
    expect((await storedRows(name)).some((r) => r.includes('sửa trộm') || r.includes(Buffer.from('sửa trộm').toString('latin1')))).toBe(false);
  });
});

describe('annotations and document versions', () => {
  it('a new version that deletes the annotated page carries every item over, flagged, and keeps the old version', async () => {
    const bytes = await textPdf(PAGE_TEXTS);
    const d = await uploadPdf(secretary, m.meetingId, itemId, bytes, { title: 'Phiên bản' });
    const v1 = d.current.id;
    const p = provider(privateName(d.id, 'member2'), member2);
    await synced(p);
    const hl = highlightItem(PAGE_TEXTS[2], 3, 'reports before the end of December');
    const inkOnDeleted = inkItem(2);
    const note = noteItem(2, 'Hỏi lại Sở Tài chính về 12 tỷ');
    const inkOnFirst = inkItem(1);
    for (const it of [hl, inkOnDeleted, note, inkOnFirst]) itemsOf(p.doc, v1).set(it.id, it);

    // Version 2 drops page two: page three becomes page two.
    const v2 = await replacePdf(secretary, d.id, await textPdf([PAGE_TEXTS[0], PAGE_TEXTS[2]]));
    await until(() => itemsOf(p.doc, v2).size === 4, { what: 'items carried to version 2', timeout: 15_000 });
    const carried = itemsOf(p.doc, v2);
    const h2 = carried.get(hl.id) as Highlight;
    expect(h2.page).toBe(2);
    expect(PAGE_TEXTS[2].slice(h2.anchor.start, h2.anchor.end)).toBe('reports before the end of December');
    expect(h2.carried).toMatchObject({ fromVersionId: v1, status: 'ok', previousPage: 3 });
    expect(carried.get(inkOnDeleted.id)?.carried?.status).toBe('orphaned');
    expect(carried.get(note.id)).toMatchObject({ text: note.text, x: 300, y: 500, carried: { status: 'orphaned', previousPage: 2 } });
    expect(carried.get(inkOnFirst.id)).toMatchObject({ page: 1, carried: { status: 'ok' } });
    // The old version's items are untouched for their owner.
    expect(snapshot(p.doc, v1)).toEqual([hl, inkOnDeleted, note, inkOnFirst].sort((a, b) => a.id.localeCompare(b.id)));

    // An offline edit that lands on the old version after the replacement is carried forward too.
    const late = inkItem(1);
    itemsOf(p.doc, v1).set(late.id, late);
    await until(() => itemsOf(p.doc, v2).has(late.id), { what: 'late item forwarded' });

    // "My annotations" lists the carried items of the current version with their flags.
    const mine = await member2.get(`/api/meetings/${m.meetingId}/annotations/mine`);
    expect(mine.status).toBe(200);
    const rows = mine.body.annotations.filter((a: { documentId: number }) => a.documentId === d.id);
    expect(rows).toHaveLength(5);
    expect(rows.find((r: { itemId: string }) => r.itemId === hl.id)).toMatchObject({ kind: 'highlight', page: 2, status: 'ok', text: 'reports before the end of December' });
    expect(rows.find((r: { itemId: string }) => r.itemId === note.id)).toMatchObject({ kind: 'note', status: 'orphaned' });
    // Nobody else's list shows them.
    const theirs = await member1.get(`/api/meetings/${m.meetingId}/annotations/mine`);
    expect(theirs.body.annotations.some((a: { itemId: string }) => a.itemId === hl.id)).toBe(false);
  });

  it('"my annotated copy" is a watermarked PDF with the annotations drawn in; refused for a confidential document', async () => {
    const p = provider(privateName(doc.id, 'member2'), member2);
    await synced(p);
    const stroke = inkItem(2, { color: '#00ff00', points: [100, 100, 200, 200] });
    itemsOf(p.doc, doc.current.id).set(stroke.id, stroke);
    await until(async () => itemsOf(await annotationLayers(server.app.ctx).doc(privateName(doc.id, 'member2')), doc.current.id).has(stroke.id), { what: 'stroke stored' });
    const res = await fetch(`${server.url}/api/documents/${doc.id}/annotations/copy`, { headers: { cookie: member2.cookie } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/pdf');
    const pdf = await PDFDocument.load(new Uint8Array(await res.arrayBuffer()));
    const ops = pageOperators(pdf, 1);
    expect(ops).toContain('0 1 0 RG'); // the green stroke colour
    expect(ops).toMatch(/100 100 m\s+200 200 l/);
    const secret = await uploadSecret();
    const denied = await member1.get(`/api/documents/${secret.id}/annotations/copy`);
    expect(denied.status).toBe(403);
    expect(denied.body.error.code).toBe('download_forbidden');
    const hidden = await member2.get(`/api/documents/${secret.id}/annotations/copy`);
    expect(hidden.status).toBe(404);
  });
});

describe('annotations offline and online', () => {
  it('two devices of one user edit the same layer offline, then both reconnect: nothing is lost', async () => {
    const name = privateName(doc.id, 'member3');
    const v = doc.current.id;
    const a = provider(name, member3);
    const b = provider(name, member3);
    await Promise.all([synced(a), synced(b)]);
    const shared = inkItem(1);
    itemsOf(a.doc, v).set(shared.id, shared);
    await until(() => itemsOf(b.doc, v).has(shared.id), { what: 'both see the first stroke' });

    a.provider.disconnect();
    b.provider.disconnect();
    const fromA = [inkItem(1), noteItem(2, 'ghi chú máy A')];
    const fromB = [inkItem(3), highlightItem(PAGE_TEXTS[1], 2, 'twelve billion')];
    for (const it of fromA) itemsOf(a.doc, v).set(it.id, it);
    for (const it of fromB) itemsOf(b.doc, v).set(it.id, it);
    itemsOf(b.doc, v).delete(shared.id); // erased on one device while offline

    a.provider.connect();
    b.provider.connect();
    const want = [...fromA, ...fromB].map((i) => i.id);
    await until(() => want.every((id) => itemsOf(a.doc, v).has(id) && itemsOf(b.doc, v).has(id)) && !itemsOf(a.doc, v).has(shared.id), {
      what: 'both devices converge',
    });
    expect(snapshot(a.doc, v)).toEqual(snapshot(b.doc, v));
  });

  it('seeded random offline/online sequences: every client converges to the same items and none is lost', async () => {
    const rnd = mulberry32(20261123);
    const v = doc.current.id;
    const name = sharedName(doc.id);
    const users = [
      { c: member1, u: 'member1' },
      { c: member2, u: 'member2' },
      { c: member3, u: 'member3' },
      { c: member1, u: 'member1' },
    ];
    const names = await Promise.all(users.map(async (x) => (await x.c.get('/api/auth/me')).body.fullName as string));
    const clients = users.map((x) => provider(name, x.c));
    await Promise.all(clients.map(synced));
    const added = new Map<string, number>(); // item id → client index that authored it
    const deleted = new Set<string>();
    for (let step = 0; step < 60; step++) {
      const i = Math.floor(rnd() * clients.length);
      const c = clients[i];
      const op = rnd();
      if (op < 0.2) {
        if (c.provider.wsconnected || c.provider.wsconnecting) c.provider.disconnect();
        else c.provider.connect();
      } else if (op < 0.85) {
        const it = inkItem(1 + Math.floor(rnd() * 3), { author: { userId: ids[users[i].u], name: names[i], color: '#51cf66' } } as Partial<Ink>);
        itemsOf(c.doc, v).set(it.id, it);
        added.set(it.id, i);
      } else {
        // Erase one of this user's own items that this replica has.
        const own = [...itemsOf(c.doc, v).values()].filter((x) => x.author?.userId === ids[users[i].u] && added.has(x.id));
        if (own.length) {
          const victim = own[Math.floor(rnd() * own.length)];
          itemsOf(c.doc, v).delete(victim.id);
          deleted.add(victim.id);
        }
      }
      if (rnd() < 0.3) await new Promise((r) => setImmediate(r));
    }
    for (const c of clients) if (!c.provider.wsconnected && !c.provider.wsconnecting) c.provider.connect();
    const expected = [...added.keys()].filter((id) => !deleted.has(id)).sort();
    await until(
      () => clients.every((c) => JSON.stringify(snapshot(c.doc, v).map((x) => x.id).filter((id) => added.has(id))) === JSON.stringify(expected)),
      { what: 'all clients converge', timeout: 20_000 },
    );
    const first = JSON.stringify(snapshot(clients[0].doc, v));
    for (const c of clients) expect(JSON.stringify(snapshot(c.doc, v))).toBe(first);
    expect(expected.length).toBeGreaterThan(10);
  });
});

/** The decoded content-stream operators of one page (0-based), joined. */
function pageOperators(pdf: PDFDocument, index: number): string {
  const page = pdf.getPage(index);
  const contents = page.node.get(PDFName.of('Contents'));
  const refs = contents instanceof PDFArray ? contents.asArray() : [contents];
  return refs
    .map((ref) => {
      const stream = pdf.context.lookup(ref as PDFRef);
      if (!(stream instanceof PDFRawStream)) return '';
      const raw = Buffer.from(stream.contents);
      return stream.dict.get(PDFName.of('Filter')) ? zlib.inflateSync(raw).toString('latin1') : raw.toString('latin1');
    })
    .join('\n');
}
