import { describe, expect, it } from 'vitest';
import { AnnotationItem, type Highlight, type Ink, type Note, layerDocName, parseLayerDocName } from '../../shared/protocol/annotations.js';
import { mulberry32 } from '../../shared/rules/random.js';
import { anchorFromRange, approxSearch, indexPages, mapPages, normalizeWhitespace, reanchorItem, reanchorText, versionChange } from '../../shared/rules/anchoring.js';

const P1 =
  'Ban Chỉ đạo chuyển đổi số thành phố Hà Nội họp phiên thứ nhất. Các thành viên thống nhất kế hoạch triển khai phòng họp không giấy tại các sở, ngành trong quý IV.';
const P2 =
  'Về kinh phí, Sở Tài chính đề xuất bố trí 12 tỷ đồng từ ngân sách thành phố cho năm 2027. Văn phòng UBND thành phố chịu trách nhiệm vận hành hệ thống.';
const P3 = 'Kết luận: giao Sở Thông tin và Truyền thông chủ trì, phối hợp với các đơn vị liên quan, báo cáo kết quả trước ngày 31 tháng 12.';

const at = (text: string, quote: string, page: number, nth = 0) => {
  let i = -1;
  for (let k = 0; k <= nth; k++) i = text.indexOf(quote, i + 1);
  if (i < 0) throw new Error(`quote not in text: ${quote}`);
  return anchorFromRange(text, page, i, i + quote.length);
};

const highlight = (text: string, quote: string, page: number, nth = 0): Highlight => ({
  id: 'hl_000001',
  kind: 'highlight',
  page,
  anchor: at(text, quote, page, nth),
  rects: [{ x: 72, y: 700, w: 120, h: 12 }],
  color: '#ffd400',
  createdAt: 1,
});
const ink = (page: number, near?: ReturnType<typeof at>): Ink => ({
  id: 'ink_000001',
  kind: 'ink',
  page,
  points: [10, 10, 20, 25, 30, 28],
  color: '#ff6b6b',
  width: 2,
  createdAt: 1,
  ...(near ? { near } : {}),
});
const note = (page: number, near?: ReturnType<typeof at>): Note => ({
  id: 'note_00001',
  kind: 'note',
  page,
  x: 300,
  y: 420,
  text: 'Hỏi lại Sở Tài chính',
  color: '#4dabf7',
  createdAt: 1,
  ...(near ? { near } : {}),
});

describe('anchor construction', () => {
  it('keeps the quote, its offsets and up to 32 characters of context on either side', () => {
    const a = at(P2, '12 tỷ đồng', 2);
    expect(a.quote).toBe('12 tỷ đồng');
    expect(P2.slice(a.start, a.end)).toBe('12 tỷ đồng');
    expect(a.prefix.length).toBe(32);
    expect(P2.slice(0, a.start).endsWith(a.prefix)).toBe(true);
    expect(P2.slice(a.end).startsWith(a.suffix)).toBe(true);
  });
  it('refuses an empty or out-of-range selection', () => {
    expect(() => anchorFromRange(P1, 1, 5, 5)).toThrow(RangeError);
    expect(() => anchorFromRange(P1, 1, 0, P1.length + 1)).toThrow(RangeError);
  });
  it('normalizes whitespace runs while mapping every character back to the original', () => {
    const n = normalizeWhitespace('a \n\t b  c');
    expect(n.text).toBe('a b c');
    expect(n.map.slice(0, 5)).toEqual([0, 1, 5, 6, 8]);
  });
});

describe('approximate search', () => {
  it('finds the substring with the fewest edits and its exact bounds', () => {
    const r = approxSearch('xxxx phòng họp khong giấy yyyy', 'phòng họp không giấy', 3);
    expect(r).toEqual({ start: 5, end: 25, errors: 1 });
  });
  it('returns null when every substring needs more edits than allowed', () => {
    expect(approxSearch('hoàn toàn khác', 'phòng họp không giấy', 3)).toBeNull();
  });
});

describe('page mapping', () => {
  it('maps identical pages to themselves and a deleted page to -1', () => {
    const map = mapPages(indexPages([P1, P2, P3]), indexPages([P1, P3]));
    expect(map).toEqual([0, -1, 1]);
  });
  it('follows pages that moved after an inserted page', () => {
    const map = mapPages(indexPages([P1, P2, P3]), indexPages(['Trang bìa mới của tài liệu, phiên bản 2', P1, P2, P3]));
    expect(map).toEqual([1, 2, 3]);
  });
  it('keeps pages without text (scans) at their index when it still exists', () => {
    expect(mapPages(indexPages(['', '']), indexPages(['']))).toEqual([0, -1]);
  });
});

