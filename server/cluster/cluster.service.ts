import { AsyncLocalStorage } from 'node:async_hooks';
import type { Config } from '../config.js';
import { type Q, type Store, txScope } from '../db/store.js';
import { AppError } from '../http/errors.js';
import type { Logger } from '../log.js';
import { acquireLease, leaseHolds, listOwners, releaseLeases, renewLeases } from './cluster.repo.js';

export { listOwners, type MeetingOwner } from './cluster.repo.js';

/** Refusal of a node that does not own the meeting (`details.nodeId`: the owner, null when none): the client retries, through HAProxy, on the owner. */
export function notOwner(meetingId: number, nodeId: string | null): AppError {
  return new AppError('not_owner', `Meeting ${meetingId} is run by another server node; retry`, 409, { nodeId });
}

type Listener = (meetingId: number) => void | Promise<void>;

/**
 * The async context of no call chain (taken when this module loads): a lease acquisition runs in it, whoever
 * asked first. Run in the first caller's context, it inherited that caller's transaction scope (the lease taken
 * in its transaction, rolled back with it while `owned` said owned) and its command scope (an overdue vote that
 * the acquisition hooks close would record that caller's command id as its own).
 */
const noCallChain = AsyncLocalStorage.snapshot();

/**
 * Which meetings this node runs (issue #18): in cluster mode (`config.cluster.nodeId`) a meeting has one
 * owner node at a time, held by a lease in PostgreSQL (server/cluster/cluster.repo.ts) that the owner renews
 * about every third of `config.cluster.leaseMs`. The owner runs the meeting's realtime state, vote timers and
 * ballot batches; every write of them checks the lease in its own transaction ({@link fence}), so a former
 * owner (paused past its lease, cut off from the database) cannot write once another node took over, and
 * steps down as soon as it learns it lost the lease (a failed renewal or fence): the listeners registered
 * with {@link onLost} close the meeting's sockets and stop its timers.
 *
 * Outside cluster mode (one process, SQLite or PostgreSQL) the node owns every meeting: {@link claim} and
 * {@link fence} do nothing and no lease is ever read or written.
 */
export class MeetingOwnership {
  readonly enabled: boolean;
  readonly nodeId: string | null;
  private readonly leaseMs: number;
  /** Meetings this node owns, with their lease epoch. */
  private readonly owned = new Map<number, number>();
  private readonly acquiring = new Map<number, Promise<number>>();
  private readonly acquired: Listener[] = [];
  private readonly lost: Listener[] = [];
  private readonly releasing: Listener[] = [];
  private timer: NodeJS.Timeout | null = null;
  /** When (this node's monotonic clock) the last renewal that succeeded was sent: the leases hold at least `leaseMs` from then. */
  private renewedAt = 0;
  private renewing: Promise<void> | null = null;
  private stopped = false;

  constructor(private readonly ctx: { store: Store; config: Config; log: Logger }) {
    this.nodeId = ctx.config.cluster.nodeId;
    this.enabled = this.nodeId !== null;
    this.leaseMs = ctx.config.cluster.leaseMs;
  }

  /** Runs when this node becomes a meeting's owner, before the `meeting:join` that claimed it answers (the votes module resumes the meeting's timed votes). */
  onAcquired(fn: Listener): void {
    this.acquired.push(fn);
  }

  /** Runs when this node stops owning a meeting (lease lost, or the node stopping): close its sockets, stop its timers, drop its state. */
  onLost(fn: Listener): void {
    this.lost.push(fn);
  }

  /**
   * Runs when the node is stopping, for each meeting it owns, before it steps down and releases the lease —
   * while the lease still holds, so what is left to write is written under it (the Yjs hub commits the
   * meeting's documents and runs their change hooks, as one node does when it stops).
   */
  onReleasing(fn: Listener): void {
    this.releasing.push(fn);
  }

  /** The lease epoch of a meeting this node owns; null when it does not (outside cluster mode: 0 for every meeting). */
  epoch(meetingId: number): number | null {
    if (!this.enabled) return 0;
    return this.owned.get(meetingId) ?? null;
  }

  /** Meetings this node owns now (cluster mode). */
  meetings(): number[] {
    return [...this.owned.keys()];
  }

  /**
   * Makes sure this node owns the meeting: owned already, or a free or expired lease taken now (the
   * {@link onAcquired} listeners run before this resolves). @returns the lease epoch (0 outside cluster mode).
   * @throws not_owner (another node holds an unexpired lease)
   */
  async claim(meetingId: number): Promise<number> {
    if (!this.enabled) return 0;
    const have = this.owned.get(meetingId);
    if (have !== undefined) return have;
    if (this.stopped) throw notOwner(meetingId, null);
    // Awaited inside a transaction, the acquisition could never end: its hooks (an overdue vote's close, the
    // ballot batch it flushes) need the transaction turn this call chain holds. A programming error: refused loudly.
    if (txScope.getStore()?.committed) throw new Error(`MeetingOwnership.claim(${meetingId}) inside a transaction: claim before store.tx`);
    let pending = this.acquiring.get(meetingId);
    if (!pending) {
      pending = noCallChain(() => this.acquire(meetingId)).finally(() => this.acquiring.delete(meetingId));
      this.acquiring.set(meetingId, pending);
    }
    return pending;
  }

