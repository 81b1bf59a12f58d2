import { describe, expect, it } from 'vitest';
import { findInPages } from '../../shared/rules/find.js';

const pages = [
  { page: 1, text: 'Báo cáo về Chuyển đổi số của thành phố Hà Nội.' },
  { page: 2, text: 'Đề án phòng họp không giấy; chuyển đổi — số hóa hồ sơ.' },
  { page: 3, text: 'Chuyển giao công nghệ, đổi mới sáng tạo.' },
];

describe('findInPages (find in a document without network)', () => {
  it('matches the words as a phrase with or without marks, and đ as d', () => {
    expect(findInPages(pages, 'chuyen doi so').pages.map((p) => p.page)).toEqual([1, 2]);
    expect(findInPages(pages, 'Chuyển đổi số').pages.map((p) => p.page)).toEqual([1, 2]);
    expect(findInPages(pages, 'de an').pages.map((p) => p.page)).toEqual([2]);
  });
  it('does not match words that are only near each other or inside other words', () => {
    expect(findInPages(pages, 'chuyen doi moi').pages).toEqual([]);
    expect(findInPages(pages, 'ha no').pages).toEqual([]);
  });
  it('marks the matched words in the snippet with the original text', () => {
    const hit = findInPages(pages, 'ha noi').pages[0];
    expect(hit.snippet.filter((s) => s.hit).map((s) => s.text)).toEqual(['Hà', 'Nội']);
    expect(hit.snippet.map((s) => s.text).join('')).toContain('thành phố Hà Nội');
  });
  it('an empty or punctuation-only query finds nothing', () => {
    expect(findInPages(pages, '  ;; ').pages).toEqual([]);
  });
});
