import type { AppContext, ServerModule } from '../context.js';
import { MeetingOwnership, ownershipOf } from './cluster.service.js';

declare module '../context.js' {
  interface DomainServices {
    /** Which meetings this node runs (server/cluster/cluster.service.ts); `ownershipOf(ctx)` reads it. */
    ownership?: MeetingOwnership;
  }
}

/**
 * Several server nodes (issue #18): the meeting ownership lease. Registered before the domains that write a
 * meeting's authoritative state (live, votes) so they find `ctx.ownership`; it stops after them (modules stop
 * in reverse), when their last writes are committed under the lease, and then releases the leases.
 */
export const clusterModule: ServerModule = {
  name: 'cluster',
  register(ctx) {
    const own = new MeetingOwnership(ctx);
    ctx.ownership = own;
    // A meeting's Yjs documents follow its owner too (admitted, written and dropped with the lease).
    if (own.enabled) ctx.yjs.useOwnership(own);
  },
  start(ctx) {
    const own = ownershipOf(ctx);
    own.start();
    const watch = own.enabled ? watchTxTurn(ctx) : null;
    return {
      stop: () => {
        if (watch) clearInterval(watch);
        return own.stop();
      },
    };
  },
};

/** How long one transaction may hold a node's turn before the node says so in its log. */
const STALL_MS = 5000;
/** How many call chains may wait for the turn before the node says so. */
const QUEUE_WARN = 50;

/**
 * A cluster node logs a transaction that holds its turn (server/db/store.ts TxGate) for more than {@link STALL_MS}:
 * who (the label its caller gave), for how long, how many wait. Every other write of the node waits behind it
 * while PostgreSQL shows only an idle transaction — the failover drill prints the nodes' logs when a round hangs.
 * Once per holder, again every further {@link STALL_MS} it lasts.
 */
function watchTxTurn(ctx: AppContext): NodeJS.Timeout {
  let reported = 0;
  let queueReportedAt = 0;
  const timer = setInterval(() => {
    const h = ctx.store.txHolder?.();
    // A long queue of short transactions stalls the node as surely (its /readyz probe waits in it too): said at most every STALL_MS.
    if (h && h.waiting >= QUEUE_WARN && performance.now() - queueReportedAt >= STALL_MS) {
      queueReportedAt = performance.now();
      ctx.log.warn({ holder: h.label, heldMs: h.heldMs, waiting: h.waiting, nodeId: ctx.config.cluster.nodeId }, 'many call chains wait for this node’s transaction turn');
    }
    if (!h || h.heldMs < STALL_MS) {
      reported = 0;
      return;
    }
    if (h.heldMs < reported) reported = 0; // another holder since the last report
    if (reported && h.heldMs - reported < STALL_MS) return;
    reported = h.heldMs;
    ctx.log.warn({ holder: h.label, heldMs: h.heldMs, waiting: h.waiting, nodeId: ctx.config.cluster.nodeId }, 'a transaction has held this node’s turn for long');
  }, 1000);
  timer.unref();
  return timer;
}
