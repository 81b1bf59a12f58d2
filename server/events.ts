import { EventEmitter } from 'node:events';

/**
 * Facts that committed domain changes announce in-process, after the transaction. Realtime
 * transports subscribe; services never import a transport.
 */
export interface DomainEvents {
  'agenda:changed': [{ meetingId: number; version: number }];
  /**
   * A meeting changed (edited, published, participants, status). `removedUserIds`: participants taken off
   * the list by this change — the realtime hub tells every socket of theirs, joined to the meeting or not.
   */
  'meeting:changed': [{ meetingId: number; removedUserIds?: number[] }];
  /** A user's first socket joined / last socket left a meeting's room (realtime hub). */
  'presence:changed': [{ meetingId: number; userId: number; online: boolean }];
  /**
   * Who has the floor in a live meeting changed (granted, next, ended, meeting closed): `userId` null =
   * nobody. The SFU ties microphones to it.
   */
  'floor:changed': [{ meetingId: number; userId: number | null; requestId: number | null; kind: 'speech' | 'question' | 'point_of_order' | null; startedAt: number | null; allottedSeconds: number | null }];
  /**
   * A document got a new version (`version`), its access/viewers/publication/title changed (`access`) or it was
   * removed (`removed`) — server/documents, after the commit. The annotation layers carry items to the new version
   * and re-check their connections.
   */
  'document:changed': [{ documentId: number; meetingId: number; change: 'version' | 'access' | 'removed' }];
  /**
   * Sessions ended (server/auth, server/users): one by logout (`tokenHash`), or every session of a user
   * (`userId`: deactivation, password reset). Realtime transports close the connections they carried.
   */
  'session:ended': [{ tokenHash: string } | { userId: number }];
  /** A vote was created, opened, extended, closed or announced (server/votes), after the commit. */
  'vote:changed': [{ meetingId: number; voteId: number; state: 'draft' | 'open' | 'closed' | 'announced' | 'annulled' }];
}

export class EventBus extends EventEmitter<DomainEvents> {}
