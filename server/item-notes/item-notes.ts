import { and, eq } from 'drizzle-orm';
import { agendaItems } from '../db/tables.js';
import { meetingAccess } from '../meetings/meetings.access.js';
import { type YjsDocKind, docPattern } from '../yjs/yjs.registry.js';

/**
 * Collaborative notes of one agenda item, `meeting:<meetingId>:item:<itemId>:notes` (a Y.Text
 * named `notes`, see shared/protocol/yjs.ts). Written by those who manage the meeting (admin,
 * committee or meeting secretaries), read by every participant who may see the meeting, refused
 * for everyone else and for an item that is not in that meeting.
 */
export const itemNotesKind: YjsDocKind<{ meetingId: number; itemId: number }> = {
  kind: 'item-notes',
  parse: docPattern<'meetingId' | 'itemId'>('meeting:{meetingId}:item:{itemId}:notes'),
  async access(user, { meetingId, itemId }, store) {
    const a = await meetingAccess(store, user, meetingId);
    const [item] = await store.q
      .select({ id: agendaItems.id })
      .from(agendaItems)
      .where(and(eq(agendaItems.id, itemId), eq(agendaItems.meetingId, meetingId)))
      .limit(1);
    if (!item) return 'none';
    return a.canManage ? 'write' : 'read';
  },
};
