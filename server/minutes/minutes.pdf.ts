import { PDFDict, type PDFDocument, type PDFFont, PDFName, type PDFPage, PDFString, rgb } from 'pdf-lib';
import type { MinutesBlock, MinutesDocument, MinutesRun } from '../../shared/protocol/minutes.js';
import type { Logger } from '../log.js';
import { type PdfFonts, renderPdf } from '../pdf/fonts.js';
import { wrapText } from '../pdf/wrap.js';
import { SIGNATURE_BOXES_KEY, type SignatureBox } from '../signing/pdf-stamp.js';

const MM = 72 / 25.4;
/** A4 with the margins of Nghị định 30: top/bottom 20 mm, left 30 mm, right 15 mm. */
const PAGE = { w: 210 * MM, h: 297 * MM, top: 20 * MM, bottom: 20 * MM, left: 30 * MM, right: 15 * MM };
const BODY_SIZE = 13;
const LEADING = 1.35;
const BLACK = rgb(0, 0, 0);

interface Fonts {
  r: PDFFont;
  b: PDFFont;
  i: PDFFont;
  bi: PDFFont;
}

/** Date line "Hà Nội, ngày 05 tháng 12 năm 2026" in Asia/Ho_Chi_Minh. */
export function placeAndDate(place: string, iso: string): string {
  const parts = new Intl.DateTimeFormat('en-GB', { timeZone: 'Asia/Ho_Chi_Minh', day: '2-digit', month: '2-digit', year: 'numeric' }).formatToParts(new Date(iso));
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? '';
  return `${place}, ngày ${get('day')} tháng ${get('month')} năm ${get('year')}`;
}

/**
 * Renders minutes (biên bản) as an A4 PDF in the Vietnamese administrative layout of
 * Nghị định 30/2020/NĐ-CP: issuing bodies and number on the left, the national heading on the
 * right, place and date, the title BIÊN BẢN and its subject, the body, and the signature blocks
 * (THƯ KÝ left, CHỦ TỌA right). Page numbers from page 2, centred at the top. Fonts: Tinos,
 * embedded as subsets of the characters the minutes use (server/pdf/fonts.ts; the whole font only
 * if subsetting fails). Saved with a classic xref table so signatures can be appended incrementally.
 */
export async function renderMinutesPdf(docModel: MinutesDocument, opts: { creationDate?: Date; log?: Pick<Logger, 'warn'> } = {}): Promise<Buffer> {
  // Bold italic (level-3 headings, bold+italic runs) is embedded only when some text uses it.
  const usesBoldItalic = docModel.blocks.some(
    (b) => (b.t === 'h' && b.level === 3) || (b.t === 'p' && b.runs.some((r) => r.b && r.i)) || ((b.t === 'ul' || b.t === 'ol') && b.items.some((it) => it.some((r) => r.b && r.i))),
  );
  const styles = usesBoldItalic ? (['regular', 'bold', 'italic', 'boldItalic'] as const) : (['regular', 'bold', 'italic'] as const);
  return renderPdf(
    styles,
    (pdf, f: Partial<PdfFonts<'regular' | 'bold' | 'italic' | 'boldItalic'>>) => {
      const F: Fonts = { r: f.regular!, b: f.bold!, i: f.italic!, bi: f.boldItalic ?? f.bold! };
      pdf.setTitle(`Biên bản ${docModel.subject}`.normalize('NFC'));
      pdf.setProducer('E-Cabinet');
      pdf.setCreator('E-Cabinet');
      pdf.setLanguage('vi-VN');
      const when = opts.creationDate ?? new Date(docModel.date);
      pdf.setCreationDate(when);
      pdf.setModificationDate(when);

      const w = new Writer(pdf, F);
      w.heading(docModel);
      for (const b of docModel.blocks) w.block(b);
      w.signatures(docModel);
      w.pageNumbers();
      // Where each signer's visible signature goes (server/signing/pdf-stamp.ts draws it at signing).
      const info = pdf.context.lookup(pdf.context.trailerInfo.Info, PDFDict);
      info.set(PDFName.of(SIGNATURE_BOXES_KEY), PDFString.of(JSON.stringify(w.signatureBoxes)));
    },
    { save: { useObjectStreams: false }, log: opts.log },
  );
}

