import crypto from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import fontkit from '@pdf-lib/fontkit';
import { PDFDocument, PDFFont, type SaveOptions } from 'pdf-lib';
import subsetFont from 'subset-font';
import type { Logger } from '../log.js';

/**
 * The fonts of the PDFs the server generates (minutes, vote records, consultation reports, the task
 * board export): Tinos, metric-compatible with Times New Roman (the font Nghị định 30/2020/NĐ-CP
 * prescribes), from the npm package @expo-google-fonts/tinos; it covers the Vietnamese range
 * (U+1EA0–1EF9).
 *
 * Every generator draws through `renderPdf`, which embeds each font as a SUBSET holding only the
 * characters the document measures or draws (plus printable ASCII), made by HarfBuzz's hb-subset
 * (npm subset-font, WebAssembly). @pdf-lib/fontkit's own subsetter is not used: it dropped glyphs of
 * these fonts (glyphs went missing in pdftoppm renderings). The signed demo minutes went from
 * 1.45 MB (four whole fonts, ~0.35 MB each compressed) to ~175 KB (four subsets, ~15 KB each; the
 * rest is mostly the two signature containers). hb-subset takes ~5 ms per document (~60 ms for the
 * first one in a process: WebAssembly start-up).
 */
export type FontStyle = 'regular' | 'bold' | 'italic' | 'boldItalic';

const TINOS: Record<FontStyle, { file: string; postscriptName: string }> = {
  regular: { file: '400Regular/Tinos_400Regular.ttf', postscriptName: 'Tinos-Regular' },
  bold: { file: '700Bold/Tinos_700Bold.ttf', postscriptName: 'Tinos-Bold' },
  italic: { file: '400Regular_Italic/Tinos_400Regular_Italic.ttf', postscriptName: 'Tinos-Italic' },
  boldItalic: { file: '700Bold_Italic/Tinos_700Bold_Italic.ttf', postscriptName: 'Tinos-BoldItalic' },
};

const require = createRequire(import.meta.url);
const wholeBytes = new Map<FontStyle, Buffer>();
const wholeCharset = new Map<FontStyle, Set<number>>();

/** The whole TrueType file of a style, read once per process. */
export function wholeFontBytes(style: FontStyle): Buffer {
  let b = wholeBytes.get(style);
  if (!b) {
    b = fs.readFileSync(require.resolve(`@expo-google-fonts/tinos/${TINOS[style].file}`));
    wholeBytes.set(style, b);
  }
  return b;
}

/** Printable ASCII: in every subset whatever the document holds (digits of page numbers, dates, …). */
const BASELINE = Array.from({ length: 0x7f - 0x20 }, (_, i) => String.fromCharCode(0x20 + i)).join('');

export type PdfFonts<S extends FontStyle> = Record<S, PDFFont>;

export interface RenderPdfOptions {
  /** pdf-lib save options (the minutes use `{ useObjectStreams: false }` so signatures can be appended). */
  save?: SaveOptions;
  /** Where a failed subsetting is reported (never with document text). Default: process.emitWarning. */
  log?: Pick<Logger, 'warn'>;
}

/** Subsetting statistics of the last `renderPdf` call (tests, diagnostics). */
export const lastRender = { subsetMs: 0, subset: false };

/**
 * Renders a PDF whose fonts are subsets of exactly the characters it uses. `draw` lays the document
 * out on the `PDFDocument` it is given with the given fonts; it must be a pure function of its
 * input, because it runs twice:
 *  1. with the whole fonts, recording every character measured (`widthOfTextAtSize`) or drawn
 *     (`encodeText`, which `page.drawText` calls) per style;
 *  2. with subsets of those characters (+ printable ASCII). A subset keeps the whole font's glyph
 *     metrics and pass 2 reuses pass 1's measured widths, so the layout is the same. Before saving,
 *     every character pass 2 used is checked to be in its subset (unless the whole font lacks it
 *     too) with the same advance width.
 * If subsetting fails or a check does not hold, the pass-1 document (whole fonts) is saved instead
 * and a warning logged: a PDF never loses a glyph.
 */