describe('re-anchoring a highlight on a new version', () => {
  it('keeps an unchanged quote where it is, with status ok and the same rectangles', () => {
    const h = highlight(P2, '12 tỷ đồng', 2);
    const out = reanchorItem(h, versionChange(7, [P1, P2, P3], [P1, P2, P3])) as Highlight;
    expect(out.anchor).toEqual(h.anchor);
    expect(out.rects).toEqual(h.rects);
    expect(out.carried).toEqual({ fromVersionId: 7, status: 'ok', previousPage: 2 });
  });

  it('follows the quote when text is inserted before it on the same page', () => {
    const h = highlight(P2, '12 tỷ đồng', 2);
    const newP2 = 'Bổ sung: theo đề nghị của Thường trực. ' + P2;
    const out = reanchorItem(h, versionChange(7, [P1, P2, P3], [P1, newP2, P3])) as Highlight;
    expect(out.carried?.status).toBe('ok');
    expect(newP2.slice(out.anchor.start, out.anchor.end)).toBe('12 tỷ đồng');
    expect(out.page).toBe(2);
  });

  it('follows the quote to another page when pages are reordered', () => {
    const h = highlight(P3, 'báo cáo kết quả', 3);
    const out = reanchorItem(h, versionChange(7, [P1, P2, P3], [P3, P1, P2])) as Highlight;
    expect(out.page).toBe(1);
    expect(out.anchor.page).toBe(1);
    expect(P3.slice(out.anchor.start, out.anchor.end)).toBe('báo cáo kết quả');
    expect(out.carried).toMatchObject({ status: 'ok', previousPage: 3 });
  });

  it('matches across changed line breaks and spacing', () => {
    const h = highlight(P1, 'phòng họp không giấy', 1);
    const reflowed = P1.replace('phòng họp không', 'phòng họp\n  không');
    const out = reanchorItem(h, versionChange(7, [P1], [reflowed])) as Highlight;
    expect(out.carried?.status).toBe('ok');
    expect(reflowed.slice(out.anchor.start, out.anchor.end)).toBe('phòng họp\n  không giấy');
  });

  it('picks the occurrence whose context matches when the quote appears several times', () => {
    const text = 'thành phố A có dự án. Báo cáo của thành phố về ngân sách năm nay. Cuối cùng thành phố B.';
    const h = highlight(text, 'thành phố', 1, 1);
    const newText = 'Mở đầu: thành phố C. ' + text;
    const out = reanchorItem(h, versionChange(7, [text], [newText])) as Highlight;
    expect(out.anchor.prefix.endsWith('Báo cáo của ')).toBe(true);
    expect(out.anchor.suffix.startsWith(' về ngân sách')).toBe(true);
  });

  it('flags a reworded quote as changed, re-anchored between its old context, with the old quote kept', () => {
    const h = highlight(P2, '12 tỷ đồng', 2);
    const newP2 = P2.replace('12 tỷ đồng', '15,5 tỷ đồng');
    const out = reanchorItem(h, versionChange(7, [P1, P2, P3], [P1, newP2, P3])) as Highlight;
    expect(out.carried).toMatchObject({ status: 'changed', previousQuote: '12 tỷ đồng', previousPage: 2 });
    expect(out.anchor.quote).toBe('15,5 tỷ đồng');
  });

  it('finds a slightly edited quote whose context also changed by approximate matching', () => {
    const quote = 'Văn phòng UBND thành phố chịu trách nhiệm vận hành hệ thống';
    const h = highlight(P2, quote, 2);
    const newP2 = 'Phần mới hoàn toàn. Văn phòng UBND thành phố chịu trách nhiệm vận hành các hệ thống. Hết.';
    const out = reanchorItem(h, versionChange(7, [P1, P2, P3], [P1, newP2, P3])) as Highlight;
    expect(out.carried?.status).toBe('changed');
    expect(out.anchor.quote).toContain('vận hành các hệ thống');
    expect(out.page).toBe(2);
  });

  it('never drops a highlight whose text disappeared: orphaned on the continuing page, anchor kept', () => {
    const h = highlight(P2, 'Sở Tài chính đề xuất', 2);
    const newP2 = 'Nội dung kinh phí đã được chuyển sang phụ lục riêng, sẽ trình bày sau tại phiên họp thứ hai.';
    const out = reanchorItem(h, versionChange(7, [P1, P2, P3], [P1, newP2, P3])) as Highlight;
    expect(out.carried).toMatchObject({ status: 'orphaned', previousQuote: 'Sở Tài chính đề xuất' });
    expect(out.anchor.quote).toBe('Sở Tài chính đề xuất');
    expect(out.page).toBe(2);
    expect(AnnotationItem.safeParse(out).success).toBe(true);
  });

  it('keeps a highlight whose page was deleted on the nearest remaining page, orphaned', () => {
    const h = highlight(P3, 'báo cáo kết quả', 3);
    const out = reanchorItem(h, versionChange(7, [P1, P2, P3], [P1])) as Highlight;
    expect(out.page).toBe(1);
    expect(out.carried?.status).toBe('orphaned');
  });

  it('survives a new version with no pages at all', () => {
    const h = highlight(P1, 'phòng họp', 1);
    const out = reanchorItem(h, versionChange(7, [P1], []));
    expect(out.carried?.status).toBe('orphaned');
  });

  it('uses the supplied geometry for a moved highlight and keeps the old rectangles without it', () => {
    const h = highlight(P3, 'báo cáo kết quả', 3);
    const seen: number[][] = [];
    const withGeo = reanchorItem(
      h,
      versionChange(7, [P1, P2, P3], [P3, P1, P2], (page, s, e) => {
        seen.push([page, s, e]);
        return [{ x: 1, y: 2, w: 3, h: 4 }];
      }),
    ) as Highlight;
    expect(withGeo.rects).toEqual([{ x: 1, y: 2, w: 3, h: 4 }]);
    expect(seen).toEqual([[1, h.anchor.start, h.anchor.end]]);
    const without = reanchorItem(h, versionChange(7, [P1, P2, P3], [P3, P1, P2])) as Highlight;
    expect(without.rects).toEqual(h.rects);
  });

  it('keeps the worst status across successive versions', () => {
    const h = highlight(P2, '12 tỷ đồng', 2);
    const v2 = P2.replace('12 tỷ đồng', '15 tỷ đồng');
    const once = reanchorItem(h, versionChange(7, [P1, P2, P3], [P1, v2, P3]));
    const twice = reanchorItem(once, versionChange(8, [P1, v2, P3], [P1, v2, P3]));
    expect(twice.carried).toMatchObject({ fromVersionId: 8, status: 'changed' });
  });

  it('works from the anchor alone when the old texts are unknown (no page map)', () => {
    const a = at(P2, 'Sở Tài chính', 2);
    const r = reanchorText(a, indexPages([P2, P1]), null);
    expect(r.status).toBe('ok');
    expect(r.anchor.page).toBe(1);
  });
});