/** Lays text out top to bottom across pages. */
class Writer {
  page!: PDFPage;
  y = 0;
  readonly pages: PDFPage[] = [];
  /** The space left for each signer's visible signature, by role (filled by `signatures`). */
  readonly signatureBoxes: Record<string, SignatureBox> = {};
  readonly width = PAGE.w - PAGE.left - PAGE.right;

  constructor(
    readonly pdf: PDFDocument,
    readonly F: Fonts,
  ) {
    this.newPage();
  }

  newPage(): void {
    this.page = this.pdf.addPage([PAGE.w, PAGE.h]);
    this.pages.push(this.page);
    this.y = PAGE.h - PAGE.top;
  }

  ensure(height: number): void {
    if (this.y - height < PAGE.bottom) this.newPage();
  }

  text(s: string, x: number, size: number, font: PDFFont): void {
    this.page.drawText(s.normalize('NFC'), { x, y: this.y - size, size, font, color: BLACK });
  }

  centered(s: string, cx: number, size: number, font: PDFFont): number {
    const t = s.normalize('NFC');
    const tw = font.widthOfTextAtSize(t, size);
    this.page.drawText(t, { x: cx - tw / 2, y: this.y - size, size, font, color: BLACK });
    return tw;
  }

  /** Wraps plain text into lines no wider than `width` (line breaks count as spaces). */
  wrap(s: string, font: PDFFont, size: number, width: number): string[] {
    return wrapText(s.normalize('NFC'), font, size, width, { lineBreaks: 'space' });
  }

  heading(d: MinutesDocument): void {
    const leftW = 75 * MM;
    const leftCx = PAGE.left + leftW / 2 - 8 * MM;
    const rightCx = PAGE.left + leftW + (this.width - leftW) / 2;
    const top = this.y;
    // Left column: parent body (regular, upper case), issuing body (bold, upper case), a rule, number.
    let yl = top;
    for (const line of this.wrap(d.parentBody.toUpperCase(), this.F.r, 12, leftW)) {
      this.y = yl;
      this.centered(line, leftCx, 12, this.F.r);
      yl -= 12 * 1.2;
    }
    let lastW = 0;
    for (const line of this.wrap(d.issuingBody.toUpperCase(), this.F.b, 12, leftW)) {
      this.y = yl;
      lastW = this.centered(line, leftCx, 12, this.F.b);
      yl -= 12 * 1.2;
    }
    yl -= 3;
    const ruleW = Math.min(lastW, 30 * MM);
    this.page.drawLine({ start: { x: leftCx - ruleW / 2, y: yl }, end: { x: leftCx + ruleW / 2, y: yl }, thickness: 0.6, color: BLACK });
    yl -= 8;
    this.y = yl;
    this.centered(`Số: ${d.number}`, leftCx, 13, this.F.r);
    yl -= 13 * 1.3;

    // Right column: national heading, motto underlined, place and date in italics.
    let yr = top;
    this.y = yr;
    this.centered('CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM', rightCx, 12, this.F.b);
    yr -= 12 * 1.25;
    this.y = yr;
    const mw = this.centered('Độc lập - Tự do - Hạnh phúc', rightCx, 13, this.F.b);
    yr -= 13 * 1.25 + 2;
    this.page.drawLine({ start: { x: rightCx - mw / 2, y: yr }, end: { x: rightCx + mw / 2, y: yr }, thickness: 0.6, color: BLACK });
    yr -= 10;
    this.y = yr;
    this.centered(placeAndDate(d.place, d.date), rightCx, 13, this.F.i);
    yr -= 13 * 1.3;

    this.y = Math.min(yl, yr) - 22;
    const cx = PAGE.left + this.width / 2;
    this.centered('BIÊN BẢN', cx, 14, this.F.b);
    this.y -= 14 * 1.3;
    for (const line of this.wrap(d.subject, this.F.b, 14, this.width - 20 * MM)) {
      this.centered(line, cx, 14, this.F.b);
      this.y -= 14 * 1.3;
    }
    this.y -= 12;
  }

