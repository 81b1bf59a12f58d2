import { rollSentence } from '../../shared/rules/roll.js';
import { type PDFFont, type PDFPage, rgb } from 'pdf-lib';
import type { VoteView } from '../../shared/protocol/votes.js';
import type { Logger } from '../log.js';
import { renderPdf } from '../pdf/fonts.js';
import { wrapText } from '../pdf/wrap.js';

const MM = 72 / 25.4;
const PAGE = { w: 210 * MM, h: 297 * MM, top: 20 * MM, bottom: 20 * MM, left: 30 * MM, right: 15 * MM };
const KIND = { motion: 'Biểu quyết thông qua', single: 'Chọn một phương án', multiple: 'Chọn nhiều phương án', election: 'Bầu cử' } as const;
const OUTCOME = { adopted: 'THÔNG QUA', rejected: 'KHÔNG THÔNG QUA', no_quorum: 'KHÔNG HỢP LỆ (không đủ số lượng)', tie: 'HÒA (chờ chủ tọa quyết định)' } as const;
const fmt = (iso: string | null) => (iso ? new Intl.DateTimeFormat('vi-VN', { timeZone: 'Asia/Ho_Chi_Minh', dateStyle: 'short', timeStyle: 'medium' }).format(new Date(iso)) : '—');

/**
 * The record of a vote as an A4 PDF: configuration, open/close times, who was eligible (count), each
 * count, the rule, the outcome and its explanation; for named votes the roll (who voted what).
 * A secret vote's PDF has no roll: nothing links a voter to a choice.
 */
export async function renderVotePdf(v: VoteView, meetingTitle: string, eligibleNames: string[], opts: { log?: Pick<Logger, 'warn'> } = {}): Promise<Buffer> {
  // Tinos regular and bold, subset to the characters drawn (server/pdf/fonts.ts).
  return renderPdf(
    ['regular', 'bold'],
    (pdf, { regular: r, bold: b }) => {
      pdf.setTitle(`Kết quả biểu quyết: ${v.title}`);
      let page: PDFPage = pdf.addPage([PAGE.w, PAGE.h]);
      let y = PAGE.h - PAGE.top;
      const width = PAGE.w - PAGE.left - PAGE.right;
      const write = (text: string, opts: { f?: PDFFont; size?: number; center?: boolean; gap?: number } = {}) => {
        const f = opts.f ?? r;
        const size = opts.size ?? 13;
        for (const l of wrapText(text, f, size, width, { lineBreaks: 'space' })) {
          if (y - size < PAGE.bottom) {
            page = pdf.addPage([PAGE.w, PAGE.h]);
            y = PAGE.h - PAGE.top;
          }
          y -= size * 1.35;
          page.drawText(l, { x: opts.center ? PAGE.left + (width - f.widthOfTextAtSize(l, size)) / 2 : PAGE.left, y, size, font: f, color: rgb(0, 0, 0) });
        }
        y -= opts.gap ?? 0;
      };
      const label = (i: number) => (v.kind === 'motion' ? (i === 0 ? 'Tán thành' : 'Không tán thành') : (v.options[i]?.label ?? ''));
      write('KẾT QUẢ BIỂU QUYẾT', { f: b, size: 15, center: true });
      write(meetingTitle, { center: true, gap: 10 });
      write(`Nội dung: ${v.title}`, { f: b });
      write(`Hình thức: ${KIND[v.kind]}, ${v.secret ? 'bỏ phiếu kín' : 'biểu quyết công khai (ghi danh)'}.`);
      write(`Mở lúc ${fmt(v.openedAt)}; kết thúc lúc ${fmt(v.closedAt)}${v.announcedAt ? `; công bố lúc ${fmt(v.announcedAt)}` : ''}.`, { gap: 8 });
      if (v.annulledAt) write(`ĐÃ HỦY lúc ${fmt(v.annulledAt)}, lý do: ${v.annulReason ?? ''}.`, { f: b, gap: 6 });
      if (v.bloc) write(`Biểu quyết gộp: ${v.bloc.filter((x) => x.pulledBy == null).map((x) => x.title).join('; ')}.`, { gap: 6 });
      if (v.quorumOverrideReason) write(`Chủ tọa mở biểu quyết khi chưa đủ số lượng tối thiểu, lý do: ${v.quorumOverrideReason}.`, { gap: 6 });
      const res = v.result;
      if (res) {
        write(`Quy tắc: ${res.rule.vi}. ${rollSentence({ voted: res.voted + res.abstentions, eligible: res.eligible, members: res.members }, 'vi')}.`, { gap: 6 });
        v.options.forEach((o) => write(`${label(o.index)}: ${res.counts[o.index] ?? 0}`));
        write(`Không biểu quyết: ${res.abstentions}`, { gap: 6 });
        write(`Kết quả: ${OUTCOME[res.outcome]}`, { f: b });
        write(res.explanation.vi, { gap: 8 });
      } else write('Biểu quyết chưa kết thúc.', { gap: 8 });
      if (v.roll) {
        write('Danh sách biểu quyết (công khai):', { f: b });
        // A table: number, member (and, on a second line, the proxy who cast it), choice.
        const cols = [PAGE.left, PAGE.left + 28, PAGE.left + width * 0.64];
        const row = (cells: string[][], f: PDFFont) => {
          const h = 14 * Math.max(...cells.map((c) => c.length));
          if (y - h - 8 < PAGE.bottom) {
            page = pdf.addPage([PAGE.w, PAGE.h]);
            y = PAGE.h - PAGE.top;
          }
          cells.forEach((lines, i) => {
            const max = (i + 1 < cols.length ? cols[i + 1] : PAGE.left + width) - cols[i] - 6;
            lines.forEach((line, k) => {
              let t = line;
              while (t.length > 1 && f.widthOfTextAtSize(t, 11) > max) t = `${t.slice(0, -2)}…`;
              page.drawText(t, { x: cols[i], y: y - 14 * (k + 1), size: 11, font: f, color: rgb(0, 0, 0) });
            });
          });
          y -= h;
          page.drawLine({ start: { x: PAGE.left, y: y - 4 }, end: { x: PAGE.left + width, y: y - 4 }, thickness: 0.5, color: rgb(0.6, 0.6, 0.6) });
          y -= 4;
        };
        row([['STT'], ['Họ và tên'], ['Lựa chọn']], b);
        v.roll.forEach((x, i) =>
          row([[String(i + 1)], x.castByName ? [x.fullName, `(qua ủy quyền: ${x.castByName})`] : [x.fullName], [x.choices.length ? x.choices.map(label).join(', ') : 'Không biểu quyết']], r),
        );
        y -= 6;
      }
      if (eligibleNames.length) write(`Người có quyền biểu quyết khi kết thúc: ${eligibleNames.join(', ')}.`, { size: 11 });
      const pages = pdf.getPages();
      pages.forEach((p, i) => p.drawText(`${i + 1}/${pages.length}`, { x: PAGE.w - PAGE.right - 30, y: PAGE.bottom / 2, size: 10, font: r }));
    },
    { log: opts.log },
  );
}
