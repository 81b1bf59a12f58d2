import { expect, it } from 'vitest';
import * as Y from 'yjs';
import type { YjsUpdateStore } from '../../server/yjs/yjs.store.js';

/** What every Yjs update store promises (server/yjs/yjs.store.ts), run on SQLite and PostgreSQL. */
export function yjsStoreContract(open: () => YjsUpdateStore | Promise<YjsUpdateStore>) {
  const update = (text: string, doc = new Y.Doc()) => {
    let u!: Uint8Array;
    doc.once('update', (x: Uint8Array) => (u = x));
    doc.getText('t').insert(doc.getText('t').length, text);
    return u;
  };

  it('appends a batch of several documents in order and loads each document back, byte for byte, oldest first', async () => {
    const s = await open();
    const a = new Y.Doc();
    const b = new Y.Doc();
    const rows = [
      { docName: 'contract:a', data: update('Biên bản ', a) },
      { docName: 'contract:b', data: update('đ', b) },
      { docName: 'contract:a', data: update('cuộc họp', a) },
    ];
    const ids = await s.append(rows);
    expect(ids).toHaveLength(3);
    expect([...ids].sort((x, y) => x - y)).toEqual(ids);
    const loaded = await s.load('contract:a');
    expect(loaded.map((r) => r.id)).toEqual([ids[0], ids[2]]);
    expect(loaded.map((r) => Buffer.from(r.data).toString('hex'))).toEqual([rows[0].data, rows[2].data].map((u) => Buffer.from(u).toString('hex')));
    const rebuilt = new Y.Doc();
    for (const r of loaded) Y.applyUpdate(rebuilt, new Uint8Array(r.data));
    expect(rebuilt.getText('t').toString()).toBe('Biên bản cuộc họp');
    expect(await s.load('contract:none')).toEqual([]);
    expect(await s.append([])).toEqual([]);
  });

  it('replaceAll leaves one row holding the state, newer than every row it replaced, and touches no other document', async () => {
    const s = await open();
    const a = new Y.Doc();
    const ids = await s.append(['Một ', 'hai ', 'ba'].map((t) => ({ docName: 'contract:r', data: update(t, a) })));
    await s.append([{ docName: 'contract:other', data: update('khác') }]);
    const id = await s.replaceAll('contract:r', Y.encodeStateAsUpdate(a));
    expect(id).toBeGreaterThan(Math.max(...ids));
    const rows = await s.load('contract:r');
    expect(rows.map((r) => r.id)).toEqual([id]);
    const rebuilt = new Y.Doc();
    Y.applyUpdate(rebuilt, new Uint8Array(rows[0].data));
    expect(rebuilt.getText('t').toString()).toBe('Một hai ba');
    expect(await s.load('contract:other')).toHaveLength(1);
  });
}