  block(b: MinutesBlock): void {
    switch (b.t) {
      case 'h': {
        const size = b.level === 1 ? 13.5 : BODY_SIZE;
        const lines = this.wrap(b.text, this.F.b, size, this.width);
        this.ensure(size * LEADING * (lines.length + 1.5));
        this.y -= 4;
        for (const l of lines) {
          this.text(l, PAGE.left, size, b.level === 3 ? this.F.bi : this.F.b);
          this.y -= size * LEADING;
        }
        this.y -= 2;
        return;
      }
      case 'p':
        this.runs(b.runs, PAGE.left, this.width, b.indent === false ? 0 : 10 * MM);
        this.y -= 4;
        return;
      case 'ul':
      case 'ol':
        b.items.forEach((item, i) => {
          const bullet = b.t === 'ul' ? '-' : `${i + 1}.`;
          const indent = 10 * MM;
          this.ensure(BODY_SIZE * LEADING);
          this.text(bullet, PAGE.left + indent - (b.t === 'ul' ? 5 * MM : 7 * MM), BODY_SIZE, this.F.r);
          this.runs(item, PAGE.left + indent, this.width - indent, 0);
        });
        this.y -= 4;
        return;
      case 'table':
        this.table(b.rows, b.header ?? true);
        return;
    }
  }

  /** Mixed-emphasis paragraph, word-wrapped, first line indented. */
  runs(runs: MinutesRun[], x0: number, width: number, firstIndent: number): void {
    const words: { s: string; font: PDFFont }[] = [];
    for (const r of runs) {
      const font = r.b && r.i ? this.F.bi : r.b ? this.F.b : r.i ? this.F.i : this.F.r;
      for (const s of r.text.normalize('NFC').split(/\s+/).filter(Boolean)) words.push({ s, font });
    }
    if (words.length === 0) {
      this.y -= BODY_SIZE * LEADING * 0.5;
      return;
    }
    const space = this.F.r.widthOfTextAtSize(' ', BODY_SIZE);
    let line: typeof words = [];
    let lineW = 0;
    let first = true;
    const flush = (last: boolean) => {
      this.ensure(BODY_SIZE * LEADING);
      const avail = width - (first ? firstIndent : 0);
      const natural = line.reduce((a, w) => a + w.font.widthOfTextAtSize(w.s, BODY_SIZE), 0);
      // Justify full lines, as administrative documents are typeset.
      const gap = !last && line.length > 1 ? (avail - natural) / (line.length - 1) : space;
      let x = x0 + (first ? firstIndent : 0);
      for (const w of line) {
        this.page.drawText(w.s, { x, y: this.y - BODY_SIZE, size: BODY_SIZE, font: w.font, color: BLACK });
        x += w.font.widthOfTextAtSize(w.s, BODY_SIZE) + gap;
      }
      this.y -= BODY_SIZE * LEADING;
      first = false;
      line = [];
      lineW = 0;
    };
    for (const w of words) {
      const ww = w.font.widthOfTextAtSize(w.s, BODY_SIZE);
      const avail = width - (first ? firstIndent : 0);
      if (line.length && lineW + space + ww > avail) flush(false);
      lineW += (line.length ? space : 0) + ww;
      line.push(w);
    }
    if (line.length) flush(true);
  }

