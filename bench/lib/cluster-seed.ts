/**
 * Seeding of the cluster bench (bench/cluster.ts): `meetings` live meetings on a cluster's PostgreSQL, written
 * straight into the database (one transaction, rows in batches) so thousands of logins and check-ins do not
 * dominate the setup. Each meeting has its own chair (a user may hold only 20 sockets, and every meeting's chair
 * holds one), `tablets` members with a voting right, everyone checked in (in the room), two agenda items the chair
 * moves between, and a session (cookie) per user. The nodes are already running: they find the rows on the first
 * `meeting:join`, which is also when the node HAProxy routed the meeting to takes its lease.
 */
import crypto from 'node:crypto';

export interface SeededMeeting {
  meetingId: number;
  chairCookie: string;
  tabletCookies: string[];
  /** The two agenda items the chair moves between. */
  itemIds: [number, number];
}

export async function seedMeetings(pgUrl: string, opts: { meetings: number; tablets: number; prefix: string }): Promise<SeededMeeting[]> {
  const { openPgStore } = await import('../../server/db/store.pg.js');
  const t = await import('../../server/db/tables.js');
  const { eq } = await import('drizzle-orm');
  const store = await openPgStore(pgUrl, { poolSize: 2 });
  const sha256 = (s: string) => crypto.createHash('sha256').update(s).digest('hex');
  const now = new Date().toISOString();
  const expires = new Date(Date.now() + 12 * 3600_000).toISOString();
  try {
    return await store.tx(async (q) => {
      const [admin] = await q.select({ hash: t.users.passwordHash }).from(t.users).where(eq(t.users.username, 'admin'));
      if (!admin) throw new Error('the cluster has no admin account (startCluster seed: admin)');
      const [committee] = await q.insert(t.committees).values({ name: `Hội đồng (bench ${opts.prefix})` }).returning({ id: t.committees.id });
      const sessions: (typeof t.sessions.$inferInsert)[] = [];
      const cookie = (userId: number) => {
        const token = crypto.randomBytes(32).toString('base64url');
        sessions.push({ tokenHash: sha256(token), userId, expiresAt: expires });
        return `ec_sid=${token}`;
      };
      const out: SeededMeeting[] = [];
      for (let m = 0; m < opts.meetings; m++) {
        const [meeting] = await q
          .insert(t.meetings)
          .values({ committeeId: committee.id, title: `Kỳ họp ${m + 1} (bench)`, startsAt: now, endsAt: new Date(Date.now() + 3600_000).toISOString(), quorumRule: { kind: 'majority' }, status: 'live', publishedAt: now })
          .returning({ id: t.meetings.id });
        const items = await q
          .insert(t.agendaItems)
          .values([0, 1].map((position) => ({ meetingId: meeting.id, position, title: `Nội dung ${position + 1}` })))
          .returning({ id: t.agendaItems.id });
        const ids: number[] = [];
        for (let i = 0; i <= opts.tablets; i += 500) {
          const n = Math.min(500, opts.tablets + 1 - i);
          const rows = await q
            .insert(t.users)
            .values(Array.from({ length: n }, (_, k) => ({ username: `${opts.prefix}m${m}u${i + k}`, passwordHash: admin.hash, fullName: i + k === 0 ? `Chủ tọa ${m + 1}` : `Đại biểu ${m + 1}.${i + k}` })))
            .returning({ id: t.users.id });
          ids.push(...rows.map((r) => r.id));
        }
        for (let i = 0; i < ids.length; i += 500) {
          const batch = ids.slice(i, i + 500);
          await q.insert(t.meetingParticipants).values(batch.map((id) => ({ meetingId: meeting.id, userId: id, role: id === ids[0] ? ('chair' as const) : ('member' as const), canVote: true, invitedAt: now })));
          await q.insert(t.attendance).values(batch.map((id) => ({ meetingId: meeting.id, userId: id, status: 'in_room' as const, recordedBy: id, updatedAt: now })));
        }
        out.push({ meetingId: meeting.id, chairCookie: cookie(ids[0]), tabletCookies: ids.slice(1).map(cookie), itemIds: [items[0].id, items[1].id] });
      }
      for (let i = 0; i < sessions.length; i += 500) await q.insert(t.sessions).values(sessions.slice(i, i + 500));
      return out;
    });
  } finally {
    await store.close();
  }
}
