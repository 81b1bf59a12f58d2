import { str } from '@lit/localize';
import type { Catalog } from './catalog.js';

/** English for the 'offline.*' messages. */
export const offline: Catalog = {
  'offline.download': 'Download for offline reading',
  'offline.progress': str`Downloading to this device: ${0}%`,
  'offline.progressLabel': 'Download progress',
  'offline.quota': 'Not enough storage on this device: the download did not finish, the meeting is not available offline.',
  'offline.networkFailed': 'The connection dropped during the download: not available offline yet.',
  'offline.failed': 'The download failed: not available offline yet.',
  'offline.retry': 'Try again',
  'offline.ready': str`Ready offline · ${0}`,
  'offline.remove': 'Remove from this device',
  'offline.excluded': str`${0} confidential document(s) can only be viewed online and are not stored on this device.`,
  'offline.updated': str`Offline copy updated to the new version: ${0}`,
  'offline.dismiss': 'Close',
  'offline.auto': 'Download the next days’ meetings automatically',
};
