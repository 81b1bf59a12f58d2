import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { renderMinutesPdf } from '../../server/minutes/minutes.pdf.js';
import { lastRender } from '../../server/pdf/fonts.js';

// The subsetter fails (a broken wasm build, an unexpected font): the PDF must keep every glyph.
vi.mock('subset-font', () => ({
  default: async () => {
    throw new Error('hb_subset_or_fail (harfbuzz) returned zero, indicating failure');
  },
}));

describe('PDF fonts: subsetting fails', () => {
  it('falls back to the whole fonts, logs a warning without document text, and the text is intact', async () => {
    const warn = vi.fn();
    const secret = 'Nội dung mật: Nguyễn Văn An đề nghị…';
    const pdf = await renderMinutesPdf(
      {
        parentBody: 'UBND Thành phố Hà Nội',
        issuingBody: 'Ban Chỉ đạo',
        number: '01/BB-BCĐ',
        place: 'Hà Nội',
        date: '2026-12-01T01:30:00.000Z',
        subject: 'Phiên họp',
        blocks: [{ t: 'p', runs: [{ text: secret }] }],
        chair: { name: 'Trần Sỹ Thanh', title: null },
        secretary: { name: 'Phan Thị Thu', title: null },
      },
      { log: { warn } },
    );
    expect(lastRender.subset).toBe(false);
    expect(warn).toHaveBeenCalledTimes(1);
    const logged = JSON.stringify(warn.mock.calls);
    expect(logged).toMatch(/whole font/);
    for (const word of ['Nguyễn', 'mật', 'Thanh']) expect(logged).not.toContain(word);

    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ec-pdf-fallback-'));
    const file = path.join(dir, 'm.pdf');
    fs.writeFileSync(file, pdf);
    const rows = execFileSync('/usr/bin/pdffonts', [file], { encoding: 'utf8' }).split('\n').slice(2).filter(Boolean);
    expect(rows).toHaveLength(3);
    for (const r of rows) expect(r).toMatch(/^Tinos-\S+\s.*\syes\s+no\s+yes\s/); // embedded, whole (no subset tag)
    const text = execFileSync('/usr/bin/pdftotext', [file, '-'], { encoding: 'utf8' });
    expect(text).toContain('CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM');
    expect(text).toContain(secret);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
