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

/**
 * The in-process bus. Listeners must not throw into the emitter; work a listener derives from a change
 * (re-indexing the agenda, the committee's follow-up agenda item) goes through `queue`, so that it is
 * serial per key and the HTTP layer can wait for it (`idle`) before answering the request that caused it.
 */
export class EventBus extends EventEmitter<DomainEvents> {
  /** Per key: the last queued run (settled, never rejects) and whether a run is queued but not yet started. */
  private readonly tails = new Map<string, { tail: Promise<void>; waiting: Promise<void> | null }>();
  private readonly pending = new Set<Promise<void>>();

  /**
   * Runs `fn` after every earlier run queued under `key` has settled. Two runs of one key never overlap: on
   * PostgreSQL two concurrent re-indexes of one meeting, or two refreshes of one committee's follow-up item,
   * each delete-then-insert in their own transaction and collide (a unique violation, a second follow-up
   * item). `fn` must read the state it works from when it starts: a run queued while another of its key is
   * still waiting to start joins that one, which will see this change too. The returned promise rejects with
   * `fn`'s error (the caller logs it); the queue goes on.
   */
  queue(key: string, fn: () => Promise<void>): Promise<void> {
    const slot = this.tails.get(key);
    if (slot?.waiting) return slot.waiting;
    const entry = { tail: Promise.resolve(), waiting: null as Promise<void> | null };
    const run = (slot?.tail ?? Promise.resolve()).then(() => {
      entry.waiting = null;
      return fn();
    });
    entry.waiting = run;
    entry.tail = run.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, entry);
    this.pending.add(entry.tail);
    void entry.tail.then(() => {
      this.pending.delete(entry.tail);
      if (this.tails.get(key) === entry) this.tails.delete(key);
    });
    return run;
  }

  /**
   * Resolves once the work queued so far, and the work it queued in turn (a follow-up item re-indexed), has
   * settled; never rejects. Unrelated work queued meanwhile does not hold it up beyond a few rounds.
   */
  async idle(): Promise<void> {
    for (let round = 0; round < 4 && this.pending.size; round++) await Promise.all([...this.pending]);
  }
}
