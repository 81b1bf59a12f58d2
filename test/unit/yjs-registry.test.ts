import { describe, expect, it } from 'vitest';
import { YjsDocName } from '../../shared/protocol/yjs.js';
import { DocKindRegistry, docPattern } from '../../server/yjs/yjs.registry.js';

describe('Yjs document kinds', () => {
  const notes = docPattern<'meetingId' | 'itemId'>('meeting:{meetingId}:item:{itemId}:notes');

  it('docPattern parses integer fields and refuses anything else', () => {
    expect(notes('meeting:12:item:40:notes')).toEqual({ meetingId: 12, itemId: 40 });
    for (const bad of ['meeting:0:item:1:notes', 'meeting:01:item:1:notes', 'meeting:1:item:-1:notes', 'meeting:1:item:1:notes:x', 'xmeeting:1:item:1:notes', 'meeting:1:item:1e3:notes', `meeting:${'9'.repeat(16)}:item:1:notes`, 'meeting:1.5:item:1:notes']) {
      expect(notes(bad), bad).toBeNull();
    }
  });

  it('the registry resolves a name to the first kind that accepts it, and treats a throwing (or rejecting) access rule as none', async () => {
    const r = new DocKindRegistry();
    r.register({ kind: 'item-notes', parse: notes, access: () => 'write' });
    r.register({ kind: 'minutes', parse: docPattern<'meetingId'>('minutes:{meetingId}'), access: () => { throw new Error('404'); } });
    expect(() => r.register({ kind: 'minutes', parse: () => null, access: () => 'read' })).toThrow();
    const m = r.resolve('minutes:7')!;
    expect(m.kind.kind).toBe('minutes');
    expect(m.parsed).toEqual({ meetingId: 7 });
    expect(await r.access(m.kind, { id: 1 } as never, m.parsed, {} as never)).toBe('none');
    r.register({ kind: 'rejecting', parse: docPattern<'meetingId'>('rejecting:{meetingId}'), access: async () => Promise.reject(new Error('404')) });
    const rej = r.resolve('rejecting:3')!;
    expect(await r.access(rej.kind, { id: 1 } as never, rej.parsed, {} as never)).toBe('none');
    expect(r.resolve('minutes:7:x')).toBeNull();
    expect(r.resolve('meeting:1:item:2:notes')?.kind.kind).toBe('item-notes');
  });

  it('document names are lowercase colon-separated segments of bounded length', () => {
    expect(YjsDocName.safeParse('annotation:3:private:9').success).toBe(true);
    for (const bad of ['', 'A:1', 'a::1', 'a:1/2', 'a:1 ', ':a', 'a'.repeat(201), 'a:%2e%2e']) expect(YjsDocName.safeParse(bad).success, bad).toBe(false);
  });
});
