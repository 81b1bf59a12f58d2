import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, isErrorCode } from '../../shared/protocol/errors.js';
import { ErrorBody } from '../../shared/protocol/common.js';

/** The codes of the table in docs/PROTOCOL.md, section "Error codes". */
function documentedCodes(): string[] {
  const doc = fs.readFileSync(new URL('../../docs/PROTOCOL.md', import.meta.url), 'utf8');
  const start = doc.indexOf('## Error codes');
  expect(start, 'docs/PROTOCOL.md has an "Error codes" section').toBeGreaterThan(-1);
  const end = doc.indexOf('\n## ', start + 1);
  const section = doc.slice(start, end === -1 ? undefined : end);
  return [...section.matchAll(/^\| `([a-z_]+)` \|/gm)].map((m) => m[1]);
}

describe('the closed list of error codes', () => {
  it('docs/PROTOCOL.md lists exactly the codes of shared/protocol/errors.ts, each once', () => {
    const documented = documentedCodes();
    expect(new Set(documented).size, 'no code documented twice').toBe(documented.length);
    expect([...documented].sort()).toEqual([...ERROR_CODES].sort());
  });

  it('the list has no duplicates and only snake_case codes', () => {
    expect(new Set(ERROR_CODES).size).toBe(ERROR_CODES.length);
    for (const c of ERROR_CODES) expect(c).toMatch(/^[a-z]+(_[a-z]+)*$/);
  });

  it('the error body schema refuses a code outside the list', () => {
    expect(ErrorBody.safeParse({ error: { code: 'not_found', message: 'x' } }).success).toBe(true);
    expect(ErrorBody.safeParse({ error: { code: 'made_up', message: 'x' } }).success).toBe(false);
    expect(isErrorCode('made_up')).toBe(false);
    expect(isErrorCode('__proto__')).toBe(false);
    expect(isErrorCode('toString')).toBe(false);
  });
});