describe('re-anchoring ink and notes', () => {
  it('keeps ink on an unchanged page at the same coordinates, ok', () => {
    const i = ink(2);
    const out = reanchorItem(i, versionChange(7, [P1, P2, P3], [P1, P2, P3])) as Ink;
    expect(out.page).toBe(2);
    expect(out.points).toEqual(i.points);
    expect(out.carried?.status).toBe('ok');
  });

  it('moves ink with the text it was drawn next to', () => {
    const i = ink(3, at(P3, 'Kết luận', 3));
    const out = reanchorItem(i, versionChange(7, [P1, P2, P3], [P3, P1, P2])) as Ink;
    expect(out.page).toBe(1);
    expect(out.near?.page).toBe(1);
    expect(out.points).toEqual(i.points);
    expect(out.carried?.status).toBe('ok');
  });

  it('flags ink as changed when its page continues but its nearby text is gone', () => {
    const i = ink(2, at(P2, '12 tỷ đồng', 2));
    const newP2 = P2.replace('Sở Tài chính đề xuất bố trí 12 tỷ đồng', 'Sở Tài chính bố trí');
    const out = reanchorItem(i, versionChange(7, [P1, P2, P3], [P1, newP2, P3]));
    expect(out.page).toBe(2);
    expect(out.carried?.status).toBe('changed');
  });

  it('keeps a note at the same position on the nearest page, orphaned, when its page was deleted', () => {
    const n = note(3);
    const out = reanchorItem(n, versionChange(7, [P1, P2, P3], [P1, P2])) as Note;
    expect(out.page).toBe(2);
    expect([out.x, out.y]).toEqual([300, 420]);
    expect(out.text).toBe(n.text);
    expect(out.carried).toMatchObject({ status: 'orphaned', previousPage: 3 });
  });

  it('follows the continuing page of a note without nearby text when a page was inserted before it', () => {
    const out = reanchorItem(note(2), versionChange(7, [P1, P2, P3], ['Trang bìa', P1, P2, P3]));
    expect(out.page).toBe(3);
    expect(out.carried?.status).toBe('ok');
  });
});

