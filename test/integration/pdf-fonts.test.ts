import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VoteView } from '../../shared/protocol/votes.js';
import { renderConsultationReport } from '../../server/consultations/consultations.pdf.js';
import { runDemoMeeting } from '../../server/minutes/minutes.demo.js';
import { renderMinutesPdf, renderTablePdf } from '../../server/minutes/minutes.pdf.js';
import { finalizeMinutes, signMinutes } from '../../server/minutes/minutes.service.js';
import { lastRender } from '../../server/pdf/fonts.js';
import { renderVotePdf } from '../../server/votes/votes.pdf.js';
import { pdfsig } from '../helpers/pdfsig.js';
import { type BuiltMeeting, buildDemoCast } from '../helpers/factories.js';
import { type TestServer, startTestServer, userIds } from '../helpers/server.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ec-pdf-fonts-'));
let n = 0;
/** Runs a poppler tool on the PDF bytes (written to a temporary file). */
function poppler(tool: 'pdffonts' | 'pdftotext', pdf: Buffer, args: string[] = []): string {
  const file = path.join(dir, `${++n}.pdf`);
  fs.writeFileSync(file, pdf);
  return execFileSync(`/usr/bin/${tool}`, tool === 'pdftotext' ? [...args, file, '-'] : [file], { encoding: 'utf8' });
}
/** pdffonts rows: name, emb, sub. */
function fonts(pdf: Buffer): { name: string; emb: string; sub: string }[] {
  return poppler('pdffonts', pdf)
    .split('\n')
    .slice(2)
    .filter(Boolean)
    .map((l) => {
      const c = l.trim().split(/\s+/);
      return { name: c[0], emb: c[c.length - 5], sub: c[c.length - 4] };
    });
}
function expectSubsets(pdf: Buffer, names: string[]): void {
  const f = fonts(pdf);
  expect(f.map((x) => x.name.replace(/^[A-Z]{6}\+/, '')).sort()).toEqual([...names].sort());
  for (const x of f) {
    expect(x.name).toMatch(/^[A-Z]{6}\+Tinos-/);
    expect(x).toMatchObject({ emb: 'yes', sub: 'yes' });
  }
}

/** Text with every kind of character the generators draw: Vietnamese letters and tones, ư/ơ/đ, typographic punctuation. */
const MIXED = 'Ý kiến “thống nhất” – đề nghị bổ sung… • Ưu tiên; ơn; Đường; Nguyễn Văn An';

