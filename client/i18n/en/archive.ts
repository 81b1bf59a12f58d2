import { str } from '@lit/localize';
import type { Catalog } from './catalog.js';

/** English for the meeting archive (ec-meeting-archive). */
export const archive: Catalog = {
  'archive.title': 'Meeting archive',
  'archive.hint': 'One compressed file with the signed minutes, the documents as distributed, the vote results (CSV and PDF), attendance, the audit log and a table of SHA-256 checksums.',
  'archive.loadFailed': 'Could not load the archive information.',
  'archive.notClosed': 'Only a closed meeting can be archived.',
  'archive.startFailed': 'Could not create the archive. Try again.',
  'archive.progressLabel': 'Packaging progress',
  'archive.building': str`Packaging: ${0}/${1} parts`,
  'archive.queued': 'Waiting to be packaged…',
  'archive.download': str`Download the archive (${0})`,
  'archive.rebuild': 'Create again',
  'archive.madeAt': str`Created ${0}`,
  'archive.failed': 'Packaging failed.',
  'archive.start': 'Create the archive',
};
