import { and, asc, eq, isNull } from 'drizzle-orm';
import type { AuthUser } from '../auth/sessions.js';
import type { AppContext } from '../context.js';
import { agendaItems, users } from '../db/tables.js';
import { changeStatus, checkIn, endTurn, grantFloor, markAbsent, moveCurrent, openMeeting, requestFloor, setProxy } from '../live/live.service.js';
import { meetingAccess } from '../meetings/meetings.access.js';
import { setConclusion } from '../tasks/conclusions.service.js';
import { createTask } from '../tasks/tasks.service.js';
import { votesOf } from '../votes/votes.service.js';

async function authUser(ctx: AppContext, username: string): Promise<AuthUser> {
  const [u] = await ctx.store.q.select().from(users).where(eq(users.username, username)).limit(1);
  if (!u) throw new Error(`demo user ${username} missing`);
  return { id: u.id, username: u.username, fullName: u.fullName, title: u.title, unit: u.unit, systemRole: u.systemRole, locale: u.locale };
}

/**
 * Runs a short scripted meeting through the real services (the same code the socket handlers
 * call): attendance with an absence and a proxy, opening, two speakers on the first item, a
 * motion voted by the members present, a conclusion with a follow-up task, and closing.
 * Used by `npm run demo:minutes` and by tests that need a meeting that happened.
 * `people` names the accounts that play the meeting (default: the demo seed's `secretary`, `chair` and
 * `member1`…`member12`); tests pass the usernames of the committee they built (twelve members at least).
 */
export async function runDemoMeeting(
  ctx: AppContext,
  meetingId: number,
  opts: { taskDeadline?: string; people?: { secretary: string; chair: string; members: string[] } } = {},
): Promise<{ voteId: number; itemId: number; taskId: number }> {
  const people = opts.people ?? { secretary: 'secretary', chair: 'chair', members: Array.from({ length: 12 }, (_, i) => `member${i + 1}`) };
  if (people.members.length < 12) throw new Error('runDemoMeeting needs twelve members');
  const secretary = await authUser(ctx, people.secretary);
  const chair = await authUser(ctx, people.chair);
  const members = await Promise.all(people.members.slice(0, 12).map((u) => authUser(ctx, u)));
  const acc = (u: AuthUser) => meetingAccess(ctx.store, u, meetingId);

  // The live commands run on the store inside one transaction.
  await ctx.store.tx(async () => {
    await checkIn(ctx, await acc(secretary), secretary, { userId: chair.id, mode: 'in_room' });
    await checkIn(ctx, await acc(secretary), secretary, { userId: secretary.id, mode: 'in_room' });
    for (const m of members.slice(0, 8)) await checkIn(ctx, await acc(secretary), secretary, { userId: m.id, mode: 'in_room' });
    await checkIn(ctx, await acc(secretary), secretary, { userId: members[8].id, mode: 'remote' });
    await markAbsent(ctx, await acc(secretary), secretary, { userId: members[9].id, reason: 'Đi công tác theo kế hoạch của Thành phố' });
    await setProxy(ctx, await acc(secretary), secretary, { userId: members[10].id, holderId: members[0].id, reason: 'Giấy ủy quyền (đi công tác)' });
    await markAbsent(ctx, await acc(secretary), secretary, { userId: members[11].id, reason: 'Ốm' });
    await openMeeting(ctx, await acc(chair), chair, {});
  });
  ctx.bus.emit('meeting:changed', { meetingId });

  const items = await ctx.store.q
    .select()
    .from(agendaItems)
    .where(and(eq(agendaItems.meetingId, meetingId), isNull(agendaItems.parentId)))
    .orderBy(asc(agendaItems.position));
  // The first substantive item (the seeded agenda opens with "Khai mạc").
  const item = items.find((i) => !/^Khai mạc/.test(i.title)) ?? items[0];
  const t0 = Date.now();
  await ctx.store.tx(async () => {
    await moveCurrent(ctx, await acc(chair), chair, { goto: item.id }, t0);
    const r1 = await requestFloor(ctx, await acc(members[0]), members[0], 'speech', t0);
    const r2 = await requestFloor(ctx, await acc(members[1]), members[1], 'speech', t0);
    await grantFloor(ctx, await acc(chair), chair, { requestId: r1 }, t0);
    await endTurn(ctx, await acc(chair), chair, t0 + 185_000);
    await grantFloor(ctx, await acc(chair), chair, { requestId: r2 }, t0 + 190_000);
    await endTurn(ctx, await acc(chair), chair, t0 + 290_000);
  });

  const votesSvc = votesOf(ctx);
  const vote = await votesSvc.create(chair, meetingId, { agendaItemId: item.id, title: 'Thông qua kế hoạch số hóa hồ sơ năm 2027', kind: 'motion', secret: false, options: [], majority: 'simple', abstentions: 'excluded', tieBreak: 'fails', quorum: { kind: 'none' }, durationSeconds: null });
  await votesSvc.openVote(chair, vote.id);
  const voters = [chair, ...members.slice(0, 9)];
  await Promise.all(voters.map((u, i) => votesSvc.cast(u, { voteId: vote.id, choices: [i === 3 ? 1 : 0] })));
  await votesSvc.close(chair, vote.id);
  await votesSvc.announce(chair, vote.id);

  await setConclusion(ctx, secretary, meetingId, item.id, 'Ban Chỉ đạo thống nhất thông qua kế hoạch số hóa hồ sơ năm 2027; giao Sở Nội vụ chủ trì, phối hợp với Sở Thông tin và Truyền thông tổ chức triển khai.', 'assignment');
  const task = await createTask(ctx, secretary, {
    meetingId,
    agendaItemId: item.id,
    title: 'Xây dựng và trình ban hành kế hoạch số hóa hồ sơ năm 2027',
    description: 'Hoàn thiện dự thảo, lấy ý kiến các sở, ngành và trình UBND Thành phố ban hành.',
    expectedResult: 'Kế hoạch được UBND Thành phố ban hành.',
    owner: { kind: 'unit', unit: 'Sở Nội vụ' },
    coUnits: ['Sở Thông tin và Truyền thông'],
    deadline: opts.taskDeadline ?? new Date(Date.now() + 30 * 86400_000).toISOString(),
  });

  await ctx.store.tx(async () => changeStatus(ctx, await acc(chair), chair, 'close', t0 + 300_000));
  ctx.bus.emit('meeting:changed', { meetingId });
  return { voteId: vote.id, itemId: item.id, taskId: task.id };
}
