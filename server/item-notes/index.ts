import type { ServerModule } from '../context.js';
import { itemNotesKind } from './item-notes.js';

/** Collaborative notes of an agenda item: one Yjs document kind, no routes. */
export const itemNotesModule: ServerModule = { name: 'item-notes', yjsDocs: [itemNotesKind] };
