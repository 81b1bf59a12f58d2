import { describe, expect, it } from 'vitest';
import { foldText, queryTerms } from '../../shared/rules/fold.js';
import { snippet } from '../../shared/rules/find.js';

describe('foldText', () => {
  it('strips Vietnamese marks, folds đ/Đ to d and lowercases', () => {
    expect(foldText('Chuyển đổi số')).toBe('chuyen doi so');
    expect(foldText('ĐẢNG ỦY Điện Biên Phủ')).toBe('dang uy dien bien phu');
    expect(foldText('Ứng dụng ưu tiên, ơn huệ')).toBe('ung dung uu tien, on hue');
  });

  it('gives the same result for composed (NFC) and decomposed (NFD) input', () => {
    const s = 'Nghị quyết về cải cách hành chính';
    expect(foldText(s.normalize('NFD'))).toBe(foldText(s.normalize('NFC')));
  });

  it('keeps offsets aligned with the NFC text, so a match can be cut from the original', () => {
    const samples = ['Chuyển đổi số', 'İstanbul ﬁle ẞ', 'a\u0301 lone mark \u0323', '𝔘nicode 😀 emoji', 'Hà Nội – 79 Đinh Tiên Hoàng'];
    for (const s of samples) expect(foldText(s).length).toBe(s.normalize('NFC').length);
    const text = 'Kết quả Chuyển đổi số năm 2025';
    const at = foldText(text).indexOf('chuyen doi so');
    expect(text.slice(at, at + 'chuyen doi so'.length)).toBe('Chuyển đổi số');
  });

  it('splits a query into folded terms and drops punctuation', () => {
    expect(queryTerms('  "Chuyển đổi-số"!  ')).toEqual(['chuyen', 'doi', 'so']);
    expect(queryTerms('*** ()')).toEqual([]);
  });
});

describe('snippet', () => {
  it('marks the matching words in the original text around the first match', () => {
    const text = 'Mở đầu. ' + 'Lorem ipsum '.repeat(30) + 'Thành phố đẩy mạnh chuyển đổi số toàn diện. ' + 'Kết thúc '.repeat(30);
    const parts = snippet(text, ['chuyen', 'doi', 'so']);
    expect(parts.filter((p) => p.hit).map((p) => p.text)).toEqual(['chuyển', 'đổi', 'số']);
    expect(parts[0].text.startsWith('…')).toBe(true);
    expect(parts.map((p) => p.text).join('')).toContain('đẩy mạnh chuyển đổi số');
  });

  it('does not mark a term inside a longer word', () => {
    const parts = snippet('sốt ruột vì số liệu', ['so']);
    expect(parts.filter((p) => p.hit).map((p) => p.text)).toEqual(['số']);
  });
});
