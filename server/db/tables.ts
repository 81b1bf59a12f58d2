import * as pg from './pg/index.js';
import * as sqlite from './schema/index.js';

/**
 * The tables domain code queries, of the dialect this process runs on (issue #17). Each is typed as its
 * SQLite definition (server/db/schema/) — the two dialects' twins have the same names, columns and
 * JavaScript values (test/unit/schema-drift.test.ts) — and is, once `useDialect('postgres')` ran, the
 * PostgreSQL twin (server/db/pg/). Queries built from them run on the store's query builder (`store.q`,
 * server/db/store.ts), which is of the same dialect.
 *
 * One dialect per process: the store is opened once at start (server/main.ts, or a test run's setup),
 * before any query; `useDialect` refuses to switch once a store of the other dialect was opened. The
 * tools that read both (scripts/db-copy.ts, the drift test) import the dialects' schema files directly.
 */
export type Dialect = 'sqlite' | 'postgres';

let current: Dialect | null = null;

/** Fixes this process's dialect; throws when a store of the other one was already opened. */
export function useDialect(dialect: Dialect): void {
  if (current === dialect) return;
  if (current !== null) throw new Error(`this process already runs on ${current}: one dialect per process`);
  current = dialect;
  if (dialect === 'postgres') bindPostgres();
}

/** The dialect fixed so far (null before the first store opened). */
export function dialectInUse(): Dialect | null {
  return current;
}

type SqliteSchema = typeof sqlite;

export let auditLog: SqliteSchema['auditLog'] = sqlite.auditLog;
export let sessions: SqliteSchema['sessions'] = sqlite.sessions;
export let users: SqliteSchema['users'] = sqlite.users;
export let committeeMembers: SqliteSchema['committeeMembers'] = sqlite.committeeMembers;
export let committees: SqliteSchema['committees'] = sqlite.committees;
export let rooms: SqliteSchema['rooms'] = sqlite.rooms;
export let agendaItems: SqliteSchema['agendaItems'] = sqlite.agendaItems;
export let meetingParticipants: SqliteSchema['meetingParticipants'] = sqlite.meetingParticipants;
export let meetings: SqliteSchema['meetings'] = sqlite.meetings;
export let notifications: SqliteSchema['notifications'] = sqlite.notifications;
export let realtimeCommands: SqliteSchema['realtimeCommands'] = sqlite.realtimeCommands;
export let documentPages: SqliteSchema['documentPages'] = sqlite.documentPages;
export let documentVersions: SqliteSchema['documentVersions'] = sqlite.documentVersions;
export let documentViewers: SqliteSchema['documentViewers'] = sqlite.documentViewers;
export let documents: SqliteSchema['documents'] = sqlite.documents;
export let searchEntries: SqliteSchema['searchEntries'] = sqlite.searchEntries;
export let searchGroups: SqliteSchema['searchGroups'] = sqlite.searchGroups;
export let yjsUpdates: SqliteSchema['yjsUpdates'] = sqlite.yjsUpdates;
export let signingCa: SqliteSchema['signingCa'] = sqlite.signingCa;
export let signingIdentities: SqliteSchema['signingIdentities'] = sqlite.signingIdentities;
export let jobs: SqliteSchema['jobs'] = sqlite.jobs;
export let conclusions: SqliteSchema['conclusions'] = sqlite.conclusions;
export let taskAttachments: SqliteSchema['taskAttachments'] = sqlite.taskAttachments;
export let taskCoUnits: SqliteSchema['taskCoUnits'] = sqlite.taskCoUnits;
export let taskEvents: SqliteSchema['taskEvents'] = sqlite.taskEvents;
export let tasks: SqliteSchema['tasks'] = sqlite.tasks;
export let minutesAcks: SqliteSchema['minutesAcks'] = sqlite.minutesAcks;
export let minutesSignatures: SqliteSchema['minutesSignatures'] = sqlite.minutesSignatures;
export let minutesVersions: SqliteSchema['minutesVersions'] = sqlite.minutesVersions;
export let roomStations: SqliteSchema['roomStations'] = sqlite.roomStations;
export let annotationItems: SqliteSchema['annotationItems'] = sqlite.annotationItems;
export let consultationAnswers: SqliteSchema['consultationAnswers'] = sqlite.consultationAnswers;
export let consultationRecipients: SqliteSchema['consultationRecipients'] = sqlite.consultationRecipients;
export let consultations: SqliteSchema['consultations'] = sqlite.consultations;
export let voteCommitteeSettings: SqliteSchema['voteCommitteeSettings'] = sqlite.voteCommitteeSettings;
export let voteDelegations: SqliteSchema['voteDelegations'] = sqlite.voteDelegations;
export let voteEligibility: SqliteSchema['voteEligibility'] = sqlite.voteEligibility;
export let voteNamedBallots: SqliteSchema['voteNamedBallots'] = sqlite.voteNamedBallots;
export let voteParticipation: SqliteSchema['voteParticipation'] = sqlite.voteParticipation;
export let voteSealedBallots: SqliteSchema['voteSealedBallots'] = sqlite.voteSealedBallots;
export let voteSecretBallots: SqliteSchema['voteSecretBallots'] = sqlite.voteSecretBallots;
export let votes: SqliteSchema['votes'] = sqlite.votes;
export let attendance: SqliteSchema['attendance'] = sqlite.attendance;
export let liveState: SqliteSchema['liveState'] = sqlite.liveState;
export let meetingOwners: SqliteSchema['meetingOwners'] = sqlite.meetingOwners;
export let speakerRequests: SqliteSchema['speakerRequests'] = sqlite.speakerRequests;
export let devices: SqliteSchema['devices'] = sqlite.devices;
export let eventOutbox: SqliteSchema['eventOutbox'] = sqlite.eventOutbox;

