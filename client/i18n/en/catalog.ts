import type { str } from '@lit/localize';

/**
 * One domain's English catalog: msg id → translation. Plain strings, or `str` templates whose
 * placeholders are the *indexes* of the source expressions: source
 * `msg(str\`${n} cuộc họp\`, { id: 'meetings.count' })` → `'meetings.count': str\`${0} meetings\``.
 */
export type Catalog = Record<string, string | ReturnType<typeof str>>;
