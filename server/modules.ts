import { agendaModule } from './agenda/index.js';
import { annotationsModule } from './annotations/index.js';
import { archiveModule } from './archive/index.js';
import { authModule } from './auth/index.js';
import { backupModule } from './backup/index.js';
import { clusterModule } from './cluster/index.js';
import { outboxModule } from './cluster/outbox.js';
import { committeesModule } from './committees/index.js';
import type { ServerModule } from './context.js';
import { consultationsModule } from './consultations/index.js';
import { documentsModule } from './documents/index.js';
import { itemNotesModule } from './item-notes/index.js';
import { jobsModule } from './jobs/index.js';
import { liveModule } from './live/index.js';
import { mailModule } from './mail/index.js';
import { meetingsModule } from './meetings/index.js';
import { metricsModule } from './metrics/index.js';
import { minutesModule } from './minutes/index.js';
import { notificationsModule } from './notifications/index.js';
import { offlineModule } from './offline/index.js';
import { searchModule } from './search/index.js';
import { sfuModule } from './sfu/index.js';
import { signingModule } from './signing/index.js';
import { tasksModule } from './tasks/index.js';
import { usersModule } from './users/index.js';
import { votesModule } from './votes/index.js';

/**
 * Every module of the server, in order (see `ServerModule` in server/context.ts). A new domain is a
 * folder with an `index.ts` and one line here.
 *
 * The order is the order of registration (REST routes and OpenAPI, Yjs kinds, job kinds, bus
 * listeners), of the Socket.IO parts (the `meeting:join` snapshot lists `live` before `votes`) and of
 * `start`; the server stops them in reverse. So: the SFU first (its signaling needs only the hub; it
 * stops after everything that may still use A/V), then the job runner (started after every kind is
 * registered, stopped after the domains that enqueue), the domains, and metrics last (it reads what
 * the others set up).
 */
export const MODULES: ServerModule[] = [
  sfuModule,
  jobsModule,
  clusterModule,
  authModule,
  usersModule,
  committeesModule,
  meetingsModule,
  agendaModule,
  liveModule,
  notificationsModule,
  itemNotesModule,
  signingModule,
  tasksModule,
  minutesModule,
  documentsModule,
  searchModule,
  votesModule,
  consultationsModule,
  annotationsModule,
  offlineModule,
  mailModule,
  archiveModule,
  backupModule,
  outboxModule,
  metricsModule,
];
