import type { HttpClient } from '../helpers/server.js';
import { inDays } from '../helpers/server.js';
import { pdf, upload } from './documents-helpers.js';

/** A thing search should find: `kind` + `refId` as the API names it. */
export interface Target {
  kind: string;
  refId: number;
}

/** Keys of the corpus's things, used by the query set. */
export type TargetKey =
  | 'doc0'
  | 'doc1'
  | 'doc2'
  | 'doc3'
  | 'doc4'
  | 'pack'
  | 'meetingA'
  | 'meetingB'
  | 'itemOpening'
  | 'itemPaperless'
  | 'itemProject06'
  | 'itemTraining';

export interface Corpus {
  targets: Record<TargetKey, Target>;
  meetingA: number;
  meetingB: number;
  items: number[];
}

/** Titles as a secretary would give them (the PDFs are the five seed articles and the 451-page pack). */
export const DOC_TITLES: Record<'doc0' | 'doc1' | 'doc2' | 'doc3' | 'doc4' | 'pack', string> = {
  doc0: 'Báo cáo kết quả vận hành hệ thống văn bản điện tử',
  doc1: 'Chỉ số cải cách hành chính năm 2021',
  doc2: 'Hợp nhất các Ban Chỉ đạo – chuyển đổi số',
  doc3: 'Chất vấn HĐND về chính quyền điện tử',
  doc4: 'Ứng dụng công nghệ thông tin trong CCHC',
  pack: 'Bộ tài liệu phiên họp (451 trang)',
};

/** The corpus's two meetings: title and description. */
export const MEETINGS = {
  meetingA: ['Phiên họp Ban Chỉ đạo Cải cách hành chính quý IV', 'Đánh giá kết quả năm và kế hoạch năm tới'],
  meetingB: ['Họp giao ban Đổi mới sáng tạo tháng 12', ''],
} as const;

/** Meeting A's agenda items (title, description), in order: itemOpening, itemPaperless, itemProject06, itemTraining. */
export const AGENDA_ITEMS: [string, string][] = [
  ['Khai mạc và điểm danh đại biểu', ''],
  ['Thảo luận đề án phòng họp không giấy', 'Triển khai E-Cabinet cho các cuộc họp của Ban Chỉ đạo'],
  ['Đánh giá tiến độ Đề án 06', 'Báo cáo của Công an Thành phố'],
  ['Biểu quyết kế hoạch đào tạo cán bộ', 'Kế hoạch bồi dưỡng kỹ năng số năm 2024'],
];

/**
 * Builds the search corpus through the API, as the secretary does: meeting A (published, with
 * `participants`) with four agenda items, the five seed articles and the large pack; meeting B
 * (published, same participants) with only its title.
 */
export async function buildSearchCorpus(secretary: HttpClient, participants: { userId: number; role: string }[]): Promise<Corpus> {
  const committeeId = (await secretary.get('/api/committees')).body.committees[0].id as number;
  const meeting = async (title: string, description: string) => {
    const m = await secretary.post('/api/meetings', { committeeId, title, description, startsAt: inDays(5, 1), endsAt: inDays(5, 4), participants });
    if (m.status !== 201) throw new Error(`create meeting: ${m.status} ${JSON.stringify(m.body)}`);
    return m.body.id as number;
  };
  const meetingA = await meeting(...MEETINGS.meetingA);
  const meetingB = await meeting(...MEETINGS.meetingB);
  let version = 0;
  const items: number[] = [];
  for (const [title, description] of AGENDA_ITEMS) {
    const r = await secretary.post(`/api/meetings/${meetingA}/agenda/items`, { version, title, description });
    if (r.status !== 200 && r.status !== 201) throw new Error(`agenda item: ${r.status} ${JSON.stringify(r.body)}`);
    version = r.body.version;
    items.push(r.body.items.at(-1).id);
  }
  const docs: Partial<Record<keyof typeof DOC_TITLES, number>> = {};
  const files: [keyof typeof DOC_TITLES, string, number][] = [
    ['doc0', 'seed-0.pdf', items[1]],
    ['doc1', 'seed-1.pdf', items[1]],
    ['doc2', 'seed-2.pdf', items[2]],
    ['doc3', 'seed-3.pdf', items[2]],
    ['doc4', 'seed-4.pdf', items[3]],
    ['pack', 'board-pack-large.pdf', items[3]],
  ];
  for (const [key, file, item] of files) {
    const r = await upload(secretary, meetingA, item, pdf(file), file, { title: DOC_TITLES[key] });
    if (r.status !== 201) throw new Error(`upload ${file}: ${r.status} ${JSON.stringify(r.body)}`);
    docs[key] = r.body.id;
  }
  for (const id of [meetingA, meetingB]) await secretary.post(`/api/meetings/${id}/publish`);
  const doc = (k: keyof typeof DOC_TITLES): Target => ({ kind: 'document', refId: docs[k]! });
  const item = (i: number): Target => ({ kind: 'agenda_item', refId: items[i] });
  return {
    meetingA,
    meetingB,
    items,
    targets: {
      doc0: doc('doc0'),
      doc1: doc('doc1'),
      doc2: doc('doc2'),
      doc3: doc('doc3'),
      doc4: doc('doc4'),
      pack: doc('pack'),
      meetingA: { kind: 'meeting', refId: meetingA },
      meetingB: { kind: 'meeting', refId: meetingB },
      itemOpening: item(0),
      itemPaperless: item(1),
      itemProject06: item(2),
      itemTraining: item(3),
    },
  };
}