describe('PDF fonts: Tinos subsets made by hb-subset', () => {
  let s: TestServer;
  let m: BuiltMeeting;
  beforeAll(async () => {
    s = await startTestServer({ seed: 'admin' });
    m = await buildDemoCast(s);
  });
  afterAll(async () => {
    await s?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('the signed demo minutes embed subsets (ABCDEF+ names), keep the Vietnamese text exactly, are < 400 KB, and both signatures verify', async () => {
    const { ctx } = s.app;
    const ids = await userIds(await s.login('admin'));
    const as = (u: string) => ({ id: ids[u], username: u, fullName: '', title: null, unit: null, systemRole: 'user' as const, locale: 'vi' as const });
    await runDemoMeeting(ctx, m.meetingId);
    // Rendered in the PDF pool's workers (this thread's `lastRender` stays untouched): the subsets are checked on the bytes.
    const v = await finalizeMinutes(ctx, as('secretary'), m.meetingId);
    expectSubsets(v.pdf, ['Tinos-Regular', 'Tinos-Bold', 'Tinos-Italic', 'Tinos-BoldItalic']);
    await signMinutes(ctx, as('chair'), m.meetingId, v.version, '123456', v.contentHash);
    const pdf = (await signMinutes(ctx, as('secretary'), m.meetingId, v.version, '123456', v.contentHash)).pdf;

    expect(pdf.length).toBeLessThan(400_000); // 1.45 MB with whole fonts
    // The document's four fonts, plus one small subset per visible signature (server/signing/pdf-stamp.ts).
    expectSubsets(pdf, ['Tinos-Regular', 'Tinos-Bold', 'Tinos-Italic', 'Tinos-BoldItalic', 'Tinos-Regular', 'Tinos-Regular']);
    const text = poppler('pdftotext', pdf);
    for (const t of ['CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM', 'Độc lập - Tự do - Hạnh phúc', 'BIÊN BẢN', 'Ủy quyền cho Nguyễn Văn An', 'Vắng (lý do: Ốm)', 'THƯ KÝ', 'CHỦ TỌA', '(Ký, ghi rõ họ tên)']) {
      expect(text).toContain(t);
    }
    // The visible signature blocks: signer, role, time, certificate serial and fingerprint.
    for (const t of ['Đã ký số bởi:', 'Vai trò: Chủ tọa', 'Vai trò: Thư ký', 'Thời gian ký:', 'Số sê-ri chứng thư:', 'SHA-256:']) expect(text).toContain(t);
    expect(pdfsig(pdf).signatures.map((x) => x.validation)).toEqual(['Signature is Valid.', 'Signature is Valid.']);
  });

  it('minutes with every emphasis and typographic punctuation: each of the four fonts keeps exactly what it draws', async () => {
    const pdf = await renderMinutesPdf({
      parentBody: 'UBND Thành phố Hà Nội',
      issuingBody: 'Ban Chỉ đạo Chuyển đổi số',
      number: '07/BB-BCĐ',
      place: 'Hà Nội',
      date: '2026-12-01T01:30:00.000Z',
      subject: 'Phiên họp thường kỳ',
      blocks: [
        { t: 'h', level: 3, text: 'Ưu tiên đầu tư – giai đoạn 2026' },
        { t: 'p', runs: [{ text: MIXED }] },
        { t: 'p', runs: [{ text: 'Đậm: Nguyễn Thị Hường', b: true }] },
        { t: 'p', runs: [{ text: 'Nghiêng: Trương Quốc Ơn', i: true }] },
        { t: 'p', runs: [{ text: 'Đậm nghiêng: Phạm Đức Lượng', b: true, i: true }] },
      ],
      chair: { name: 'Trần Sỹ Thanh', title: 'Chủ tịch' },
      secretary: { name: 'Phan Thị Thu', title: 'Chuyên viên' },
    });
    expect(lastRender.subset).toBe(true);
    expectSubsets(pdf, ['Tinos-Regular', 'Tinos-Bold', 'Tinos-Italic', 'Tinos-BoldItalic']);
    const text = poppler('pdftotext', pdf);
    for (const t of [MIXED, 'Ưu tiên đầu tư – giai đoạn 2026', 'Đậm: Nguyễn Thị Hường', 'Nghiêng: Trương Quốc Ơn', 'Đậm nghiêng: Phạm Đức Lượng', 'Hà Nội, ngày 01 tháng 12 năm 2026']) {
      expect(text).toContain(t);
    }
    expect(pdf.length).toBeLessThan(150_000);
  });

  it('the vote record: embedded subsets and the exact Vietnamese text', async () => {
    const v = {
      id: 3,
      title: 'Thông qua báo cáo quý IV – “Chuyển đổi số”',
      kind: 'motion',
      secret: false,
      options: [
        { index: 0, label: 'Tán thành' },
        { index: 1, label: 'Không tán thành' },
      ],
      openedAt: '2026-12-01T02:00:00.000Z',
      closedAt: '2026-12-01T02:05:00.000Z',
      announcedAt: null,
      result: {
        outcome: 'adopted',
        counts: [4, 1],
        abstentions: 0,
        eligible: 5,
        members: 12,
        rule: { vi: 'Quá nửa số người có quyền biểu quyết', en: '' },
        explanation: { vi: 'Thông qua: 4 tán thành, 1 không tán thành…', en: '' },
      },
      roll: [
        { userId: 1, fullName: 'Nguyễn Văn An', choices: [0], castBy: 1 },
        { userId: 2, fullName: 'Dương Thị Hường', choices: [1], castBy: 2 },
      ],
    } as unknown as VoteView;
    const pdf = await renderVotePdf(v, 'Phiên họp thường kỳ quý IV', ['Dương Thị Hường', 'Nguyễn Văn An']);
    expect(lastRender.subset).toBe(true);
    expectSubsets(pdf, ['Tinos-Regular', 'Tinos-Bold']);
    const text = poppler('pdftotext', pdf);
    for (const t of ['KẾT QUẢ BIỂU QUYẾT', 'Nội dung: Thông qua báo cáo quý IV – “Chuyển đổi số”', 'Thông qua: 4 tán thành, 1 không tán thành…', 'Họ và tên', 'Lựa chọn', 'Nguyễn Văn An', 'Dương Thị Hường', 'Không tán thành', 'Kết quả: THÔNG QUA']) {
      expect(text).toContain(t);
    }
  });

  it('the consultation report: embedded subsets and the exact Vietnamese text', async () => {
    const data = {
      committeeName: 'Ban Chỉ đạo Chuyển đổi số',
      consultation: { title: 'Dự thảo Quy chế', question: 'Đề nghị các đồng chí cho ý kiến về dự thảo “Quy chế làm việc”.', createdAt: '2026-12-01T02:00:00.000Z', deadline: '2026-12-03T02:00:00.000Z' },
      recipients: [
        { userId: 1, fullName: 'Nguyễn Văn An' },
        { userId: 2, fullName: 'Trương Thị Ơn' },
        { userId: 3, fullName: 'Lê Đức Lượng' },
      ],
      answers: [
        { userId: 1, fullName: 'Nguyễn Văn An', answer: 'agree', comment: 'Nhất trí • không bổ sung…', answeredAt: '2026-12-01T03:00:00.000Z' },
        { userId: 2, fullName: 'Trương Thị Ơn', answer: 'other', comment: 'Đề nghị bổ sung Điều 5 – chế độ báo cáo', answeredAt: '2026-12-02T03:00:00.000Z' },
      ],
    } as unknown as Parameters<typeof renderConsultationReport>[0];
    const pdf = await renderConsultationReport(data);
    expect(lastRender.subset).toBe(true);
    expectSubsets(pdf, ['Tinos-Regular', 'Tinos-Bold']);
    const text = poppler('pdftotext', pdf);
    for (const t of ['BÁO CÁO TỔNG HỢP Ý KIẾN', 'BAN CHỈ ĐẠO CHUYỂN ĐỔI SỐ', 'Đề nghị các đồng chí cho ý kiến về dự thảo “Quy chế làm việc”.', 'Nguyễn Văn An — Đồng ý', 'Trương Thị Ơn — Ý kiến khác', 'Nhất trí • không bổ sung…', 'Đề nghị bổ sung Điều 5 – chế độ báo cáo', 'Không trả lời: Lê Đức Lượng.']) {
      expect(text).toContain(t);
    }
  });

  it('the task board export (table PDF): embedded subsets and the exact text', async () => {
    const pdf = await renderTablePdf({ heading: 'Ban Chỉ đạo', title: 'BẢNG THEO DÕI THỰC HIỆN NHIỆM VỤ', subtitle: 'Tính đến ngày 01/12/2026', rows: [['STT', 'Nhiệm vụ'], ['1', 'Xây dựng đề án “Đô thị thông minh”']] });
    expectSubsets(pdf, ['Tinos-Regular', 'Tinos-Bold', 'Tinos-Italic']);
    const text = poppler('pdftotext', pdf);
    for (const t of ['BAN CHỈ ĐẠO', 'BẢNG THEO DÕI THỰC HIỆN NHIỆM VỤ', 'Tính đến ngày 01/12/2026', 'Xây dựng đề án “Đô thị thông minh”']) expect(text).toContain(t);
  });
});
