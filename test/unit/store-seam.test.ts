import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tsFiles } from '../helpers/source-tree.js';

/**
 * The dialect stays behind the store seam (issue #17, server/db/store.ts):
 * - only server/db/** and a domain's repositories (`*.repo.ts`, `*.store*.ts`) look at `store.dialect`
 *   or reach the SQLite connection through `store.sqlite(…)`;
 * - a file takes its tables from one place: server/db/tables.ts (bound to the process's dialect) or,
 *   until it moves onto the store, the SQLite schema — never both (a query mixing them breaks on PostgreSQL);
 * - on the store, no SQLite-only execution of a query (`.get()`, `.all()`, `.run()` right
 *   after a `store.q` / transaction builder chain): PostgreSQL's builder has none of them.
 */
const serverDir = path.resolve(import.meta.dirname, '../../server');
const files = tsFiles(serverDir).filter((f) => !f.startsWith(path.join(serverDir, 'db') + path.sep));
const rel = (f: string) => path.relative(serverDir, f);
const isRepository = (f: string) => /\.(repo|store(\.\w+)?)\.ts$/.test(f);

/** `store.dialect` / `ctx.store.dialect` / `this.store.dialect`, and `store.sqlite(` calls. */
export function dialectUses(text: string): string[] {
  return [...text.matchAll(/\bstore\s*\.\s*(dialect\b|sqlite\s*\()/g)].map((m) => m[1].replace(/\s*\($/, ''));
}

/** Store builder chains executed the SQLite-only way: `store.q….get()` or `q.select(…)….all()` within one statement. */
export function sqliteOnlyExecutions(text: string): number {
  let n = 0;
  for (const stmt of text.split(/;\s*\n/)) {
    if (!/\b(store\.q|\bq)\s*\.\s*(select|insert|update|delete|selectDistinct)\b/.test(stmt)) continue;
    // `.values()` is left out: a Map's is everywhere, and Drizzle's array mode is not used.
    if (/\.\s*(get|all|run)\(\s*\)/.test(stmt)) n++;
  }
  return n;
}

describe('the store seam keeps the dialect in repositories (server/db/store.ts)', () => {
  it('sees what it looks for (the detectors themselves)', () => {
    expect(dialectUses("if (ctx.store.dialect === 'postgres') x(); await this.store.sqlite((db) => 1); storeDialect;")).toEqual(['dialect', 'sqlite']);
    expect(sqliteOnlyExecutions('const [r] = await store.q.select().from(t).where(x);\nconst a = q.select().from(t)\n  .where(y)\n  .all();\nreturn db.select().from(t).get();\n')).toBe(1);
  });

  it('only repositories branch on the dialect or reach SQLite directly', () => {
    const offenders = files.filter((f) => !isRepository(f) && dialectUses(fs.readFileSync(f, 'utf8')).length > 0).map(rel);
    expect(offenders).toEqual([]);
  });

  it('no file takes tables from both the dialect-bound module and the SQLite schema', () => {
    const both = files
      .filter((f) => {
        const t = fs.readFileSync(f, 'utf8');
        return /from '(\.\.\/)+db\/tables\.js'/.test(t) && /from '(\.\.\/)+db\/schema\/index\.js'/.test(t);
      })
      .map(rel);
    expect(both).toEqual([]);
  });

  it('no query on the store is executed the SQLite-only way', () => {
    const offenders = files.filter((f) => sqliteOnlyExecutions(fs.readFileSync(f, 'utf8')) > 0).map(rel);
    expect(offenders).toEqual([]);
  });
});
