import crypto from 'node:crypto';
import fontkit from '@pdf-lib/fontkit';
import { PDFDict, PDFDocument, PDFHexString, PDFName, type PDFObject, PDFRef, PDFString, rgb } from 'pdf-lib';
import subsetFont from 'subset-font';
import { wholeFontBytes } from '../pdf/fonts.js';

/** Where a signer's visible signature goes: page index (0-based) and a box in PDF points. */
export interface SignatureBox {
  page: number;
  x: number;
  y: number;
  w: number;
  h: number;
}

/** Info-dictionary key under which a generated PDF lists its signature boxes by role (JSON). */
export const SIGNATURE_BOXES_KEY = 'ECabinetSignatureBoxes';

/** The signature boxes a generated PDF declared (`{ chair: box, secretary: box }`), or {}. */
export function readSignatureBoxes(doc: PDFDocument): Record<string, SignatureBox> {
  const infoRef = doc.context.trailerInfo.Info;
  const info = infoRef ? doc.context.lookup(infoRef) : undefined;
  if (!(info instanceof PDFDict)) return {};
  const v = info.get(PDFName.of(SIGNATURE_BOXES_KEY));
  if (!(v instanceof PDFString || v instanceof PDFHexString)) return {};
  try {
    return JSON.parse(v.decodeText()) as Record<string, SignatureBox>;
  } catch {
    return {};
  }
}

/** The lines of a visible signature: who, as what, when, and which certificate. */
export function signatureLines(p: { name: string; role: string; signingTime: Date; certificatePem: string }): string[] {
  const cert = new crypto.X509Certificate(p.certificatePem);
  const when = new Intl.DateTimeFormat('en-GB', {
    timeZone: 'Asia/Ho_Chi_Minh',
    day: '2-digit',
    month: '2-digit',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
  }).format(p.signingTime);
  const fp = cert.fingerprint256.replace(/:/g, '');
  return [
    `Đã ký số bởi: ${p.name}`,
    `Vai trò: ${p.role}`,
    `Thời gian ký: ${when.replace(',', '')} (GMT+7)`,
    `Số sê-ri chứng thư: ${cert.serialNumber}`,
    `SHA-256: ${fp.slice(0, 32)}`,
    `${fp.slice(32)}`,
  ];
}

/**
 * Draws a visible signature block (a framed box with `lines`) on a signed-to-be PDF as an
 * INCREMENTAL update: the bytes of `pdf` are kept as they are (earlier signatures stay valid) and
 * only the changed page, its new content stream and the embedded font follow, with their own xref
 * section and a trailer pointing back (/Prev). The font is Tinos, subset to the characters drawn.
 * Without a `box` the block goes to the bottom right of the last page. `pdf` must end with a
 * classic xref table (our generated PDFs and every signature appended by signPdf do).
 */
export async function appendVisibleSignature(pdf: Buffer, box: SignatureBox | null, lines: string[]): Promise<Buffer> {
  const doc = await PDFDocument.load(pdf, { updateMetadata: false });
  doc.registerFontkit(fontkit);
  const before = doc.context.largestObjectNumber;
  const pages = doc.getPages();
  const pageIndex = box && box.page >= 0 && box.page < pages.length ? box.page : pages.length - 1;
  const page = pages[pageIndex];
  const text = lines.join('').normalize('NFC');
  const subset = await subsetFont(wholeFontBytes('regular'), text + ' ', { targetFormat: 'sfnt' }).catch(() => null);
  // A subset is named with its six-letter tag (PDF 32000 §9.6.4); the whole font if subsetting failed.
  const tag = subset ? Array.from(crypto.createHash('sha256').update(subset).digest().subarray(0, 6), (c) => String.fromCharCode(65 + (c % 26))).join('') : '';
  const font = await doc.embedFont(subset ?? wholeFontBytes('regular'), { subset: false, ...(subset ? { customName: `${tag}+Tinos-Regular` } : {}) });
  const size = 7;
  const leading = size * 1.3;
  const pad = 4;
  const width = Math.max(...lines.map((l) => font.widthOfTextAtSize(l.normalize('NFC'), size))) + 2 * pad;
  const height = lines.length * leading + 2 * pad;
  const b = box ?? { page: pageIndex, x: page.getWidth() - width - 42, y: 42, w: width, h: height };
  // Centred in the box the layout reserved (between the role line and the printed name).
  const x = b.x + Math.max(0, (b.w - width) / 2);
  const y = b.y + Math.max(0, (b.h - height) / 2);
  const blue = rgb(0.06, 0.22, 0.55);
  page.drawRectangle({ x, y, width, height, borderColor: blue, borderWidth: 0.8 });
  lines.forEach((l, i) => page.drawText(l.normalize('NFC'), { x: x + pad, y: y + height - pad - (i + 1) * leading + 2, size, font, color: blue }));
  await doc.flush();

  // The incremental update: new objects, the page, and its resource dictionaries when indirect.
  const changed = new Map<number, PDFObject>();
  for (const [ref, obj] of doc.context.enumerateIndirectObjects()) if (ref.objectNumber > before) changed.set(ref.objectNumber, obj);
  const pageRef = page.ref;
  changed.set(pageRef.objectNumber, page.node);
  const resources = page.node.get(PDFName.of('Resources'));
  if (resources instanceof PDFRef) {
    changed.set(resources.objectNumber, doc.context.lookup(resources)!);
    const fonts = doc.context.lookup(resources, PDFDict).get(PDFName.of('Font'));
    if (fonts instanceof PDFRef) changed.set(fonts.objectNumber, doc.context.lookup(fonts)!);
  }

  const tail = pdf.subarray(Math.max(0, pdf.length - 1024)).toString('latin1');
  const prev = /startxref\s+(\d+)\s+%%EOF\s*$/.exec(tail);
  if (!prev) throw new Error('appendVisibleSignature: no startxref at the end of the PDF');
  const { Root, Info } = doc.context.trailerInfo;
  const parts: Buffer[] = [pdf, Buffer.from('\n')];
  let offset = pdf.length + 1;
  const rows: string[] = [];
  for (const [num, obj] of [...changed].sort((a, c) => a[0] - c[0])) {
    const body = Buffer.alloc(obj.sizeInBytes());
    obj.copyBytesInto(body, 0);
    const chunk = Buffer.concat([Buffer.from(`${num} 0 obj\n`), body, Buffer.from('\nendobj\n')]);
    rows.push(`${num} 1\n${String(offset).padStart(10, '0')} 00000 n `);
    parts.push(chunk);
    offset += chunk.length;
  }
  const size2 = Math.max(doc.context.largestObjectNumber + 1, before + 1);
  parts.push(
    Buffer.from(
      `xref\n0 1\n0000000000 65535 f \n${rows.join('\n')}\ntrailer\n<<\n/Size ${size2}\n/Root ${Root}\n${Info ? `/Info ${Info}\n` : ''}/Prev ${prev[1]}\n>>\nstartxref\n${offset}\n%%EOF`,
    ),
  );
  return Buffer.concat(parts);
}
