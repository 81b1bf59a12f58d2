import { sql } from 'drizzle-orm';
import type { NodePgDatabase } from 'drizzle-orm/node-postgres';
import type { Q, Store } from '../db/store.js';

/*
 * The meeting ownership lease on PostgreSQL (issue #18). Every time is the database's (`now()`), never a
 * node's clock: two nodes whose clocks disagree still agree on who holds a lease. Cluster mode runs only on
 * PostgreSQL (server/config.ts refuses a node id without DATABASE_URL), so there is no SQLite branch.
 */

const pg = (q: Q | Store['q']) => q as unknown as NodePgDatabase;
const interval = (ms: number) => sql`make_interval(secs => ${ms / 1000})`;

/** What an acquisition found: the lease is ours with this epoch, or another node holds it. */
export type Acquired = { owner: true; epoch: number } | { owner: false; nodeId: string | null };

/**
 * Takes a meeting's lease when it is free, expired or already this node's (a restarted node under the same
 * id: its former process is gone or fenced by the new epoch). Every acquisition makes a new epoch, so a
 * write still in flight under the former one fails its fence.
 */
export async function acquireLease(store: Store, meetingId: number, nodeId: string, ttlMs: number): Promise<Acquired> {
  const { rows } = await pg(store.q).execute<{ epoch: number }>(sql`
    INSERT INTO meeting_owners (meeting_id, node_id, epoch, expires_at) VALUES (${meetingId}, ${nodeId}, 1, now() + ${interval(ttlMs)})
    ON CONFLICT (meeting_id) DO UPDATE SET node_id = excluded.node_id, epoch = meeting_owners.epoch + 1, expires_at = excluded.expires_at
     WHERE meeting_owners.expires_at <= now() OR meeting_owners.node_id = excluded.node_id
    RETURNING epoch`);
  if (rows[0]) return { owner: true, epoch: Number(rows[0].epoch) };
  const { rows: held } = await pg(store.q).execute<{ node_id: string }>(sql`SELECT node_id FROM meeting_owners WHERE meeting_id = ${meetingId}`);
  return { owner: false, nodeId: held[0]?.node_id ?? null };
}

/**
 * Extends the leases this node holds (one statement for all): @returns the meetings still held. A lease
 * that expired meanwhile, or was taken over (another epoch), is not extended: the node lost it.
 */
export async function renewLeases(store: Store, nodeId: string, leases: { meetingId: number; epoch: number }[], ttlMs: number): Promise<Set<number>> {
  if (!leases.length) return new Set();
  const { rows } = await pg(store.q).execute<{ meeting_id: number }>(sql`
    UPDATE meeting_owners o SET expires_at = now() + ${interval(ttlMs)}
      FROM unnest(${sql.param(leases.map((l) => l.meetingId))}::int[], ${sql.param(leases.map((l) => l.epoch))}::int[]) AS l(meeting_id, epoch)
     WHERE o.meeting_id = l.meeting_id AND o.epoch = l.epoch AND o.node_id = ${nodeId} AND o.expires_at > now()
    RETURNING o.meeting_id`);
  return new Set(rows.map((r) => Number(r.meeting_id)));
}

/** Gives a lease up (a node stopping or stepping down): expired now, so another node takes it at once; the epoch stays for the next owner to raise. */
export async function releaseLeases(store: Store, nodeId: string, leases: { meetingId: number; epoch: number }[]): Promise<void> {
  if (!leases.length) return;
  await pg(store.q).execute(sql`
    UPDATE meeting_owners o SET expires_at = now()
      FROM unnest(${sql.param(leases.map((l) => l.meetingId))}::int[], ${sql.param(leases.map((l) => l.epoch))}::int[]) AS l(meeting_id, epoch)
     WHERE o.meeting_id = l.meeting_id AND o.epoch = l.epoch AND o.node_id = ${nodeId}`);
}

/**
 * The fence, inside a write's transaction: the lease is still this node's, in this epoch, and unexpired by
 * the database's clock. FOR SHARE holds the row until the transaction ends, so a takeover (an UPDATE of the
 * row) waits for this write to commit: no write of a former owner lands after the new owner started.
 * @returns whether the lease holds.
 */
export async function leaseHolds(q: Q, meetingId: number, nodeId: string, epoch: number): Promise<boolean> {
  const { rows } = await pg(q).execute(sql`
    SELECT 1 FROM meeting_owners WHERE meeting_id = ${meetingId} AND node_id = ${nodeId} AND epoch = ${epoch} AND expires_at > now() FOR SHARE`);
  return rows.length > 0;
}

/** One meeting's lease as the status command shows it. */
export interface MeetingOwner {
  meetingId: number;
  nodeId: string;
  epoch: number;
  /** Milliseconds until the lease expires by the database's clock (≤ 0: expired, free to take). */
  expiresInMs: number;
}

/** Every meeting lease, by meeting (PostgreSQL; on SQLite there is no cluster and no lease). */
export async function listOwners(store: Store): Promise<MeetingOwner[]> {
  if (store.dialect !== 'postgres') return [];
  const { rows } = await pg(store.q).execute<{ meeting_id: number; node_id: string; epoch: number; expires_in_ms: string }>(sql`
    SELECT meeting_id, node_id, epoch, floor(extract(epoch FROM expires_at - now()) * 1000) AS expires_in_ms FROM meeting_owners ORDER BY meeting_id`);
  return rows.map((r) => ({ meetingId: Number(r.meeting_id), nodeId: r.node_id, epoch: Number(r.epoch), expiresInMs: Number(r.expires_in_ms) }));
}
