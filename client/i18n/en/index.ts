import { account } from './account.js';
import { admin } from './admin.js';
import { agenda } from './agenda.js';
import { annotations } from './annotations.js';
import { app } from './app.js';
import { archive } from './archive.js';
import { av } from './av.js';
import { conclusions } from './conclusions.js';
import type { Catalog } from './catalog.js';
import { documents } from './documents.js';
import { meetings } from './meetings.js';
import { minutes } from './minutes.js';
import { notes } from './notes.js';
import { offline } from './offline.js';
import { search } from './search.js';
import { tasks } from './tasks.js';
import { live } from './live.js';
import { votes } from './votes.js';

/**
 * The English catalog, merged from one file per domain. To add yours: create
 * `client/i18n/en/<domain>.ts` exporting a `Catalog`, and add it to the spread below (one line).
 * Ids are 'domain.key'; test/unit/i18n.test.ts fails when an id used in client/ has no entry here.
 */
export const templates: Catalog = {
  ...annotations,
  ...live,
  ...votes,
  ...app,
  ...documents,
  ...meetings,
  ...agenda,
  ...admin,
  ...av,
  ...notes,
  ...conclusions,
  ...minutes,
  ...tasks,
  ...offline,
  ...account,
  ...search,
  ...archive,
};
