import fs from 'node:fs';
import type { IncomingMessage } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { WebsocketProvider } from 'y-websocket';
import * as Y from 'yjs';
import { followOwnerHints, routingParams } from '../../client/services/yjs.js';
import { type Cluster, startCluster } from '../../scripts/cluster.js';
import { itemsMapName, layerDocName } from '../../shared/protocol/annotations.js';
import { buildMeetingOn } from '../helpers/factories.js';
import { noteItem, PAGE_TEXTS, textPdf, uploadPdf } from '../integration/annotations-helpers.js';
import { type HttpClient, loginAt, until } from '../helpers/server.js';
import { testDatabaseUrl } from '../helpers/test-db.js';

/**
 * Concurrent Yjs edits through HAProxy while a meeting changes owner (issue #18). Two editors of the minutes
 * (the committee's secretary and the admin) type Vietnamese tokens — inserts at token boundaries and deletes
 * of their own tokens, interleaved — through stock y-websocket providers built as the web client builds them
 * (`meeting=<id>` routing, the client's owner-hint handling), while the owner node is killed -9, frozen past
 * its lease, or stopped. They keep typing while cut off. Afterwards both documents are equal, hold exactly the
 * tokens typed and not deleted, the rows in PostgreSQL give the same document, and a fresh provider (on
 * whichever node HAProxy picks, after a restart too) loads the same. A node stopped with SIGTERM also runs its
 * documents' change hooks (the annotation projection) under the lease before it lets the meeting go.
 */
