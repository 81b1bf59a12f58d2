import { EventEmitter } from 'node:events';
import type { Q, Store } from './db/store.js';

/**
 * How an event reached this process. `remote`: another server node made the change and this node heard it from the
 * database (server/cluster/outbox.ts); the node that made it already did the writes derived from it (search
 * re-index, follow-up item), so a listener that writes skips a remote event, and one that acts on this node's own
 * sockets, documents or media acts on it like on a local one.
 */
export interface EventMeta {
  remote: boolean;
}

/**
 * Facts that committed domain changes announce in-process, after the transaction. Realtime
 * transports subscribe; services never import a transport. The second argument is given only to an event
 * delivered from another node (`{ remote: true }`).
 */
export interface DomainEvents {
  'agenda:changed': [{ meetingId: number; version: number }, meta?: EventMeta];
  /**
   * A meeting changed (edited, published, participants, status). `removedUserIds`: participants taken off
   * the list by this change — the realtime hub tells every socket of theirs, joined to the meeting or not.
   */
  'meeting:changed': [{ meetingId: number; removedUserIds?: number[] }, meta?: EventMeta];
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
  'document:changed': [{ documentId: number; meetingId: number; change: 'version' | 'access' | 'removed' }, meta?: EventMeta];
  /**
   * Sessions ended (server/auth, server/users): one by logout (`tokenHash`), or every session of a user
   * (`userId`: deactivation, password reset). Realtime transports close the connections they carried.
   */
  'session:ended': [{ tokenHash: string } | { userId: number }, meta?: EventMeta];
  /** A vote was created, opened, extended, closed or announced (server/votes), after the commit. */
  'vote:changed': [{ meetingId: number; voteId: number; state: 'draft' | 'open' | 'closed' | 'announced' | 'annulled' }];
}

/**
 * The events other server nodes must hear (issue #18): each is about state those nodes hold — a meeting's room and
 * sockets, its Yjs documents and media on its owner node, a user's sockets and Yjs connections on any node. The
 * others (presence, floor, vote) are made by the meeting's owner node, where everything that listens to them lives.
 */
export const SHARED_EVENTS = ['meeting:changed', 'agenda:changed', 'session:ended', 'document:changed'] as const;
export type SharedEvent = (typeof SHARED_EVENTS)[number];

/** What a row of the outbox carries: a shared domain event, or the `created` signal of the notifier. */
export type OutboxTopic = SharedEvent | 'notifications:created';

/** Writes one outbox row in the transaction `q` (server/cluster/outbox.ts; set in cluster mode only). */
export type OutboxWriter = (q: Q, topic: OutboxTopic, payload: object) => Promise<void>;

/**
 * The in-process bus. Listeners must not throw into the emitter; work a listener derives from a change
 * (re-indexing the agenda, the committee's follow-up agenda item) goes through `queue`, so that it is
 * serial per key and the HTTP layer can wait for it (`idle`) before answering the request that caused it.
 */
export class EventBus extends EventEmitter<DomainEvents> {
  /** Per key: the last queued run (settled, never rejects) and whether a run is queued but not yet started. */
  private readonly tails = new Map<string, { tail: Promise<void>; waiting: Promise<void> | null }>();
  private readonly pending = new Set<Promise<void>>();
  private outbox: OutboxWriter | null = null;

  /** Cluster mode: `share` writes its events into the database's outbox through `writer` (server/cluster/outbox.ts). */
  setOutbox(writer: OutboxWriter | null): void {
    this.outbox = writer;
  }

  /**
   * Records, inside the change's transaction `q`, an event that other server nodes must hear; they deliver it
   * once that transaction commits, never if it rolls back. The caller still `emit`s it after the commit, for this
   * process (as fast as ever). Single-node deployments have no outbox: this does nothing.
   */
  async share<K extends SharedEvent>(q: Q, name: K, payload: DomainEvents[K][0]): Promise<void> {
    if (this.outbox) await this.outbox(q, name, payload);
  }

  /**
   * `change` (one write that needs no transaction of its own: ending a session) and, in cluster mode, the event's
   * outbox row in one transaction with it. A single node runs `change` alone, as before: no transaction added.
   */
  async shareWith<K extends SharedEvent, T>(store: Pick<Store, 'tx'>, name: K, payload: DomainEvents[K][0], change: () => Promise<T>): Promise<T> {
    if (!this.outbox) return await change();
    return await store.tx(async (q) => {
      const result = await change();
      await this.share(q, name, payload);
      return result;
    });
  }

  /** Whether the events shared here go to other nodes (cluster mode). */
  get shared(): boolean {
    return this.outbox !== null;
  }

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