describe('a seeded random edit never loses an annotation', () => {
  it('every item of 300 random edits comes back valid, on an existing page, with a status', () => {
    const rnd = mulberry32(42);
    const pages = [P1, P2, P3];
    for (let round = 0; round < 300; round++) {
      const p = Math.floor(rnd() * 3);
      const text = pages[p];
      const s = Math.floor(rnd() * (text.length - 20));
      const e = s + 1 + Math.floor(rnd() * 19);
      const h: Highlight = { ...highlight(P1, 'Ban', 1), anchor: anchorFromRange(text, p + 1, s, e), page: p + 1 };
      // Random new version: delete, insert, replace or drop pages.
      const next = pages.map((t) => {
        const k = Math.floor(rnd() * t.length);
        const op = Math.floor(rnd() * 3);
        return op === 0 ? t.slice(0, k) + t.slice(k + 10) : op === 1 ? t.slice(0, k) + ' thêm chữ ' + t.slice(k) : t;
      });
      const kept = next.filter(() => rnd() > 0.2);
      const change = versionChange(7, pages, kept);
      for (const item of [h, ink(p + 1, h.anchor), note(p + 1)]) {
        const out = reanchorItem(item, change);
        expect(AnnotationItem.safeParse(out).success).toBe(true);
        expect(out.id).toBe(item.id);
        expect(['ok', 'changed', 'orphaned']).toContain(out.carried?.status);
        if (kept.length > 0) expect(out.page).toBeLessThanOrEqual(kept.length);
        if (out.kind === 'highlight' && out.carried?.status !== 'orphaned') {
          expect(kept[out.page - 1].slice(out.anchor.start, out.anchor.end)).toBe(out.anchor.quote);
        }
      }
    }
  });
});

describe('item schemas and doc names', () => {
  it('accept the three kinds and refuse oversized or malformed items', () => {
    expect(AnnotationItem.safeParse(highlight(P1, 'Ban', 1)).success).toBe(true);
    expect(AnnotationItem.safeParse(ink(1)).success).toBe(true);
    expect(AnnotationItem.safeParse(note(1)).success).toBe(true);
    expect(AnnotationItem.safeParse({ ...ink(1), points: new Array(4002).fill(1) }).success).toBe(false);
    expect(AnnotationItem.safeParse({ ...ink(1), points: [1, 2, 3] }).success).toBe(false);
    expect(AnnotationItem.safeParse({ ...ink(1), points: [1, Number.NaN] }).success).toBe(false);
    expect(AnnotationItem.safeParse({ ...note(1), text: 'x'.repeat(4001) }).success).toBe(false);
    expect(AnnotationItem.safeParse({ ...note(1), color: 'red' }).success).toBe(false);
    expect(AnnotationItem.safeParse({ ...note(1), extra: 1 }).success).toBe(false);
    expect(AnnotationItem.safeParse({ ...note(1), kind: 'stamp' }).success).toBe(false);
  });
  it('round-trip layer doc names and refuse anything else', () => {
    expect(parseLayerDocName(layerDocName({ documentId: 3, layer: 'private', userId: 9 }))).toEqual({ documentId: 3, layer: 'private', userId: 9 });
    expect(parseLayerDocName('annotation:3:shared:1')).toEqual({ documentId: 3, layer: 'shared', meetingId: 1 });
    for (const bad of ['annotation:0:shared:1', 'annotation:3:public:1', 'annotation:3:shared:1:x', 'annotation:03:shared:1', 'minutes:1']) {
      expect(parseLayerDocName(bad)).toBeNull();
    }
  });
});
