import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The developer documents stay true to the tree: every file path they name (server/…, client/…, shared/…,
 * test/…, bench/…, scripts/…, migrations/…) exists. `../shared/…` is the handbook beside the repository,
 * not this tree's shared/ folder, and is skipped.
 */
const root = path.resolve(import.meta.dirname, '../..');
const docs = ['README.md', ...fs.readdirSync(path.join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
const PATH = /(?<![\w./-])(?:server|client|shared|test|bench|scripts|migrations|migrations-pg)\/[\w./-]*\w\.(?:ts|js|mjs|sh|md|sql|json|css|html)\b/g;

describe('developer documents name only files that exist', () => {
  it.each(docs)('%s', (doc) => {
    const text = fs.readFileSync(path.join(root, doc), 'utf8');
    const missing = [...new Set(text.match(PATH) ?? [])].filter((p) => !fs.existsSync(path.join(root, p)));
    expect(missing).toEqual([]);
  });
});
