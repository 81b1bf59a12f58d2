import { afterAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { itemNotesDocName } from '../../shared/protocol/yjs.js';
import { ChildServer } from '../helpers/child-server.js';
import { buildMeetingOn } from '../helpers/factories.js';
import { until } from '../helpers/server.js';
import { type TestProvider, openProvider } from '../helpers/yjs.js';

let child: ChildServer | null = null;
const providers: TestProvider[] = [];

/** The notes text as rebuilt from the stored rows alone (what a restarted server will load). */
async function storedText(name: string): Promise<string> {
  const sql = await child!.sql();
  try {
    const rows = await sql.all<{ data: Uint8Array }>('select data from yjs_updates where doc_name = ? order by id', name);
    const doc = new Y.Doc();
    for (const r of rows) Y.applyUpdate(doc, r.data);
    return doc.getText('t').toString();
  } finally {
    sql.close();
  }
}

afterAll(async () => {
  for (const p of providers) p.destroy();
  await child?.dispose();
});

describe('Yjs hub: kill -9 of the server', () => {
  it('keeps every acknowledged note after kill -9, and providers reconnect by themselves and converge', { timeout: 240_000 }, async () => {
    const server = await ChildServer.create({ ECABINET_SEED: 'admin' });
    child = server;
    const url = server.url;
    await server.start();
    const m = await buildMeetingOn(server, { members: 1, agendaItems: 1 });
    const [secretary, member] = await Promise.all([m.as('secretary'), m.as('member', 0)]);
    const name = itemNotesDocName(m.meetingId, m.itemIds[0]);

    const writer = openProvider(url, name, secretary.cookie, { maxBackoffTime: 300 });
    const observer = openProvider(url, name, member.cookie, { maxBackoffTime: 300 });
    providers.push(writer, observer);
    await until(() => writer.provider.synced && observer.provider.synced, { what: 'synced' });

    // Acknowledged: what another client has received (the hub broadcasts only committed updates).
    for (let i = 0; i < 60; i++) writer.text.insert(writer.text.length, `Dòng ${i}. `);
    await until(() => observer.text.toString() === writer.text.toString(), { what: 'observer caught up' });
    const acknowledged = observer.text.toString();
    // A burst still in flight when the process dies: part of it may be committed, none of it acknowledged.
    for (let i = 0; i < 30; i++) writer.text.insert(writer.text.length, `+${i}`);
    await server.kill9();

    const stored = await storedText(name);
    expect(stored.startsWith(acknowledged)).toBe(true);
    expect(writer.text.toString().startsWith(stored)).toBe(true);

    await server.start();
    // Nobody calls connect(): the stock providers come back on their own and re-sync.
    await until(() => writer.provider.wsconnected && observer.provider.wsconnected && observer.provider.synced, {
      timeout: 20_000,
      what: 'providers reconnected',
    });
    await until(() => observer.text.toString() === writer.text.toString(), { what: 'converged after restart' });
    expect(observer.text.toString().startsWith(acknowledged)).toBe(true);
    expect(observer.text.toString().endsWith('+29')).toBe(true);

    writer.text.insert(0, 'Sau khởi động lại: ');
    await until(() => observer.text.toString().startsWith('Sau khởi động lại: '), { what: 'live after restart' });
  });
});