/** One query as people type it, the things that answer it (any of them counts), and why it is in the set. */
export interface SearchCase {
  q: string;
  expect: TargetKey[];
  what: 'title' | 'content' | 'across pages' | 'phrase' | 'meeting' | 'agenda item' | 'marks';
}

/**
 * Our query set (36 queries): typed without marks, with some marks, in mixed case, đ typed as d,
 * words spread over pages, quoted phrases, title words. Content queries also accept the pack,
 * which repeats the seed articles.
 */
export const SEARCH_CASES: SearchCase[] = [
  { q: 'bao cao ket qua van hanh', expect: ['doc0'], what: 'title' },
  { q: 'Chỉ số CCHC năm 2021', expect: ['doc1'], what: 'title' },
  { q: 'hop nhat ban chi dao', expect: ['doc2'], what: 'title' },
  { q: 'chat van hdnd', expect: ['doc3'], what: 'title' },
  { q: 'ung dung cong nghe thong tin', expect: ['doc4'], what: 'title' },
  { q: 'bo tai lieu 451 trang', expect: ['pack'], what: 'title' },
  { q: 'phien hop cai cach hanh chinh quy IV', expect: ['meetingA'], what: 'meeting' },
  { q: 'giao ban doi moi sang tao', expect: ['meetingB'], what: 'meeting' },
  { q: 'Họp giao ban tháng 12', expect: ['meetingB'], what: 'meeting' },
  { q: 'khai mac diem danh', expect: ['itemOpening'], what: 'agenda item' },
  { q: 'phong hop khong giay', expect: ['itemPaperless'], what: 'agenda item' },
  { q: 'tien do de an 06', expect: ['itemProject06'], what: 'agenda item' },
  { q: 'bieu quyet dao tao can bo', expect: ['itemTraining'], what: 'agenda item' },
  { q: 'ky nang so', expect: ['itemTraining'], what: 'agenda item' },
  { q: '12.500 văn bản điện tử', expect: ['doc0', 'pack'], what: 'content' },
  { q: 'tran dinh canh', expect: ['doc0', 'pack'], what: 'content' },
  { q: 'thi tuyen chuc danh lanh dao', expect: ['doc0', 'pack'], what: 'content' },
  { q: 'quan cau giay dung dau', expect: ['doc1', 'pack'], what: 'content' },
  { q: 'chi so PAPI', expect: ['doc1', 'pack'], what: 'content' },
  { q: 'Pham Thi Hoa Ha Dong', expect: ['doc1', 'pack'], what: 'content' },
  { q: 'hop 1 thang 1 lan', expect: ['doc2', 'pack'], what: 'content' },
  { q: 'van phong dien tu dung chung', expect: ['doc2', 'pack'], what: 'content' },
  { q: 'Ha Minh Hai', expect: ['doc3', 'pack'], what: 'content' },
  { q: 'nong nghiep phat trien nong thon', expect: ['doc3', 'pack'], what: 'content' },
  { q: 'khai truong cong dich vu cong', expect: ['doc4', 'pack'], what: 'content' },
  { q: 'hop thu dien tu cong vu', expect: ['doc4', 'pack'], what: 'content' },
  { q: 'Trần Sỹ Thanh thi tuyển', expect: ['doc0', 'pack'], what: 'across pages' },
  { q: 'papi cau giay', expect: ['doc1', 'pack'], what: 'across pages' },
  { q: 'pham minh chinh nhip nhang', expect: ['doc2', 'pack'], what: 'across pages' },
  { q: 'chat van nong thon', expect: ['doc3', 'pack'], what: 'across pages' },
  { q: 'khai truong hop thu cong vu', expect: ['doc4', 'pack'], what: 'across pages' },
  { q: '"phòng họp thông minh"', expect: ['doc2', 'pack'], what: 'phrase' },
  { q: '"chu ky so chuyen dung"', expect: ['doc0', 'pack'], what: 'phrase' },
  { q: 'CHUYỂN đổi SỐ ban chi dao', expect: ['doc2'], what: 'marks' },
  { q: 'dịch vu cong truc tuyen', expect: ['doc4', 'pack'], what: 'marks' },
  { q: 'Đề Án 06 CÔNG AN', expect: ['itemProject06'], what: 'marks' },
];

/** Ranked, de-duplicated things of a response (old responses had one hit per page). */
export function rankedThings(hits: { kind: string; refId: number }[]): Target[] {
  const seen = new Set<string>();
  const out: Target[] = [];
  for (const h of hits) {
    const key = `${h.kind}:${h.refId}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ kind: h.kind, refId: h.refId });
  }
  return out;
}

/** Runs the query set and returns recall@10 and MRR (first expected thing's reciprocal rank, 0 when absent), and the misses. */
export async function evaluate(client: HttpClient, corpus: Corpus, cases = SEARCH_CASES) {
  let found = 0;
  let rr = 0;
  const misses: { q: string; rank: number | null }[] = [];
  for (const c of cases) {
    const r = await client.get(`/api/search?q=${encodeURIComponent(c.q)}&limit=50`);
    if (r.status !== 200) throw new Error(`search ${c.q}: ${r.status}`);
    const things = rankedThings(r.body.hits);
    const wanted = c.expect.map((k) => corpus.targets[k]);
    const rank = things.findIndex((t) => wanted.some((w) => w.kind === t.kind && w.refId === t.refId));
    if (rank >= 0 && rank < 10) found++;
    if (rank >= 0) rr += 1 / (rank + 1);
    if (rank !== 0) misses.push({ q: c.q, rank: rank >= 0 ? rank + 1 : null });
  }
  return { queries: cases.length, recallAt10: found / cases.length, mrr: rr / cases.length, misses };
}
