import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { itemNotesDocName } from '../../shared/protocol/yjs.js';
import { buildMeeting } from '../helpers/factories.js';
import { type TestServer, startTestServer, until } from '../helpers/server.js';
import { type TestProvider, openProvider } from '../helpers/yjs.js';
import { testSql } from '../helpers/sql.js';

let server: TestServer;
const open: TestProvider[] = [];

beforeAll(async () => {
  server = await startTestServer({ seed: 'admin' });
});

afterAll(async () => {
  for (const p of open) p.destroy();
  await server.close();
});

const rowsOf = async (name: string) =>
  (await testSql(server).all('select id, data from yjs_updates where doc_name = ? order by id', name)) as { id: number; data: Buffer }[];

describe('Yjs compaction in place while a background compaction is in flight', () => {
  it('leaves exactly one row holding the whole document, even when the worker wrote its row after the hub’s last known row', async () => {
    const m = await buildMeeting(server, { members: 1, agendaItems: 1 });
    const name = itemNotesDocName(m.meetingId, m.itemIds[0]);
    const hub = server.app.ctx.yjs;
    const secretary = await m.as('secretary');
    const w = openProvider(server.url, name, secretary.cookie);
    open.push(w);
    await until(() => w.provider.synced, { what: 'provider synced' });
    for (let i = 0; i < 30; i++) w.text.insert(w.text.length, `${i};`);
    const expected = w.text.toString();
    await until(async () => (await hub.getDoc(name)).getText('t').toString() === expected && hub.stats().perDoc[name].pending === 0, { what: 'updates stored' });
    expect((await rowsOf(name)).length).toBeGreaterThan(1);

    // What the store's worker does (yjs.store.ts WORKER): it writes the merged state of the rows it
    // read as a new row, then deletes those rows in chunks. Its row id is past the hub's last known
    // row id. The synchronous compaction must not leave that row beside its own.
    const merged = Y.mergeUpdates((await rowsOf(name)).map((r) => new Uint8Array(r.data)));
    (await testSql(server).run('insert into yjs_updates (doc_name, data) values (?, ?)', name, Buffer.from(merged)));

    await hub.compactDoc(name);
    const rows = (await rowsOf(name));
    expect(rows.length).toBe(1);
    expect(hub.stats().perDoc[name].rows).toBe(1);
    const rebuilt = new Y.Doc();
    Y.applyUpdate(rebuilt, rows[0].data);
    expect(rebuilt.getText('t').toString()).toBe(expected);

    // And the document goes on: later edits land after the compacted row and a fresh reader sees all.
    w.text.insert(0, 'sau nén: ');
    const fresh = openProvider(server.url, name, (await m.as('chair')).cookie);
    open.push(fresh);
    await until(() => fresh.provider.synced && fresh.text.toString() === `sau nén: ${expected}`, { what: 'fresh reader after compaction' });
  });
});