describe('Yjs edits during an ownership change converge', { shuffle: false }, () => {
  let cluster: Cluster;
  let db: pg.Client;
  let secretary: HttpClient;
  let admin: HttpClient;
  const dbKey = fs.mkdtempSync(path.join(os.tmpdir(), 'ec-yjs-failover-'));
  const editors: Editor[] = [];
  const measured: string[] = [];

  const login = (username: string, password?: string) => loginAt(cluster.url, username, password);

  interface Editor {
    label: string;
    doc: Y.Doc;
    text: Y.Text;
    provider: WebsocketProvider;
    /** The node that accepted the current connection (x-ecabinet-node of the 101), null between connections. */
    node: string | null;
    closes: { code: number; reason: string }[];
    /** Tokens this editor typed, and those of them it deleted again. */
    typed: string[];
    deleted: Set<string>;
    seq: number;
    destroy(): void;
  }

  /** A stock WebsocketProvider as the web client opens a meeting's document (client/services/yjs.ts), through HAProxy, with a session cookie. */
  const open = (label: string, meetingId: number, client: HttpClient, name = `minutes:${meetingId}`): Editor => {
    const doc = new Y.Doc();
    const ed = { label, doc, text: doc.getText('draft'), node: null, closes: [], typed: [], deleted: new Set(), seq: 0 } as unknown as Editor;
    const cookie = client.cookie;
    class CookieWebSocket extends WebSocket {
      constructor(url: string | URL, protocols?: string | string[]) {
        super(url, protocols, { headers: { cookie } });
        this.on('upgrade', (res: IncomingMessage) => (ed.node = (res.headers['x-ecabinet-node'] as string | undefined) ?? '?'));
        this.on('close', () => (ed.node = null));
      }
    }
    ed.provider = new WebsocketProvider(`${cluster.url.replace(/^http/, 'ws')}/yjs`, name, doc, {
      WebSocketPolyfill: CookieWebSocket as never,
      disableBc: true,
      maxBackoffTime: 1000,
      params: routingParams(meetingId),
    });
    followOwnerHints(ed.provider);
    ed.provider.on('connection-close', (ev) => ed.closes.push({ code: ev?.code ?? 0, reason: String(ev?.reason ?? '') }));
    ed.destroy = () => {
      ed.provider.destroy();
      doc.destroy();
    };
    editors.push(ed);
    return ed;
  };
  const synced = (e: Editor) => e.provider.wsconnected && e.provider.synced;

  /** One edit: mostly an insert of a new token at a token boundary, sometimes the delete of one of the editor's own tokens. */
  const edit = (e: Editor) => {
    const s = e.text.toString();
    const mine = e.typed.filter((t) => !e.deleted.has(t) && s.includes(t));
    if (mine.length > 2 && e.seq % 4 === 3) {
      const t = mine[(e.seq * 7) % mine.length];
      e.text.delete(s.indexOf(t), t.length);
      e.deleted.add(t);
    } else {
      const t = `⟨${e.label}${e.seq} biên bản kỳ họp: ý kiến đồng ý⟩`;
      const bounds = [0, ...[...s.matchAll(/⟩/g)].map((m) => m.index + 1)];
      e.text.insert(bounds[(e.seq * 13) % bounds.length], t);
      e.typed.push(t);
    }
    e.seq++;
  };
  /** Both editors edit, interleaved, every `everyMs` until `stop()`. */
  const typing = (eds: Editor[], everyMs = 40) => {
    let i = 0;
    const timer = setInterval(() => edit(eds[i++ % eds.length]), everyMs);
    return () => clearInterval(timer);
  };
  const tokensOf = (s: string) => [...s.matchAll(/⟨[^⟩]*⟩/g)].map((m) => m[0]);
  /** The document holds exactly the tokens typed and not deleted, each once, and nothing else. */
  const expectEveryEdit = (s: string, eds: Editor[]) => {
    const expected = eds.flatMap((e) => e.typed.filter((t) => !e.deleted.has(t))).sort();
    expect(tokensOf(s).join('')).toBe(s);
    expect(tokensOf(s).sort()).toEqual(expected);
  };

  const owner = async (meetingId: number) =>
    (await db.query<{ node_id: string; epoch: number }>('SELECT node_id, epoch FROM meeting_owners WHERE meeting_id = $1', [meetingId])).rows[0] ?? null;
  const rows = async (meetingId: number) =>
    (await db.query<{ id: string; data: Buffer }>('SELECT id, data FROM yjs_updates WHERE doc_name = $1 ORDER BY id', [`minutes:${meetingId}`])).rows;
  /** The document PostgreSQL holds: every stored row applied to a new Y.Doc. */
  const stored = async (meetingId: number) => {
    const d = new Y.Doc();
    for (const r of await rows(meetingId)) Y.applyUpdate(d, new Uint8Array(r.data));
    const s = d.getText('draft').toString();
    d.destroy();
    return s;
  };
  /** No Yjs item is stored in two rows: a row written by a fenced-off former owner would repeat what the clients resent to the new one. */
  const expectNoItemStoredTwice = async (meetingId: number) => {
    const seen = new Map<number, [number, number, string][]>();
    for (const r of await rows(meetingId)) {
      for (const s of Y.decodeUpdate(new Uint8Array(r.data)).structs) {
        if (!(s instanceof Y.Item)) continue;
        const ranges = seen.get(s.id.client) ?? [];
        for (const [from, to, row] of ranges) {
          expect(s.id.clock + s.length <= from || s.id.clock >= to, `client ${s.id.client} clock ${s.id.clock} in rows ${row} and ${r.id}`).toBe(true);
        }
        ranges.push([s.id.clock, s.id.clock + s.length, r.id]);
        seen.set(s.id.client, ranges);
      }
    }
  };
  const converged = (eds: Editor[]) => eds.every(synced) && eds.every((e) => e.text.toString() === eds[0].text.toString());
  /** A fresh provider through HAProxy: it loads what the server (whichever node serves the meeting now) has. */
  const freshCopy = async (meetingId: number, what: string) => {
    const f = open('F', meetingId, secretary);
    try {
      await until(() => synced(f), { timeout: 30_000, interval: 50, what: `${what}: a fresh provider to sync` }).catch((err: Error) => {
        throw new Error(`${err.message} (its last closes: ${JSON.stringify(f.closes.slice(-3))})`);
      });
      return { text: f.text.toString(), node: f.node };
    } finally {
      f.destroy();
    }
  };
  const nodeUp = async (id: string) => {
    await cluster.restartNode(id);
    await until(async () => (await cluster.status()).nodes.every((n) => n.ready && n.haproxy === 'UP'), { timeout: 20_000, interval: 250, what: `${id} back in HAProxy` });
  };

  /** A new meeting with both editors synced on its owner; returns the meeting and that node. */
  const meetingWithEditors = async () => {
    const m = await buildMeetingOn({ login }, { members: 1, agendaItems: 0 });
    secretary = await m.as('secretary');
    admin = await login('admin');
    const a = open('A', m.meetingId, secretary);
    const b = open('B', m.meetingId, admin);
    await until(() => synced(a) && synced(b), { timeout: 30_000, what: 'both editors synced' });
    const first = await owner(m.meetingId);
    expect(first?.node_id).toBe(a.node);
    expect(b.node).toBe(a.node);
    return { meetingId: m.meetingId, a, b, first: first! };
  };

  beforeAll(async () => {
    const databaseUrl = (await testDatabaseUrl(dbKey)) ?? undefined;
    cluster = await startCluster({ nodes: 2, seed: 'admin', sfu: false, databaseUrl, env: { ECABINET_MEETING_LEASE_MS: '2000', LOG_LEVEL: 'warn' } });
    db = new pg.Client({ connectionString: cluster.pgUrl });
    await db.connect();
  }, 300_000);

  afterAll(async () => {
    for (const e of editors) {
      try {
        e.destroy();
      } catch {
        // destroyed by its test already
      }
    }
    await db?.end();
    await cluster?.stop();
    fs.rmSync(dbKey, { recursive: true, force: true });
    if (measured.length) process.stdout.write(`yjs-failover: ${measured.join('; ')}\n`);
  }, 120_000);

  it('kill -9 of the owner while two editors type: both converge with every edit, PostgreSQL holds the same, and so does a fresh copy on the new owner, on the restarted node and after the new owner dies too', async () => {
    const { meetingId, a, b, first } = await meetingWithEditors();
    const stop = typing([a, b]);
    await new Promise((r) => setTimeout(r, 800));
    const killedAt = Date.now();
    cluster.kill(first.node_id, 'SIGKILL');
    // They go on typing while cut off, and after they reconnect.
    await until(() => a.node !== null && a.node !== first.node_id && b.node === a.node && synced(a) && synced(b), {
      timeout: 30_000,
      interval: 50,
      what: `both editors back on another node (A ${a.node} ${JSON.stringify(a.closes.slice(-3))}, B ${b.node})`,
    });
    const back = Date.now() - killedAt;
    measured.push(`kill -9: editors synced on the new owner after ${back} ms`);
    await new Promise((r) => setTimeout(r, 600));
    stop();
    await until(() => converged([a, b]), { timeout: 15_000, what: 'both documents equal' });
    const text = a.text.toString();
    expectEveryEdit(text, [a, b]);
    expect(a.typed.length + b.typed.length).toBeGreaterThan(20);
    expect(back).toBeLessThan(10_000);
    const second = await owner(meetingId);
    expect(second).toMatchObject({ node_id: a.node, epoch: first.epoch + 1 });

    // What is persisted is what the clients see; a fresh provider gets it from the new owner.
    await until(async () => (await stored(meetingId)) === text, { timeout: 10_000, what: 'PostgreSQL to hold the editors’ document' });
    await expectNoItemStoredTwice(meetingId);
    expect(await freshCopy(meetingId, 'on the new owner')).toEqual({ text, node: second!.node_id });

    // The killed node back: HAProxy's hash points at it again while the new owner keeps the lease. A new
    // provider is refused there (1013, naming the owner) and follows the hint to the owner.
    await nodeUp(first.node_id);
    expect(await freshCopy(meetingId, 'with the old owner back')).toEqual({ text, node: second!.node_id });

    // The new owner dies too: the restarted node takes the meeting over from what PostgreSQL holds.
    cluster.kill(second!.node_id, 'SIGKILL');
    await until(() => a.node === first.node_id && b.node === first.node_id && synced(a) && synced(b), { timeout: 30_000, interval: 50, what: 'both editors on the restarted node' });
    expect(await freshCopy(meetingId, 'after the second kill')).toEqual({ text, node: first.node_id });
    expect(a.text.toString()).toBe(text);
    expect(b.text.toString()).toBe(text);
    await nodeUp(second!.node_id);
  });

  it('a frozen owner (SIGSTOP past its lease) loses the meeting: edits go on through the new owner, and once it wakes it writes nothing and everything converges', async () => {
    const { meetingId, a, b, first } = await meetingWithEditors();
    const stop = typing([a, b]);
    await new Promise((r) => setTimeout(r, 800));
    const frozenAt = Date.now();
    cluster.kill(first.node_id, 'SIGSTOP');
    try {
      await until(() => a.node !== null && a.node !== first.node_id && b.node === a.node && synced(a) && synced(b), {
        timeout: 45_000,
        interval: 50,
        what: `both editors on the new owner while the old one is frozen (A ${a.node} ${JSON.stringify(a.closes.slice(-3))}, B ${b.node})`,
      });
      const moved = Date.now() - frozenAt;
      measured.push(`SIGSTOP: editors synced on the new owner after ${moved} ms`);
      // HAProxy cuts the frozen node's connections once it marks it down; else the providers would sit on them for 30 s.
      expect(moved).toBeLessThan(10_000);
      const second = await owner(meetingId);
      expect(second).toMatchObject({ node_id: a.node, epoch: first.epoch + 1 });
      await new Promise((r) => setTimeout(r, 600));
    } finally {
      cluster.kill(first.node_id, 'SIGCONT');
    }
    // The former owner wakes with the editors' last frames to it still unread: it steps down and must not write them.
    await until(() => cluster.logTail(first.node_id, 400).includes('meeting lease lost'), { timeout: 10_000, interval: 100, what: 'the woken node to step down' });
    await new Promise((r) => setTimeout(r, 1000));
    stop();
    await until(() => converged([a, b]), { timeout: 15_000, what: 'both documents equal' });
    const text = a.text.toString();
    expectEveryEdit(text, [a, b]);
    await until(async () => (await stored(meetingId)) === text, { timeout: 10_000, what: 'PostgreSQL to hold the editors’ document' });
    await expectNoItemStoredTwice(meetingId);
    const second = await owner(meetingId);
    expect(second?.node_id).not.toBe(first.node_id);
    // The woken node is back in HAProxy, where the hash sends the meeting: a fresh provider still reaches the owner.
    await until(async () => (await cluster.status()).nodes.every((n) => n.ready && n.haproxy === 'UP'), { timeout: 20_000, interval: 250, what: 'the woken node back in HAProxy' });
    expect(await freshCopy(meetingId, 'with the woken node back')).toEqual({ text, node: second!.node_id });
  });

  it('a node stopped with SIGTERM hands its meeting over: the editors move at once and converge', async () => {
    const { meetingId, a, b, first } = await meetingWithEditors();
    const stop = typing([a, b]);
    await new Promise((r) => setTimeout(r, 800));
    const stoppedAt = Date.now();
    cluster.kill(first.node_id, 'SIGTERM');
    await until(() => a.node !== null && a.node !== first.node_id && b.node === a.node && synced(a) && synced(b), {
      timeout: 30_000,
      interval: 50,
      what: `both editors on another node (A ${a.node} ${JSON.stringify(a.closes.slice(-3))}, B ${b.node})`,
    });
    const moved = Date.now() - stoppedAt;
    measured.push(`SIGTERM: editors synced on the new owner after ${moved} ms`);
    await new Promise((r) => setTimeout(r, 600));
    stop();
    await until(() => converged([a, b]), { timeout: 15_000, what: 'both documents equal' });
    const text = a.text.toString();
    expectEveryEdit(text, [a, b]);
    await until(async () => (await stored(meetingId)) === text, { timeout: 10_000, what: 'PostgreSQL to hold the editors’ document' });
    await expectNoItemStoredTwice(meetingId);
    // Released, not expired: the next node took it without waiting out the lease.
    expect(moved).toBeLessThan(5_000);
    await until(async () => cluster.nodes.find((n) => n.id === first.node_id)?.pid === null, { timeout: 15_000, what: 'the stopped node to exit' });
    await nodeUp(first.node_id);
    expect(await freshCopy(meetingId, 'with the stopped node back')).toEqual({ text, node: a.node });
  });

  it('a node stopped with SIGTERM runs its documents’ change hooks under the lease before it hands over: the annotation projection has the last edits', async () => {
    const m = await buildMeetingOn({ login }, { members: 1, agendaItems: 1 });
    secretary = await m.as('secretary');
    const pdf = await uploadPdf(secretary, m.meetingId, m.itemIds[0], await textPdf(PAGE_TEXTS));
    const name = layerDocName({ documentId: pdf.id, layer: 'shared', meetingId: m.meetingId });
    const e = open('S', m.meetingId, secretary, name);
    await until(() => synced(e), { timeout: 30_000, what: 'the shared layer synced' });
    const first = (await owner(m.meetingId))!;
    expect(first.node_id).toBe(e.node);
    const items = e.doc.getMap(itemsMapName(pdf.current.id));
    // A shared item names who shared it (the layer's guard refuses a forged or missing author).
    const author = { userId: m.secretary.id, name: (await secretary.get('/api/auth/me')).body.fullName as string, color: '#845ef7' };
    const notes = [noteItem(1, 'Đề nghị bổ sung số liệu quý IV', { author }), noteItem(2, 'Thống nhất giao Sở Thông tin và Truyền thông chủ trì', { author })];
    for (const n of notes) items.set(n.id, n);
    // Committed, and the editor gone (it resends nothing to the next node): only the stopping node can still project them.
    const committed = async () => {
      const d = new Y.Doc();
      for (const r of (await db.query<{ data: Buffer }>('SELECT data FROM yjs_updates WHERE doc_name = $1 ORDER BY id', [name])).rows) Y.applyUpdate(d, new Uint8Array(r.data));
      const have = notes.every((n) => d.getMap(itemsMapName(pdf.current.id)).has(n.id));
      d.destroy();
      return have;
    };
    await until(committed, { interval: 10, what: 'the notes committed' });
    e.destroy();
    // Within the hooks' debounce (1 s): they have not run yet.
    cluster.kill(first.node_id, 'SIGTERM');
    await until(async () => cluster.nodes.find((n) => n.id === first.node_id)?.pid === null, { timeout: 15_000, what: 'the stopped node to exit' });
    const projected = (await db.query<{ item_id: string }>('SELECT item_id FROM annotation_items WHERE doc_name = $1', [name])).rows.map((r) => r.item_id);
    expect(projected.sort()).toEqual(notes.map((n) => n.id).sort());
    await nodeUp(first.node_id);
  });
});
