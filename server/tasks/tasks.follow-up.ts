import { and, asc, eq, inArray, ne, sql } from 'drizzle-orm';
import { upsertFollowUpItem } from '../agenda/agenda.service.js';
import { audit } from '../audit/audit.repo.js';
import type { AppContext } from '../context.js';
import { meetingParticipants, meetings, tasks, users } from '../db/tables.js';
import type { AuthUser } from '../auth/sessions.js';
import type { Store } from '../db/store.js';
import { OPEN, meetingVisible } from './tasks.access.js';
import { STATUS_VI } from './tasks.board.js';

/**
 * Keeps the "Theo dõi thực hiện kết luận kỳ trước" agenda item of the committee's upcoming
 * meetings (not yet live or closed) in step with the open tasks from earlier meetings: created
 * when missing (at the end of the agenda), its description listing the open tasks.
 */
export async function refreshFollowUpItems(ctx: AppContext, committeeId: number): Promise<void> {
  const { store } = ctx;
  const upcoming = await store.q
    .select()
    .from(meetings)
    .where(and(eq(meetings.committeeId, committeeId), inArray(meetings.status, ['draft', 'published'])));
  const changed: { meetingId: number; version: number }[] = [];
  for (const m of upcoming) {
    const candidates = await store.q
      .select()
      .from(tasks)
      .where(and(eq(tasks.committeeId, committeeId), inArray(tasks.status, OPEN), ne(tasks.meetingId, m.id), sql`${tasks.meetingId} in (select id from meetings where starts_at < ${m.startsAt})`))
      .orderBy(asc(tasks.deadline));
    // A follow-up copy is read by everyone the target meeting shows its agenda to (guests included):
    // list only tasks whose own meeting every one of them may see now.
    const audience = await store.q
      .select({ id: users.id, username: users.username, fullName: users.fullName, title: users.title, unit: users.unit, systemRole: users.systemRole, locale: users.locale })
      .from(meetingParticipants)
      .innerJoin(users, eq(users.id, meetingParticipants.userId))
      .where(eq(meetingParticipants.meetingId, m.id));
    const shareable = new Map<number, boolean>();
    const open: typeof candidates = [];
    for (const t of candidates) {
      let ok = shareable.get(t.meetingId!);
      if (ok === undefined) shareable.set(t.meetingId!, (ok = await everyoneSees(store, audience, t.meetingId!)));
      if (ok) open.push(t);
    }
    if (open.length === 0) continue;
    const lines: string[] = [];
    for (const [i, t] of open.entries()) {
      const owner = t.ownerUserId != null ? ((await store.q.select({ n: users.fullName }).from(users).where(eq(users.id, t.ownerUserId)).limit(1))[0]?.n ?? '') : t.ownerUnit;
      const d = new Intl.DateTimeFormat('vi-VN', { timeZone: 'Asia/Ho_Chi_Minh', day: '2-digit', month: '2-digit', year: 'numeric' }).format(new Date(t.deadline));
      lines.push(`${i + 1}. ${t.title} — Chủ trì: ${owner}; hạn ${d}; ${STATUS_VI[t.status]}`);
    }
    const description = lines.join('\n').slice(0, 20_000);
    // The follow-up item and its audit entry commit together.
    const v = await store.tx(async () => {
      const version = await upsertFollowUpItem(ctx, m.id, description);
      if (version == null) return null;
      await audit(store.q, { actorId: null, action: 'agenda.follow_up_refreshed', targetType: 'meeting', targetId: m.id, details: { openTasks: open.length } });
      await ctx.bus.share(store.q, 'agenda:changed', { meetingId: m.id, version });
      return version;
    });
    if (v != null) changed.push({ meetingId: m.id, version: v });
  }
  for (const c of changed) ctx.bus.emit('agenda:changed', c);
}


/**
 * `refreshFollowUpItems` for one committee, one run at a time (server/events.ts `queue`): two at once (a task
 * created announces its meeting's change and refreshes too) could both find no follow-up item and add two.
 * Rejects with the refresh's error.
 */
export function queueFollowUpRefresh(ctx: AppContext, committeeId: number): Promise<void> {
  return ctx.bus.queue(`tasks:follow-up:${committeeId}`, () => refreshFollowUpItems(ctx, committeeId));
}

/** Whether every one of `audience` may see meeting `meetingId` now (stops at the first who may not). */
async function everyoneSees(store: Store, audience: AuthUser[], meetingId: number): Promise<boolean> {
  for (const u of audience) if (!(await meetingVisible(store, u, meetingId))) return false;
  return true;
}
