import { type PDFFont, type PDFPage, rgb } from 'pdf-lib';
import type { Logger } from '../log.js';
import { renderPdf } from '../pdf/fonts.js';
import { wrapText } from '../pdf/wrap.js';
import type { ConsultationReportData } from './consultations.service.js';

const MM = 72 / 25.4;
const PAGE = { w: 210 * MM, h: 297 * MM, top: 20 * MM, bottom: 20 * MM, left: 30 * MM, right: 15 * MM };
const ANSWER_VI = { agree: 'Đồng ý', disagree: 'Không đồng ý', other: 'Ý kiến khác' } as const;

const fmt = (iso: string) =>
  new Intl.DateTimeFormat('vi-VN', { timeZone: 'Asia/Ho_Chi_Minh', dateStyle: 'short', timeStyle: 'short' }).format(new Date(iso));

/**
 * The report of a written consultation (Báo cáo tổng hợp ý kiến) as an A4 PDF: the question, the
 * deadline, the counts (agree / disagree / other / no answer) and every answer with its comment.
 */
export async function renderConsultationReport(data: ConsultationReportData, opts: { log?: Pick<Logger, 'warn'> } = {}): Promise<Buffer> {
  // Tinos regular and bold, subset to the characters drawn (server/pdf/fonts.ts).
  return renderPdf(
    ['regular', 'bold'],
    (pdf, { regular: r, bold: b }) => {
      const c = data.consultation;
      pdf.setTitle(`Báo cáo tổng hợp ý kiến: ${c.title}`);
      let page: PDFPage = pdf.addPage([PAGE.w, PAGE.h]);
      let y = PAGE.h - PAGE.top;
      const width = PAGE.w - PAGE.left - PAGE.right;

      const write = (text: string, opts: { f?: PDFFont; size?: number; center?: boolean; gap?: number } = {}) => {
        const f = opts.f ?? r;
        const size = opts.size ?? 13;
        for (const line of wrapText(text, f, size, width)) {
          if (y - size < PAGE.bottom) {
            page = pdf.addPage([PAGE.w, PAGE.h]);
            y = PAGE.h - PAGE.top;
          }
          y -= size * 1.35;
          const x = opts.center ? PAGE.left + (width - f.widthOfTextAtSize(line, size)) / 2 : PAGE.left;
          page.drawText(line, { x, y, size, font: f, color: rgb(0, 0, 0) });
        }
        y -= opts.gap ?? 0;
      };

      write(data.committeeName.toUpperCase(), { f: b, size: 12, center: true, gap: 10 });
      write('BÁO CÁO TỔNG HỢP Ý KIẾN', { f: b, size: 15, center: true });
      write(`(Lấy ý kiến bằng văn bản: ${c.title})`, { center: true, gap: 12 });
      write('Nội dung xin ý kiến:', { f: b });
      write(c.question, { gap: 6 });
      write(`Gửi ngày ${fmt(c.createdAt)}; hạn trả lời ${fmt(c.deadline)}; số thành viên được xin ý kiến: ${data.recipients.length}.`, { gap: 10 });
      const n = (k: string) => data.answers.filter((a) => a.answer === k).length;
      write('Kết quả:', { f: b });
      write(`Đồng ý: ${n('agree')}    Không đồng ý: ${n('disagree')}    Ý kiến khác: ${n('other')}    Không trả lời: ${data.recipients.length - data.answers.length}`, { gap: 10 });
      write('Ý kiến của từng thành viên:', { f: b, gap: 2 });
      data.answers.forEach((a, i) => {
        write(`${i + 1}. ${a.fullName} — ${ANSWER_VI[a.answer]} (${fmt(a.answeredAt)})`, { f: b, size: 12 });
        if (a.comment) write(a.comment, { size: 12, gap: 4 });
      });
      const silent = data.recipients.filter((x) => !data.answers.some((a) => a.userId === x.userId));
      if (silent.length) write(`Không trả lời: ${silent.map((x) => x.fullName).join(', ')}.`, { size: 12, gap: 4 });
      const pages = pdf.getPages();
      pages.forEach((p, i) => p.drawText(`${i + 1}/${pages.length}`, { x: PAGE.w - PAGE.right - 30, y: PAGE.bottom / 2, size: 10, font: r }));
    },
    { log: opts.log },
  );
}
