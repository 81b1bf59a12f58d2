import { rollSentence } from '../../shared/rules/roll.js';
import { and, asc, eq, inArray } from 'drizzle-orm';
import type { MinutesBlock, MinutesRun } from '../../shared/protocol/minutes.js';
import type { Q, Store } from '../db/store.js';
import { agendaItems, conclusions, liveState, meetings, roomStations, rooms, taskCoUnits, tasks, users, votes } from '../db/tables.js';
import { loadAttendanceState, speakingTimes } from '../live/live.service.js';
import { notFound } from '../http/errors.js';
import { namedRoll } from '../votes/votes.service.js';

/** One generated section: its stable id (`details`, `attendance`, `item:<id>`, `closing`) and blocks. */
export interface GeneratedSection {
  id: string;
  blocks: MinutesBlock[];
}

const TZ = 'Asia/Ho_Chi_Minh';
const p = (...runs: MinutesRun[]): MinutesBlock => ({ t: 'p', runs, indent: false });
const label = (l: string, v: string): MinutesBlock => p({ text: `${l}: `, b: true }, { text: v });

/** "08 giờ 30 phút, ngày 05/12/2026" in Asia/Ho_Chi_Minh. */
export function viDateTime(iso: string): string {
  const d = new Date(iso);
  const parts = new Intl.DateTimeFormat('en-GB', { timeZone: TZ, hour: '2-digit', minute: '2-digit', day: '2-digit', month: '2-digit', year: 'numeric', hourCycle: 'h23' }).formatToParts(d);
  const g = (t: string) => parts.find((x) => x.type === t)?.value ?? '';
  return `${g('hour')} giờ ${g('minute')} phút, ngày ${g('day')}/${g('month')}/${g('year')}`;
}
export function viDate(iso: string): string {
  return new Intl.DateTimeFormat('vi-VN', { timeZone: TZ, day: '2-digit', month: '2-digit', year: 'numeric' }).format(new Date(iso));
}

function duration(seconds: number): string {
  const s = Math.round(seconds);
  const m = Math.floor(s / 60);
  return m > 0 ? `${m} phút ${s % 60} giây` : `${s} giây`;
}

const MODE_VI = { in_person: 'trực tiếp', hybrid: 'trực tiếp kết hợp trực tuyến', online: 'trực tuyến' } as const;
const OUTCOME_VI = { adopted: 'Thông qua', rejected: 'Không thông qua', no_quorum: 'Không đủ số lượng tham gia biểu quyết', tie: 'Số phiếu ngang nhau' } as const;
const OPTION_VI: Record<string, string> = { for: 'Tán thành', against: 'Không tán thành', abstain: 'Không biểu quyết', yes: 'Tán thành', no: 'Không tán thành' };
const CONCLUSION_KIND_VI = { decision: 'Quyết định', assignment: 'Giao nhiệm vụ', note: 'Ghi nhận' } as const;
const STATUS_VI: Record<string, string> = { in_room: 'Có mặt', remote: 'Dự trực tuyến', absent: 'Vắng', proxy: 'Ủy quyền' };

/**
 * Computes the generated sections of a meeting's minutes from the authoritative state:
 * meeting details, attendance (present, absent with reasons, proxies) and quorum, each agenda
 * item with presenter, speakers and speaking times, votes (configuration and result),
 * the conclusions of each item with the tasks assigned from them (section `conclusions`), and the closing time. Pure read; deterministic for the same state.
 */
export async function computeGenerated(ctx: { store: Store }, meetingId: number): Promise<GeneratedSection[]> {
  // One transaction: a consistent snapshot of the meeting, the live and votes domains' readers included.
  return ctx.store.tx((q) => generated(ctx.store, q, meetingId));
}

