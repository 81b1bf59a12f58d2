import type { PDFFont } from 'pdf-lib';

/**
 * Greedy word wrap for the PDFs the server draws (minutes, consultation reports, annotation
 * exports): lines no wider than `width` points in `font` at `size`. A single word wider than the
 * line stands on a line of its own rather than being cut.
 *
 * Line breaks in the text start a new line (an empty paragraph gives an empty line) unless
 * `lineBreaks` is `'space'`, which treats them as any other whitespace. Always returns at least one
 * line (possibly empty).
 */
export function wrapText(text: string, font: PDFFont, size: number, width: number, opts: { lineBreaks?: 'keep' | 'space' } = {}): string[] {
  const paragraphs = opts.lineBreaks === 'space' ? [text] : text.split(/\r?\n/);
  const out: string[] = [];
  for (const para of paragraphs) {
    let line = '';
    for (const word of para.split(/\s+/).filter(Boolean)) {
      const next = line ? `${line} ${word}` : word;
      if (font.widthOfTextAtSize(next, size) <= width || !line) line = next;
      else {
        out.push(line);
        line = word;
      }
    }
    out.push(line);
  }
  return out;
}