  table(rows: string[][], header: boolean): void {
    if (rows.length === 0) return;
    const cols = Math.max(...rows.map((r) => r.length));
    const size = 11.5;
    // Column widths proportional to the longest cell, with a floor.
    const longest = Array.from({ length: cols }, (_, c) => Math.max(6, ...rows.map((r) => (r[c] ?? '').length)));
    const total = longest.reduce((a, b) => a + Math.min(b, 60), 0);
    const widths = longest.map((l) => (Math.min(l, 60) / total) * this.width);
    const pad = 3;
    rows.forEach((row, ri) => {
      const font = header && ri === 0 ? this.F.b : this.F.r;
      const cells = widths.map((wd, c) => this.wrap(row[c] ?? '', font, size, wd - 2 * pad));
      const h = Math.max(...cells.map((l) => l.length)) * size * 1.25 + 2 * pad;
      this.ensure(h);
      let x = PAGE.left;
      const top = this.y;
      cells.forEach((lines, c) => {
        this.page.drawRectangle({ x, y: top - h, width: widths[c], height: h, borderColor: BLACK, borderWidth: 0.5 });
        lines.forEach((l, li) => {
          this.page.drawText(l, { x: x + pad, y: top - pad - size - li * size * 1.25 + 2, size, font, color: BLACK });
        });
        x += widths[c];
      });
      this.y = top - h;
    });
    this.y -= 8;
  }

  signatures(d: MinutesDocument): void {
    const block = 11 * BODY_SIZE * LEADING;
    this.ensure(block);
    this.y -= 16;
    const leftCx = PAGE.left + this.width * 0.25;
    const rightCx = PAGE.left + this.width * 0.75;
    const top = this.y;
    const boxW = this.width / 2 - 10;
    const col = (cx: number, role: string, p: { name: string; title: string | null }, key: string) => {
      this.y = top;
      this.centered(role, cx, BODY_SIZE, this.F.b);
      this.y -= BODY_SIZE * LEADING;
      this.centered('(Ký, ghi rõ họ tên)', cx, 12, this.F.i);
      // The gap between "(Ký, ghi rõ họ tên)" and the printed name holds the visible signature.
      const gapTop = this.y - 12 - 4;
      this.y -= BODY_SIZE * LEADING * 5;
      const gapBottom = this.y - 2;
      this.signatureBoxes[key] = { page: this.pages.length - 1, x: cx - boxW / 2, y: gapBottom, w: boxW, h: gapTop - gapBottom };
      this.centered(p.name, cx, BODY_SIZE, this.F.b);
      if (p.title) {
        this.y -= BODY_SIZE * LEADING;
        for (const l of this.wrap(p.title, this.F.r, 12, this.width / 2 - 10)) {
          this.centered(l, cx, 12, this.F.r);
          this.y -= 12 * 1.2;
        }
      }
      return this.y;
    };
    const a = col(leftCx, 'THƯ KÝ', d.secretary, 'secretary');
    const b = col(rightCx, 'CHỦ TỌA', d.chair, 'chair');
    this.y = Math.min(a, b) - BODY_SIZE;
  }

  pageNumbers(): void {
    if (this.pages.length < 2) return;
    this.pages.forEach((p, i) => {
      if (i === 0) return;
      const s = String(i + 1);
      const tw = this.F.r.widthOfTextAtSize(s, 13);
      p.drawText(s, { x: PAGE.left + this.width / 2 - tw / 2, y: PAGE.h - 12 * MM, size: 13, font: this.F.r, color: BLACK });
    });
  }
}

/**
 * A plain A4 report with a title and one table (the follow-up board export), same fonts and
 * margins as the minutes.
 */
export async function renderTablePdf(r: { heading: string; title: string; subtitle?: string; rows: string[][] }, opts: { log?: Pick<Logger, 'warn'> } = {}): Promise<Buffer> {
  return renderPdf(
    ['regular', 'bold', 'italic'],
    (pdf, f) => {
      const F: Fonts = { r: f.regular, b: f.bold, i: f.italic, bi: f.bold };
      pdf.setTitle(r.title.normalize('NFC'));
      pdf.setProducer('E-Cabinet');
      const w = new Writer(pdf, F);
      const cx = PAGE.left + w.width / 2;
      w.centered(r.heading.toUpperCase(), cx, 12, F.b);
      w.y -= 30;
      w.centered(r.title, cx, 14, F.b);
      w.y -= 14 * 1.4;
      if (r.subtitle) {
        w.centered(r.subtitle, cx, 12, F.i);
        w.y -= 12 * 1.6;
      }
      w.table(r.rows, true);
      w.pageNumbers();
    },
    { save: { useObjectStreams: false }, log: opts.log },
  );
}