async function generated(store: Store, q: Q, meetingId: number): Promise<GeneratedSection[]> {
  const [m] = await q
    .select({ m: meetings, roomName: rooms.name, roomLocation: rooms.location })
    .from(meetings)
    .leftJoin(rooms, eq(rooms.id, meetings.roomId))
    .where(eq(meetings.id, meetingId))
    .limit(1);
  if (!m) throw notFound('Meeting');
  const [live] = await q.select().from(liveState).where(eq(liveState.meetingId, meetingId)).limit(1);
  const state = await loadAttendanceState(store, meetingId);
  // A smart room's station account (its PC for the camera and microphones) is equipment, not a
  // person: it never appears in the attendance table the chair and secretary sign.
  const stations = new Set((await q.select({ u: roomStations.userId }).from(roomStations)).map((r) => r.u));
  const att = { ...state, attendance: state.attendance.filter((a) => !stations.has(a.userId)) };
  const chair = att.attendance.find((a) => a.role === 'chair');
  const secretary = att.attendance.find((a) => a.role === 'secretary');
  const nameOf = new Map(att.attendance.map((a) => [a.userId, a.fullName]));
  const person = (a: { fullName: string; title: string | null } | undefined) => (a ? `Đồng chí ${a.fullName}${a.title ? `, ${a.title}` : ''}` : '(chưa xác định)');

  const details: MinutesBlock[] = [
    { t: 'h', level: 1, text: 'I. THỜI GIAN, ĐỊA ĐIỂM, THÀNH PHẦN THAM DỰ' },
    label('Thời gian bắt đầu', viDateTime(live?.openedAt ?? m.m.startsAt)),
    label('Địa điểm', [m.roomName, m.roomLocation].filter(Boolean).join(', ') || '(chưa xác định)'),
    label('Hình thức', `Họp ${MODE_VI[m.m.mode]}`),
    label('Chủ trì', person(chair)),
    label('Thư ký', person(secretary)),
  ];

  const voters = att.attendance.filter((a) => a.canVote);
  const presentVoters = att.quorum.present;
  const rows = [['STT', 'Họ và tên', 'Chức vụ', 'Tham dự']];
  att.attendance.forEach((a, i) => {
    let status = a.status ? STATUS_VI[a.status] : 'Chưa ghi nhận';
    if (a.status === 'absent' && a.reason) status = `Vắng (lý do: ${a.reason})`;
    if (a.status === 'proxy') status = `Ủy quyền cho ${nameOf.get(a.proxyHolderId ?? 0) ?? 'người khác'}`;
    rows.push([String(i + 1), a.fullName, a.title ?? '', status]);
  });
  const attendance: MinutesBlock[] = [
    p({ text: 'Thành phần tham dự:', b: true }),
    { t: 'table', rows, header: true },
    p({ text: `Số thành viên có quyền biểu quyết có mặt (kể cả ủy quyền): ${presentVoters}/${voters.length}; số lượng tối thiểu theo quy định: ${att.quorum.required} — ${att.quorum.met ? 'đủ điều kiện tiến hành cuộc họp' : 'chưa đủ số lượng theo quy định'}.` }),
  ];
  if (live?.openOverrideReason) attendance.push(p({ text: `Chủ tọa quyết định khai mạc khi chưa đủ số lượng, lý do: ${live.openOverrideReason}.`, i: true }));

  const items = await q.select().from(agendaItems).where(eq(agendaItems.meetingId, meetingId)).orderBy(asc(agendaItems.position), asc(agendaItems.id));
  const top = items.filter((i) => i.parentId == null);
  const childrenOf = (id: number) => items.filter((i) => i.parentId === id);
  const speaking = await speakingTimes(store, meetingId);
  const voteRows = await q.select().from(votes).where(and(eq(votes.meetingId, meetingId), inArray(votes.state, ['closed', 'announced', 'annulled']))).orderBy(asc(votes.id));
  const conclusionRows = await q.select().from(conclusions).where(eq(conclusions.meetingId, meetingId)).orderBy(asc(conclusions.id));
  const taskRows = await q.select().from(tasks).where(eq(tasks.meetingId, meetingId)).orderBy(asc(tasks.id));
  const coUnits = new Map<number, string[]>();
  if (taskRows.length) {
    for (const c of await q.select().from(taskCoUnits).where(inArray(taskCoUnits.taskId, taskRows.map((t) => t.id)))) coUnits.set(c.taskId, [...(coUnits.get(c.taskId) ?? []), c.unit]);
  }
  const ownerNames = new Map(
    (
      await q
        .select({ id: users.id, n: users.fullName })
        .from(users)
        .where(inArray(users.id, [...new Set([...taskRows.map((t) => t.ownerUserId ?? 0), ...items.map((i) => i.presenterId ?? 0)])]))
    ).map((r) => [r.id, r.n]),
  );

  const blocIds = [...new Set(voteRows.flatMap((v) => (v.bloc ?? []).flatMap((b) => (b.pulledBy != null ? [b.pulledBy] : []))))];
  const blocNames = new Map((await q.select({ id: users.id, n: users.fullName }).from(users).where(inArray(users.id, blocIds))).map((r) => [r.id, r.n]));
  // The roll of each named vote, read before the sections are laid out (namedRoll is the votes domain's).
  const rolls = new Map<number, Awaited<ReturnType<typeof namedRoll>>>();
  for (const v of voteRows) if (!v.secret && v.result) rolls.set(v.id, await namedRoll(store, v.id));
  const voteBlocks = (v: (typeof voteRows)[number]): MinutesBlock[] => {
    const r = v.result;
    const out: MinutesBlock[] = [p({ text: 'Biểu quyết: ', b: true }, { text: `${v.title} (${v.secret ? 'bỏ phiếu kín' : 'biểu quyết công khai'}${r ? `; ${r.rule.vi}` : ''}).` })];
    if (v.rerunOf != null) {
      const old = voteRows.find((x) => x.id === v.rerunOf);
      out.push(p({ text: `Biểu quyết lại, thay cho lần biểu quyết đã hủy${old?.annulReason ? ` (lý do hủy: ${old.annulReason})` : ''}.`, i: true }));
    }
    if (v.bloc) {
      const title = (id: number) => items.find((i) => i.id === id)?.title ?? '';
      const kept = v.bloc.filter((b) => b.pulledBy == null);
      const pulled = v.bloc.filter((b) => b.pulledBy != null);
      out.push(p({ text: 'Các nội dung biểu quyết gộp: ', b: true }, { text: kept.map((b) => title(b.agendaItemId)).join('; ') + '.' }));
      if (pulled.length) out.push(p({ text: `Tách ra thảo luận riêng theo đề nghị của thành viên: ${pulled.map((b) => `${title(b.agendaItemId)} (${blocNames.get(b.pulledBy!) ?? ''})`).join('; ')}.` }));
    }
    if (v.quorumOverrideReason) out.push(p({ text: `Chủ tọa mở biểu quyết khi chưa đủ số lượng tối thiểu, lý do: ${v.quorumOverrideReason}.`, i: true }));
    if (r) {
      out.push({ t: 'ul', items: v.options.map((o, i) => [{ text: `${OPTION_VI[o] ?? o}: ${r.counts[i] ?? 0}` }]) });
      if (!v.secret) {
        // A roll-call vote: who voted what, as on the screens and in the vote's PDF and CSV.
        const choiceText = (cs: number[]) => (cs.length ? cs.map((c) => OPTION_VI[v.options[c]] ?? v.options[c] ?? '').join(', ') : 'Không biểu quyết');
        const roll = rolls.get(v.id) ?? [];
        if (roll.length)
          out.push({ t: 'table', header: true, rows: [['STT', 'Họ và tên', 'Lựa chọn'], ...roll.map((b, i) => [String(i + 1), b.castByName ? `${b.fullName} (qua ủy quyền: ${b.castByName})` : b.fullName, choiceText(b.choices)])] });
      }
      if (v.state === 'annulled') out.push(p({ text: 'Kết quả dưới đây đã bị hủy.', i: true }));
      out.push(p({ text: `${rollSentence({ voted: r.voted + r.abstentions, eligible: r.eligible, members: r.members }, 'vi')}; không biểu quyết: ${r.abstentions}. ` }, { text: `Kết quả: ${OUTCOME_VI[r.outcome]}.`, b: true }, { text: ` ${r.explanation.vi}` }));
    }
    if (v.state === 'annulled') out.push(p({ text: `Chủ tọa hủy kết quả biểu quyết, lý do: ${v.annulReason ?? ''}.`, b: true }));
    return out;
  };

  const itemSection = (item: (typeof items)[number], num: string, level: 2 | 3): GeneratedSection => {
    const blocks: MinutesBlock[] = [{ t: 'h', level, text: `${num} ${item.title}` }];
    if (item.presenterId) blocks.push(label('Trình bày', ownerNames.get(item.presenterId) ?? ''));
    const sp = speaking.filter((s) => s.agendaItemId === item.id);
    if (sp.length) {
      blocks.push(p({ text: 'Ý kiến phát biểu:', b: true }));
      blocks.push({ t: 'ul', items: sp.map((s) => [{ text: `${s.fullName} — ${duration(s.seconds)}${s.turns > 1 ? ` (${s.turns} lượt)` : ''}` }]) });
    }
    for (const v of voteRows.filter((v) => v.agendaItemId === item.id)) blocks.push(...voteBlocks(v));
    return { id: `item:${item.id}`, blocks };
  };

  const sections: GeneratedSection[] = [
    { id: 'details', blocks: details },
    { id: 'attendance', blocks: attendance },
    { id: 'content', blocks: [{ t: 'h', level: 1, text: 'II. NỘI DUNG CUỘC HỌP' }] },
  ];
  top.forEach((item, i) => {
    sections.push(itemSection(item, `${i + 1}.`, 2));
    childrenOf(item.id).forEach((child, j) => sections.push(itemSection(child, `${i + 1}.${j + 1}.`, 3)));
  });
  // III. Conclusions and tasks, item by item (a conclusion's tasks under it; tasks of an item
  // without a conclusion after the item's conclusions).
  const result = (s: string) => s.trim().replace(/[\s.;]+$/, '');
  const taskLine = (t: (typeof taskRows)[number]): MinutesRun[] => {
    const owner = t.ownerUserId != null ? (ownerNames.get(t.ownerUserId) ?? '') : t.ownerUnit!;
    const co = coUnits.get(t.id);
    return [
      { text: t.title, b: true },
      { text: ` — Chủ trì: ${owner}${co?.length ? `; phối hợp: ${co.join(', ')}` : ''}; thời hạn: ${viDate(t.deadline)}${result(t.expectedResult) ? `; kết quả: ${result(t.expectedResult)}` : ''}.` },
    ];
  };
  const liveTasks = taskRows.filter((t) => t.status !== 'cancelled');
  const conclusionBlocks: MinutesBlock[] = [];
  const numbered: [typeof items[number], string][] = [];
  top.forEach((item, i) => {
    numbered.push([item, `${i + 1}.`]);
    childrenOf(item.id).forEach((child, j) => numbered.push([child, `${i + 1}.${j + 1}.`]));
  });
  for (const [item, num] of numbered) {
    const cs = conclusionRows.filter((c) => c.agendaItemId === item.id);
    const ts = liveTasks.filter((t) => t.agendaItemId === item.id);
    if (!cs.length && !ts.length) continue;
    conclusionBlocks.push(p({ text: `${num} ${item.title}`, b: true }));
    for (const c of cs) {
      const paras = c.text.split(/\n+/).filter((x) => x.trim());
      paras.forEach((para, k) => conclusionBlocks.push(k === 0 ? p({ text: `${CONCLUSION_KIND_VI[c.kind]}: `, b: true }, { text: para }) : { t: 'p', runs: [{ text: para }] }));
      const own = ts.filter((t) => t.conclusionId === c.id);
      if (own.length) conclusionBlocks.push({ t: 'ul', items: own.map(taskLine) });
    }
    const loneTasks = ts.filter((t) => t.conclusionId == null || !cs.some((c) => c.id === t.conclusionId));
    if (loneTasks.length) {
      conclusionBlocks.push(p({ text: 'Giao nhiệm vụ:', b: true }));
      conclusionBlocks.push({ t: 'ul', items: loneTasks.map(taskLine) });
    }
  }

  const loose = voteRows.filter((v) => v.agendaItemId == null || !items.some((i) => i.id === v.agendaItemId));
  if (loose.length) sections.push({ id: 'other-votes', blocks: [{ t: 'h', level: 2, text: 'Các nội dung biểu quyết khác' }, ...loose.flatMap(voteBlocks)] });
  if (conclusionBlocks.length) sections.push({ id: 'conclusions', blocks: [{ t: 'h', level: 1, text: 'III. KẾT LUẬN VÀ GIAO NHIỆM VỤ' }, ...conclusionBlocks] });
  if (live?.closedAt) sections.push({ id: 'closing', blocks: [p({ text: `Cuộc họp kết thúc vào lúc ${viDateTime(live.closedAt)}.` })] });
  return sections;
}
