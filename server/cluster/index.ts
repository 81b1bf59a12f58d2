import type { ServerModule } from '../context.js';
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
    return { stop: () => own.stop() };
  },
};
