import { and, asc, eq, inArray, ne, sql } from 'drizzle-orm';
import { upsertFollowUpItem } from '../agenda/agenda.service.js';
import { audit } from '../audit/audit.repo.js';
import type { AppContext } from '../context.js';
import { tx } from '../db/client.js';
import { meetingParticipants, meetings, tasks, users } from '../db/schema/index.js';
import { OPEN, meetingVisible } from './tasks.access.js';
import { STATUS_VI } from './tasks.board.js';

/**
 * Keeps the "Theo dõi thực hiện kết luận kỳ trước" agenda item of the committee's upcoming
 * meetings (not yet live or closed) in step with the open tasks from earlier meetings: created
 * when missing (at the end of the agenda), its description listing the open tasks.
 */
export function refreshFollowUpItems(ctx: AppContext, committeeId: number): void {
  const { db } = ctx;
  const upcoming = db
    .select()
    .from(meetings)
    .where(and(eq(meetings.committeeId, committeeId), inArray(meetings.status, ['draft', 'published'])))
    .all();
  const changed: { meetingId: number; version: number }[] = [];
  for (const m of upcoming) {
    const candidates = db
      .select()
      .from(tasks)
      .where(and(eq(tasks.committeeId, committeeId), inArray(tasks.status, OPEN), ne(tasks.meetingId, m.id), sql`${tasks.meetingId} in (select id from meetings where starts_at < ${m.startsAt})`))
      .orderBy(asc(tasks.deadline))
      .all();
    // A follow-up copy is read by everyone the target meeting shows its agenda to (guests included):
    // list only tasks whose own meeting every one of them may see now.
    const audience = db
      .select({ id: users.id, username: users.username, fullName: users.fullName, title: users.title, unit: users.unit, systemRole: users.systemRole, locale: users.locale })
      .from(meetingParticipants)
      .innerJoin(users, eq(users.id, meetingParticipants.userId))
      .where(eq(meetingParticipants.meetingId, m.id))
      .all();
    const shareable = new Map<number, boolean>();
    const open = candidates.filter((t) => {
      let ok = shareable.get(t.meetingId!);
      if (ok === undefined) shareable.set(t.meetingId!, (ok = audience.every((u) => meetingVisible(db, u, t.meetingId!))));
      return ok;
    });
    if (open.length === 0) continue;
    const description = open
      .map((t, i) => {
        const owner = t.ownerUserId != null ? (db.select({ n: users.fullName }).from(users).where(eq(users.id, t.ownerUserId)).get()?.n ?? '') : t.ownerUnit;
        const d = new Intl.DateTimeFormat('vi-VN', { timeZone: 'Asia/Ho_Chi_Minh', day: '2-digit', month: '2-digit', year: 'numeric' }).format(new Date(t.deadline));
        return `${i + 1}. ${t.title} — Chủ trì: ${owner}; hạn ${d}; ${STATUS_VI[t.status]}`;
      })
      .join('\n')
      .slice(0, 20_000);
    const v = tx(db, (d) => {
      const version = upsertFollowUpItem(d, m.id, description);
      if (version == null) return null;
      audit(d, { actorId: null, action: 'agenda.follow_up_refreshed', targetType: 'meeting', targetId: m.id, details: { openTasks: open.length } });
      return version;
    });
    if (v != null) changed.push({ meetingId: m.id, version: v });
  }
  for (const c of changed) ctx.bus.emit('agenda:changed', c);
}

