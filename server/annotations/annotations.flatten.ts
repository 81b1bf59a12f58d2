import fs from 'node:fs/promises';
import fontkit from '@pdf-lib/fontkit';
import {
  BlendMode,
  LineCapStyle,
  LineJoinStyle,
  PDFDocument,
  type PDFFont,
  type PDFPage,
  lineTo,
  moveTo,
  popGraphicsState,
  pushGraphicsState,
  rgb,
  setLineCap,
  setLineJoin,
  setLineWidth,
  setStrokingRgbColor,
  stroke,
} from 'pdf-lib';
import type { AnnotationItem } from '../../shared/protocol/annotations.js';
import { wrapText } from '../pdf/wrap.js';

const hex = (c: string) => rgb(parseInt(c.slice(1, 3), 16) / 255, parseInt(c.slice(3, 5), 16) / 255, parseInt(c.slice(5, 7), 16) / 255);

/**
 * Draws annotation items into a PDF ("my annotated copy"): highlights as translucent multiply
 * rectangles, ink as stroked paths, notes as a coloured marker with their text in a box beside it.
 * Items are in PDF user space, which is what pdf-lib draws in, so nothing is transformed; items on
 * pages the PDF does not have are skipped (they were flagged when carried over). `fontPath` must be
 * a TTF covering Vietnamese (the documents domain ships Noto Sans).
 */
export async function flattenAnnotations(pdfBytes: Uint8Array, items: AnnotationItem[], fontPath: string): Promise<Uint8Array> {
  const pdf = await PDFDocument.load(pdfBytes, { updateMetadata: false });
  const pages = pdf.getPages();
  let font: PDFFont | null = null;
  for (const item of items) {
    const page = pages[item.page - 1];
    if (!page) continue;
    if (item.kind === 'highlight') {
      for (const r of item.rects) {
        page.drawRectangle({ x: r.x, y: r.y, width: r.w, height: r.h, color: hex(item.color), opacity: 0.4, blendMode: BlendMode.Multiply });
      }
    } else if (item.kind === 'ink') {
      drawStroke(page, item.points, item.color, item.width);
    } else {
      if (!font) {
        pdf.registerFontkit(fontkit);
        font = await pdf.embedFont(await fs.readFile(fontPath), { subset: true });
      }
      drawNote(page, font, item.x, item.y, item.text, item.color);
    }
  }
  return pdf.save({ useObjectStreams: false });
}

function drawStroke(page: PDFPage, points: number[], color: string, width: number): void {
  const c = hex(color);
  const ops = [pushGraphicsState(), setStrokingRgbColor(c.red, c.green, c.blue), setLineWidth(width), setLineCap(LineCapStyle.Round), setLineJoin(LineJoinStyle.Round), moveTo(points[0], points[1])];
  // A single point (a tap) still leaves a visible dot thanks to the round cap.
  if (points.length === 2) ops.push(lineTo(points[0] + 0.01, points[1]));
  for (let i = 2; i + 1 < points.length; i += 2) ops.push(lineTo(points[i], points[i + 1]));
  ops.push(stroke(), popGraphicsState());
  page.pushOperators(...ops);
}

function drawNote(page: PDFPage, font: PDFFont, x: number, y: number, text: string, color: string): void {
  const size = 9;
  const marker = 14;
  page.drawRectangle({ x, y: y - marker, width: marker, height: marker, color: hex(color), borderColor: rgb(0.2, 0.2, 0.2), borderWidth: 0.5 });
  const lines = wrap(text, font, size, 180).slice(0, 30);
  if (lines.length === 0) return;
  const boxH = lines.length * size * 1.3 + 6;
  const bx = x + marker + 4;
  const by = y - boxH;
  page.drawRectangle({ x: bx, y: by, width: 188, height: boxH, color: rgb(1, 0.98, 0.8), opacity: 0.92, borderColor: hex(color), borderWidth: 0.75 });
  lines.forEach((line, i) => page.drawText(line, { x: bx + 4, y: y - 3 - size - i * size * 1.3, size, font, color: rgb(0.1, 0.1, 0.1) }));
}

/** Word wrap to `width` points; characters the font lacks are dropped rather than failing. */
function wrap(text: string, font: PDFFont, size: number, width: number): string[] {
  const charset = new Set(font.getCharacterSet());
  const clean = [...text].filter((ch) => ch === '\n' || charset.has(ch.codePointAt(0)!)).join('');
  return wrapText(clean, font, size, width);
}
