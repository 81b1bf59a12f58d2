import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface PdfSigResult {
  /** One entry per signature, in document order. */
  signatures: { commonName: string; validation: string; certificate: string; totalDocumentSigned: boolean }[];
  raw: string;
}

/** Runs poppler's `pdfsig` on PDF bytes and parses its report (it exits non-zero on a bad signature). */
export function pdfsig(pdf: Buffer): PdfSigResult {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pdfsig-')), 'doc.pdf');
  fs.writeFileSync(file, pdf);
  let raw: string;
  try {
    raw = execFileSync('/usr/bin/pdfsig', [file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string };
    raw = `${err.stdout ?? ''}${err.stderr ?? ''}`;
  }
  const signatures = raw
    .split(/^Signature #\d+:$/m)
    .slice(1)
    .map((s) => ({
      commonName: /Signer Certificate Common Name: (.*)$/m.exec(s)?.[1]?.trim() ?? '',
      validation: /Signature Validation: (.*)$/m.exec(s)?.[1]?.trim() ?? '',
      certificate: /Certificate Validation: (.*)$/m.exec(s)?.[1]?.trim() ?? '',
      totalDocumentSigned: /Total document signed/.test(s),
    }));
  return { signatures, raw };
}