  private async acquire(meetingId: number): Promise<number> {
    const sent = performance.now();
    const r = await acquireLease(this.ctx.store, meetingId, this.nodeId!, this.leaseMs);
    if (!r.owner) throw notOwner(meetingId, r.nodeId);
    // A renewal cycle that started before this lease was taken must not count for it.
    if (!this.owned.size) this.renewedAt = sent;
    this.owned.set(meetingId, r.epoch);
    this.ctx.log.info({ meetingId, nodeId: this.nodeId, epoch: r.epoch }, 'meeting lease acquired');
    for (const fn of this.acquired) {
      try {
        await fn(meetingId);
      } catch (err) {
        this.ctx.log.error({ err, meetingId }, 'meeting acquisition hook failed');
      }
    }
    return r.epoch;
  }

  /**
   * Inside a write's transaction: the lease still holds, in this node's epoch (by the database's clock,
   * the row held FOR SHARE until the commit, so no takeover lands in between). Nothing outside cluster mode.
   * @throws not_owner (and this node steps down from the meeting)
   */
  async fence(q: Q, meetingId: number): Promise<void> {
    if (!this.enabled) return;
    const epoch = this.owned.get(meetingId);
    if (epoch === undefined) throw notOwner(meetingId, null);
    if (await leaseHolds(q, meetingId, this.nodeId!, epoch)) return;
    this.stepDown(meetingId, epoch, 'fence');
    throw notOwner(meetingId, null);
  }

  /**
   * A write found the lease gone (its fence failed, e.g. in the ballot batch's own statement): this node
   * stops acting as the meeting's owner, if it still thought it was in that epoch.
   */
  stepDown(meetingId: number, epoch: number, why: string): void {
    if (this.owned.get(meetingId) !== epoch) return;
    this.owned.delete(meetingId);
    this.ctx.log.warn({ meetingId, nodeId: this.nodeId, epoch, why }, 'meeting lease lost: stepping down');
    this.notifyLost(meetingId);
  }

  private notifyLost(meetingId: number): void {
    for (const fn of this.lost) {
      try {
        const r = fn(meetingId);
        if (r) r.catch((err: unknown) => this.ctx.log.error({ err, meetingId }, 'meeting step-down hook failed'));
      } catch (err) {
        this.ctx.log.error({ err, meetingId }, 'meeting step-down hook failed');
      }
    }
  }

  /** Starts renewing the leases every third of their length (cluster mode). */
  start(): void {
    if (!this.enabled || this.timer) return;
    const every = Math.max(50, Math.floor(this.leaseMs / 3));
    this.timer = setInterval(() => {
      this.renewing ??= this.renew().finally(() => (this.renewing = null));
    }, every);
    this.timer.unref();
  }

  /**
   * One renewal of every lease held (one statement). A lease not renewed (expired or taken over) is lost at
   * once; when the database cannot be reached, every lease is given up as soon as it may have expired by
   * this node's own clock (measured from the last renewal that succeeded, so a paused process that wakes
   * up late gives up before it writes anything: its writes' fences would fail anyway).
   */
  async renew(): Promise<void> {
    if (!this.owned.size) return;
    const held = [...this.owned].map(([meetingId, epoch]) => ({ meetingId, epoch }));
    const sent = performance.now();
    if (sent - this.renewedAt >= this.leaseMs) {
      for (const l of held) this.stepDown(l.meetingId, l.epoch, 'lease expired before its renewal');
      return;
    }
    let kept: Set<number>;
    try {
      kept = await renewLeases(this.ctx.store, this.nodeId!, held, this.leaseMs);
    } catch (err) {
      this.ctx.log.error({ err }, 'meeting lease renewal failed');
      if (performance.now() - this.renewedAt >= this.leaseMs) for (const l of held) this.stepDown(l.meetingId, l.epoch, 'renewal failed');
      return;
    }
    this.renewedAt = sent;
    for (const l of held) if (!kept.has(l.meetingId)) this.stepDown(l.meetingId, l.epoch, 'renewal refused');
  }

  /**
   * The node is stopping: no more renewals; every meeting is handed over ({@link onReleasing} listeners, still
   * under the lease), then stepped down from (sockets closed so clients move to another node) and its lease
   * released, so another node takes over at once instead of after the lease expires.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.renewing;
    const held = [...this.owned].map(([meetingId, epoch]) => ({ meetingId, epoch }));
    for (const l of held) {
      for (const fn of this.releasing) {
        try {
          await fn(l.meetingId);
        } catch (err) {
          this.ctx.log.error({ err, meetingId: l.meetingId }, 'meeting hand-over hook failed');
        }
      }
    }
    for (const l of held) this.stepDown(l.meetingId, l.epoch, 'node stopping');
    await releaseLeases(this.ctx.store, this.nodeId!, held).catch((err: unknown) => this.ctx.log.warn({ err }, 'could not release the meeting leases'));
  }

  /** Every meeting lease (meeting, node, epoch, ms until expiry), for the cluster status. */
  list() {
    return listOwners(this.ctx.store);
  }
}

/** The app's meeting ownership (`ctx.ownership`, set by the cluster module's `register`). */
export function ownershipOf(ctx: { ownership?: MeetingOwnership }): MeetingOwnership {
  if (!ctx.ownership) throw new Error('the cluster module is not registered');
  return ctx.ownership;
}
