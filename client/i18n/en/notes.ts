import type { Catalog } from './catalog.js';

/** English for collaborative item notes (client/components/ec-item-notes*.ts). */
export const notes: Catalog = {
  'notes.title': 'Notes by agenda item',
  'notes.item': 'Agenda item',
  'notes.noItems': 'The agenda has no items yet.',
  'notes.label': 'Item notes',
  'notes.synced': 'Synced',
  'notes.syncing': 'Syncing…',
  'notes.connecting': 'Connecting…',
  'notes.offline': 'Offline — reconnecting',
  'notes.signedOut': 'Your session has ended',
  'notes.forbidden': 'You do not have access to these notes',
  'notes.failed': 'The notes could not be opened',
  'notes.bold': 'Bold',
  'notes.italic': 'Italic',
  'notes.list': 'List',
  'notes.loading': 'Loading notes…',
  'notes.readOnly': 'Only the meeting secretaries can edit the notes; you are following them live.',
};
