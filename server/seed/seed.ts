import fs from 'node:fs';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import type { Config } from '../config.js';
import type { Store } from '../db/store.js';
import { users } from '../db/tables.js';
import type { Logger } from '../log.js';
import { insertAgendaItem } from '../agenda/agenda.service.js';
import { insertUser } from '../auth/accounts.service.js';
import { hashPassword } from '../auth/password.js';
import { audit } from '../audit/audit.repo.js';
import { addMembers, addRoomStation, insertCommittee, insertRoom } from '../committees/committees.service.js';
import { addParticipants, insertMeeting } from '../meetings/meetings.service.js';

/** The handbook's seed articles, beside the repository (`../shared/testdata/seeds`). */
export const SEEDS_DIR = path.resolve(process.env.ECABINET_SEEDS_DIR ?? '../shared/testdata/seeds');

const FALLBACK_TITLES = [
  'Gần 12.500 văn bản điện tử được giao dịch qua hệ thống',
  'Hướng tới mục tiêu top 5 địa phương dẫn đầu cả nước về chuyển đổi số',
  'Chuyển đổi số trong mọi khâu, mọi mặt của công tác chỉ đạo điều hành',
];

/** Agenda items drawn from the seed articles: first line as title, first paragraph as description. */
export function seedArticles(): { title: string; description: string }[] {
  try {
    return fs
      .readdirSync(SEEDS_DIR)
      .filter((f) => f.endsWith('.txt'))
      .sort()
      .map((f) => {
        const lines = fs.readFileSync(path.join(SEEDS_DIR, f), 'utf8').split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
        const body = lines.slice(1).find((l) => l.length > 80) ?? '';
        return { title: lines[0].slice(0, 300), description: body.slice(0, 600) };
      });
  } catch {
    return FALLBACK_TITLES.map((title) => ({ title, description: '' }));
  }
}

const MEMBER_NAMES = [
  ['Nguyễn Văn An', 'Giám đốc', 'Sở Nội vụ'],
  ['Trần Thị Bình', 'Giám đốc', 'Sở Thông tin và Truyền thông'],
  ['Lê Hoàng Cường', 'Phó Giám đốc', 'Sở Kế hoạch và Đầu tư'],
  ['Phạm Thu Dung', 'Giám đốc', 'Sở Tài chính'],
  ['Hoàng Minh Đức', 'Chánh Văn phòng', 'Văn phòng UBND Thành phố'],
  ['Vũ Thị Giang', 'Giám đốc', 'Sở Tư pháp'],
  ['Đặng Quốc Hùng', 'Giám đốc', 'Công an Thành phố'],
  ['Bùi Thanh Hương', 'Phó Giám đốc', 'Sở Y tế'],
  ['Đỗ Văn Khánh', 'Giám đốc', 'Sở Giáo dục và Đào tạo'],
  ['Ngô Thị Lan', 'Chủ tịch', 'UBND quận Hoàn Kiếm'],
  ['Dương Văn Minh', 'Chủ tịch', 'UBND huyện Đông Anh'],
  ['Lý Thị Ngọc', 'Giám đốc', 'Trung tâm Phục vụ hành chính công'],
];

/** Date at a local hour in Asia/Ho_Chi_Minh (UTC+7, no DST), `days` from today. */
function hanoiTime(days: number, hour: number, minute = 0): string {
  const now = new Date();
  const d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + days, hour - 7, minute));
  return d.toISOString();
}

/**
 * Seeds a demo committee, users, rooms and an upcoming published meeting into an EMPTY database.
 * Never runs in production (config.seed is 'none' there); does nothing when any user exists.
 * `what: 'admin'` seeds only the account `admin` (ECABINET_SEED=admin: the tests, which build their own data).
 * All demo users share the password `config.demoPassword` (printed by `npm start`).
 */
