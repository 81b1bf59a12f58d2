/**
 * Who owns what (#13). Every folder under server/ is either a domain or a shared layer.
 *
 * - A domain owns the tables listed here (SQL names, FTS tables included): only code in its folder
 *   writes them (drizzle `insert`/`update`/`delete`, raw `INSERT`/`UPDATE … SET`/`DELETE FROM`);
 *   another domain that needs a change calls one of the owner's functions. Every table has exactly one
 *   owner. Reads are free (joins across domains stay plain SQL).
 * - Another folder may import a domain's `index.ts`, its `*.service.ts` files and the files it lists in
 *   `public`; everything else in the folder (routes, sockets, repositories, helpers) is internal.
 * - A shared layer (`SHARED_LAYERS`) owns no table and its files are open to all.
 * - The files directly in server/ (app, server, modules, context, config, log, events, main) are the
 *   composition root: they may import any file.
 *
 * test/unit/table-owners.test.ts checks the whole server against this map.
 */
export interface DomainOwnership {
  /** SQL names of the tables this domain alone writes. */
  readonly tables: readonly string[];
  /** Files (besides `index.ts` and `*.service.ts`) other folders may import, with what they offer. */
  readonly public?: readonly string[];
}

export const DOMAINS: Readonly<Record<string, DomainOwnership>> = {
  agenda: { tables: ['agenda_items'] },
  annotations: { tables: ['annotation_items'], public: ['annotations.flatten.ts' /* the PDF worker burns annotations in */] },
  archive: { tables: [] },
  // Several server nodes (#18): the meeting ownership lease (only the lease manager writes it) and the event
  // outbox every node reads (outbox.ts).
  cluster: { tables: ['meeting_owners', 'event_outbox'] },
  audit: { tables: ['audit_log'], public: ['audit.repo.ts' /* audit(): every domain records its changes */, 'audit.chain.ts' /* the hash chain, run by the db client at start */] },
  // The account row holds the credentials (password hash, TOTP secret, forced change): every write to it
  // is a sign-in rule, so the accounts are auth's; the users module (admin routes) calls accounts.service.ts.
  auth: { tables: ['users', 'sessions'], public: ['sessions.ts', 'password.ts', 'password-policy.ts', 'totp.ts'] },
  backup: { tables: [] },
  // Rooms and their station PCs (room_stations: read by the A/V and vote rules) are the rooms directory's.
  committees: { tables: ['committees', 'committee_members', 'rooms', 'room_stations'] },
  consultations: { tables: ['consultations', 'consultation_recipients', 'consultation_answers'], public: ['consultations.pdf.ts'] },
  documents: {
    tables: ['documents', 'document_versions', 'document_pages', 'document_viewers'],
    public: ['documents.access.ts', 'documents.confidential.ts', 'documents.storage.ts', 'pdf.pool.ts'],
  },
  'item-notes': { tables: [] },
  jobs: { tables: ['jobs'], public: ['jobs.ts'] },
  live: { tables: ['attendance', 'speaker_requests', 'live_state'] },
  mail: { tables: [] },
  meetings: { tables: ['meetings', 'meeting_participants'], public: ['meetings.access.ts'] },
  metrics: { tables: [] },
  minutes: { tables: ['minutes_versions', 'minutes_signatures', 'minutes_acks'], public: ['minutes.pdf.ts'] },
  notifications: { tables: ['notifications'] },
  offline: { tables: ['devices'] },
  realtime: { tables: ['realtime_commands'], public: ['hub.ts', 'commands.repo.ts' /* the ballot batch records its commands' acks in its own transaction */] },
  search: { tables: ['search_entries', 'search_fts', 'search_groups', 'search_groups_fts'] },
  seed: { tables: [] },
  sfu: { tables: [] },
  signing: { tables: ['signing_identities', 'signing_ca'], public: ['keystore.ts', 'pdf-sign.ts', 'pdf-stamp.ts'] },
  tasks: { tables: ['conclusions', 'tasks', 'task_co_units', 'task_events', 'task_attachments'], public: ['tasks.access.ts' /* who may see a task: notifications, mail */] },
  users: { tables: [] },
  votes: {
    tables: [
      'votes',
      'vote_eligibility',
      'vote_participation',
      'vote_named_ballots',
      'vote_secret_ballots',
      'vote_sealed_ballots',
      'vote_delegations',
      'vote_committee_settings',
    ],
    public: [
      'votes.rules.ts' /* proxy and eligibility rules the live roll shares */,
      'votes.export.ts' /* CSV/PDF of a vote for the archive */,
      'votes.pdf.ts' /* the PDF worker's vote renderer */,
    ],
  },
  yjs: { tables: ['yjs_updates'], public: ['yjs.hub.ts', 'yjs.registry.ts', 'yjs.filter.ts'] },
};

/** Folders under server/ that own no table and whose files any folder may import. */
export const SHARED_LAYERS: readonly string[] = ['crypto', 'db', 'files', 'http', 'pdf'];

/** The owning domain of each table. */
export const TABLE_OWNERS: ReadonlyMap<string, string> = new Map(Object.entries(DOMAINS).flatMap(([domain, d]) => d.tables.map((t) => [t, domain] as const)));