function bindPostgres(): void {
  const twin = pg as unknown as SqliteSchema;
  auditLog = twin.auditLog;
  sessions = twin.sessions;
  users = twin.users;
  committeeMembers = twin.committeeMembers;
  committees = twin.committees;
  rooms = twin.rooms;
  agendaItems = twin.agendaItems;
  meetingParticipants = twin.meetingParticipants;
  meetings = twin.meetings;
  notifications = twin.notifications;
  realtimeCommands = twin.realtimeCommands;
  documentPages = twin.documentPages;
  documentVersions = twin.documentVersions;
  documentViewers = twin.documentViewers;
  documents = twin.documents;
  searchEntries = twin.searchEntries;
  searchGroups = twin.searchGroups;
  yjsUpdates = twin.yjsUpdates;
  signingCa = twin.signingCa;
  signingIdentities = twin.signingIdentities;
  jobs = twin.jobs;
  conclusions = twin.conclusions;
  taskAttachments = twin.taskAttachments;
  taskCoUnits = twin.taskCoUnits;
  taskEvents = twin.taskEvents;
  tasks = twin.tasks;
  minutesAcks = twin.minutesAcks;
  minutesSignatures = twin.minutesSignatures;
  minutesVersions = twin.minutesVersions;
  roomStations = twin.roomStations;
  annotationItems = twin.annotationItems;
  consultationAnswers = twin.consultationAnswers;
  consultationRecipients = twin.consultationRecipients;
  consultations = twin.consultations;
  voteCommitteeSettings = twin.voteCommitteeSettings;
  voteDelegations = twin.voteDelegations;
  voteEligibility = twin.voteEligibility;
  voteNamedBallots = twin.voteNamedBallots;
  voteParticipation = twin.voteParticipation;
  voteSealedBallots = twin.voteSealedBallots;
  voteSecretBallots = twin.voteSecretBallots;
  votes = twin.votes;
  attendance = twin.attendance;
  liveState = twin.liveState;
  meetingOwners = twin.meetingOwners;
  speakerRequests = twin.speakerRequests;
  devices = twin.devices;
  eventOutbox = twin.eventOutbox;
}