export async function seedDemo(store: Store, config: Config, log: Logger, what: 'demo' | 'admin'): Promise<void> {
  const [{ n: count }] = await store.q.select({ n: sql<number>`count(*)` }).from(users);
  if (Number(count) > 0) return;
  const passwordHash = await hashPassword(config.demoPassword);
  await store.tx(async (q) => {
    // People get an example address (reminders by e-mail when SMTP_URL is set); the room station none.
    const mk = async (username: string, fullName: string, title: string | null, unit: string | null, systemRole: 'admin' | 'user' = 'user', email: string | null = `${username}@demo.ecabinet.local`) =>
      (await insertUser(q, { username, passwordHash, fullName, title, unit, systemRole, email })).id;
    const admin = await mk('admin', 'Quản trị hệ thống', 'Quản trị viên', 'Trung tâm Công nghệ thông tin', 'admin');
    if (what === 'admin') return;
    const secretary = await mk('secretary', 'Phan Thị Thu', 'Chuyên viên', 'Văn phòng UBND Thành phố');
    const chair = await mk('chair', 'Trần Sỹ Thanh', 'Chủ tịch UBND Thành phố', 'UBND Thành phố Hà Nội');
    const memberIds: number[] = [];
    for (const [i, [n, t, u]] of MEMBER_NAMES.entries()) memberIds.push(await mk(`member${i + 1}`, n, t, u));
    const guest = await mk('guest', 'Khách mời Nguyễn Hải', 'Chuyên gia', 'Viện Chiến lược Chuyển đổi số');

    const room = await insertRoom(q, { name: 'Phòng họp số 1', location: 'Tầng 3, Trụ sở UBND Thành phố, 79 Đinh Tiên Hoàng', capacity: 40 });
    // The smart room's PC: its conference camera and microphones join A/V as the room (server/sfu).
    const roomStation = await mk('room1', 'Phòng họp số 1 — thiết bị phòng', null, 'Phòng họp số 1', 'user', null);
    await addRoomStation(q, roomStation, room.id);
    await insertRoom(q, { name: 'Phòng họp trực tuyến', location: 'Trực tuyến', capacity: 200 });
    const committee = await insertCommittee(q, {
      name: 'Ban Chỉ đạo Cải cách hành chính và Chuyển đổi số Thành phố Hà Nội',
      description: 'Chỉ đạo, điều phối công tác cải cách hành chính, xây dựng chính quyền điện tử và chuyển đổi số của Thành phố.',
    });
    const roster: { userId: number; defaultRole: 'chair' | 'secretary' | 'member'; votingRight: boolean }[] = [
      { userId: chair, defaultRole: 'chair', votingRight: true },
      { userId: secretary, defaultRole: 'secretary', votingRight: false },
      ...memberIds.map((userId) => ({ userId, defaultRole: 'member' as const, votingRight: true })),
    ];
    await addMembers(q, committee.id, roster);

    const now = new Date().toISOString();
    const meetingId = await insertMeeting(q, {
      committeeId: committee.id,
      title: 'Phiên họp thường kỳ quý IV của Ban Chỉ đạo',
      description: 'Đánh giá kết quả cải cách hành chính và chuyển đổi số; thống nhất nhiệm vụ trọng tâm thời gian tới.',
      startsAt: hanoiTime(2, 8, 30),
      endsAt: hanoiTime(2, 11, 30),
      roomId: room.id,
      mode: 'hybrid',
      quorumRule: { kind: 'majority' },
      status: 'published',
      publishedAt: now,
      createdBy: secretary,
      agendaVersion: 1,
    });
    await addParticipants(q, [
      ...roster.map((r) => ({ meetingId, userId: r.userId, role: r.defaultRole, canVote: r.votingRight, invitedAt: now })),
      { meetingId, userId: guest, role: 'guest' as const, canVote: false, invitedAt: now },
      { meetingId, userId: roomStation, role: 'member' as const, canVote: false, invitedAt: now },
    ]);
    await insertAgendaItem(q, { meetingId, parentId: null, position: 0, title: 'Khai mạc, giới thiệu đại biểu', presenterId: secretary, durationMinutes: 10 });
    for (const [i, a] of seedArticles().entries()) {
      await insertAgendaItem(q, {
        meetingId,
        parentId: null,
        position: i + 1,
        title: a.title,
        description: a.description,
        presenterId: memberIds[i % memberIds.length],
        durationMinutes: 20,
      });
    }
    const closing = seedArticles().length + 1;
    const conclusion = await insertAgendaItem(q, { meetingId, parentId: null, position: closing, title: 'Kết luận của Chủ tọa', presenterId: chair, durationMinutes: 15 });
    await insertAgendaItem(q, { meetingId, parentId: conclusion.id, position: 0, title: 'Giao nhiệm vụ cho các sở, ngành', presenterId: chair, durationMinutes: 10 });
    await audit(q, { actorId: admin, action: 'seed.demo', targetType: 'meeting', targetId: meetingId });
  });
  log.info(what === 'admin' ? 'seeded the admin account' : 'seeded demo committee, users and meeting');
}
