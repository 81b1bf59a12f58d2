import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { templates } from '../../client/i18n/en/index.js';

const CLIENT = path.resolve(import.meta.dirname, '../../client');

function tsFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = path.join(dir, d.name);
    if (d.isDirectory()) return d.name === 'i18n' ? [] : tsFiles(p);
    return d.name.endsWith('.ts') ? [p] : [];
  });
}

/**
 * The source text of every `msg(...)` call in `src`: balanced parentheses, skipping over string
 * and template literals (including `${…}` inside templates) so parentheses in text don't count.
 */
export function msgCalls(src: string): string[] {
  const calls: string[] = [];
  const re = /(?<![\w.$])msg\(/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(src))) {
    let i = m.index + 4;
    let depth = 1;
    const stack: string[] = []; // open template literals
    while (i < src.length && depth > 0) {
      const c = src[i];
      if (stack.length && stack[stack.length - 1] === '`') {
        if (c === '\\') i++;
        else if (c === '`') stack.pop();
        else if (c === '$' && src[i + 1] === '{') {
          stack.push('{');
          i++;
        }
      } else if (c === "'" || c === '"') {
        const q = c;
        for (i++; i < src.length && src[i] !== q; i++) if (src[i] === '\\') i++;
      } else if (c === '`') stack.push('`');
      else if (c === '{' && stack.length) stack.push('{');
      else if (c === '}' && stack.length && stack[stack.length - 1] === '{') stack.pop();
      else if (c === '(') depth++;
      else if (c === ')') depth--;
      i++;
    }
    calls.push(src.slice(m.index, i));
  }
  return calls;
}

describe('i18n catalogs', () => {
  const uses: { file: string; id: string | null; call: string }[] = [];
  for (const file of tsFiles(CLIENT)) {
    // Comments may mention msg() in prose; only code counts.
    const code = fs.readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
    for (const call of msgCalls(code)) {
      const id = /\{\s*id:\s*['"]([^'"]+)['"]/.exec(call)?.[1] ?? null;
      uses.push({ file: path.relative(CLIENT, file), id, call });
    }
  }

  it('finds the msg() calls of the client (the scanner itself works)', () => {
    expect(uses.length).toBeGreaterThan(50);
    expect(msgCalls("msg(str`a (b) ${f(x, ')')}`, { id: 'x.y' }) + msg('c', { id: 'z.w' })").length).toBe(2);
  });

  it('every msg() call has an explicit id of the form domain.key', () => {
    const bad = uses.filter((u) => !u.id || !/^[a-z][a-zA-Z0-9]*(\.[a-zA-Z0-9_-]+)+$/.test(u.id)).map((u) => `${u.file}: ${u.call.slice(0, 80)}`);
    expect(bad).toEqual([]);
  });

  it('every msg id used in client/ has an English entry in client/i18n/en', () => {
    const missing = [...new Set(uses.filter((u) => u.id && !(u.id in templates)).map((u) => `${u.id} (${u.file})`))];
    expect(missing).toEqual([]);
  });

  it('a str`…` message with placeholders is translated with a str template using only existing indexes', () => {
    const wrong: string[] = [];
    for (const u of uses) {
      if (!u.id || !(u.id in templates)) continue;
      const src = /msg\(\s*str`((?:[^`\\]|\\.)*)`/.exec(u.call);
      const t = templates[u.id];
      const n = src ? (src[1].match(/\$\{/g) ?? []).length : 0;
      if (n === 0) {
        if (typeof t !== 'string' && t.values.length) wrong.push(`${u.id}: source has no placeholders`);
      } else if (typeof t === 'string' || t.values.some((v) => typeof v !== 'number' || v >= n)) {
        wrong.push(`${u.id}: expected str\`…\` with placeholders ${'${0}'}..${'${' + (n - 1) + '}'}`);
      }
    }
    expect(wrong).toEqual([]);
  });
});
