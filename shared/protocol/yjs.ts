import { z } from 'zod';
import { LIMITS } from '../limits.js';

/**
 * Yjs document names as they appear after `/yjs/` in the WebSocket URL: lowercase segments
 * separated by `:` (`meeting:12:item:40:notes`, `annotation:7:private:3`, `minutes:12`).
 * The server refuses any other shape with close code 4404 before looking at the registry.
 */
export const YjsDocName = z
  .string()
  .min(1)
  .max(LIMITS.yjs.docNameLength)
  .regex(/^[a-z][a-z0-9_-]*(:[a-z0-9_-]+)*$/, 'invalid document name');
export type YjsDocName = z.infer<typeof YjsDocName>;

/** y-websocket message types (first varUint of every frame). */
export const YJS_MESSAGE = { sync: 0, awareness: 1, auth: 2, queryAwareness: 3 } as const;

/** The collaborative notes of one agenda item: write for meeting managers, read for participants. */
export const itemNotesDocName = (meetingId: number, itemId: number) => `meeting:${meetingId}:item:${itemId}:notes`;

/**
 * The Y.XmlFragment inside an item-notes document that holds the notes as rich text (the TipTap /
 * ProseMirror schema of StarterKit, bound with @tiptap/extension-collaboration, as the minutes).
 */
export const ITEM_NOTES_FIELD = 'notes';