export async function renderPdf<S extends FontStyle>(
  styles: readonly S[],
  draw: (pdf: PDFDocument, fonts: PdfFonts<S>) => void | Promise<void>,
  opts: RenderPdfOptions = {},
): Promise<Buffer> {
  const save = async (pdf: PDFDocument) => Buffer.from(await pdf.save(opts.save));
  const warn = (style: S | null, reason: string) => {
    const msg = 'PDF font subsetting failed; embedding the whole font';
    if (opts.log) opts.log.warn({ font: style && TINOS[style].postscriptName, reason }, msg);
    else process.emitWarning(`${msg} (${style ? TINOS[style].postscriptName : 'fonts'}: ${reason})`, { code: 'ECABINET_FONT_SUBSET' });
  };

  // Pass 1: whole fonts, recording characters.
  const pdf1 = await PDFDocument.create();
  pdf1.registerFontkit(fontkit);
  const used1 = recorders(styles);
  const widths = new Map(styles.map((st) => [st, new Map<string, number>()]));
  const whole = {} as PdfFonts<S>;
  for (const s of styles) whole[s] = recording(await pdf1.embedFont(wholeFontBytes(s), { subset: false }), used1.get(s)!, widths.get(s)!);
  await draw(pdf1, whole);

  const t0 = performance.now();
  lastRender.subset = false;
  const subsets = new Map<S, Buffer>();
  for (const s of styles) {
    try {
      const text = BASELINE + String.fromCodePoint(...used1.get(s)!);
      subsets.set(s, await subsetFont(wholeFontBytes(s), text, { targetFormat: 'sfnt' }));
    } catch (e) {
      warn(s, errorName(e));
      lastRender.subsetMs = performance.now() - t0;
      return save(pdf1);
    }
  }

  // Pass 2: the subsets.
  const pdf2 = await PDFDocument.create();
  pdf2.registerFontkit(fontkit);
  const used2 = recorders(styles);
  const sub = {} as PdfFonts<S>;
  for (const s of styles) {
    const bytes = subsets.get(s)!;
    try {
      sub[s] = recording(await pdf2.embedFont(bytes, { subset: false, customName: `${subsetTag(bytes)}+${TINOS[s].postscriptName}` }), used2.get(s)!, widths.get(s)!);
    } catch (e) {
      warn(s, errorName(e));
      lastRender.subsetMs = performance.now() - t0;
      return save(pdf1);
    }
  }
  lastRender.subsetMs = performance.now() - t0;
  await draw(pdf2, sub);
  for (const s of styles) {
    const missing = lostCharacter(s, whole[s], sub[s], used2.get(s)!);
    if (missing !== null) {
      warn(s, `U+${missing.toString(16).toUpperCase().padStart(4, '0')} not kept`);
      return save(pdf1);
    }
  }
  lastRender.subset = true;
  return save(pdf2);
}

/** pdf-lib's own measuring method (the wrapped one records and memoizes). */
const measure = PDFFont.prototype.widthOfTextAtSize;

function recorders<S extends FontStyle>(styles: readonly S[]): Map<S, Set<number>> {
  return new Map(styles.map((s) => [s, new Set<number>()]));
}

/**
 * Wraps a font's text entry points (on this instance only) to record the code points passed in.
 * Widths are memoized per style across both passes (`widths`): layout code measures the same words
 * and lines many times, each a fontkit layout, and pass 2 then lays out with exactly pass 1's numbers
 * (the subset's advance widths are checked to be the same as the whole font's before saving).
 */
function recording(font: PDFFont, into: Set<number>, widths: Map<string, number>): PDFFont {
  const encode = font.encodeText.bind(font);
  const add = (t: string) => {
    for (const c of t) into.add(c.codePointAt(0)!);
  };
  font.encodeText = (t) => {
    add(t);
    return encode(t);
  };
  font.widthOfTextAtSize = (t, size) => {
    add(t);
    const key = `${size}\u0000${t}`;
    let w = widths.get(key);
    if (w === undefined) {
      w = measure.call(font, t, size);
      widths.set(key, w);
    }
    return w;
  };
  return font;
}

/** A code point used with the subset that the whole font has but the subset lacks or draws at another width. */
function lostCharacter(style: FontStyle, whole: PDFFont, subset: PDFFont, used: Set<number>): number | null {
  let all = wholeCharset.get(style);
  if (!all) {
    all = new Set(whole.getCharacterSet());
    wholeCharset.set(style, all);
  }
  const kept = new Set(subset.getCharacterSet());
  for (const cp of used) {
    if (!all.has(cp)) continue; // .notdef with the whole font as well
    const ch = String.fromCodePoint(cp);
    if (!kept.has(cp) || measure.call(whole, ch, 1000) !== measure.call(subset, ch, 1000)) return cp;
  }
  return null;
}

/** The six-letter subset tag (PDF 32000 §9.6.4), derived from the subset so equal subsets share it. */
function subsetTag(bytes: Uint8Array): string {
  const h = crypto.createHash('sha256').update(bytes).digest();
  return Array.from(h.subarray(0, 6), (b) => String.fromCharCode(65 + (b % 26))).join('');
}

function errorName(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}`.slice(0, 200) : 'error';
}
