import fs from 'node:fs';
import path from 'node:path';
import { getTableName, is } from 'drizzle-orm';
import { SQLiteTable } from 'drizzle-orm/sqlite-core';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { resolveImport, tsFiles } from '../helpers/source-tree.js';
import * as schema from '../../server/db/schema/index.js';
import { DOMAINS, SHARED_LAYERS, TABLE_OWNERS } from '../../server/db/owners.js';

/**
 * One owner per table, and domains talk through their public files (server/db/owners.ts):
 * - every table (the Drizzle schema's and the FTS tables the migrations create) has exactly one owner;
 * - every write in server/** — a Drizzle `.insert(t)`, `.update(t)` or `.delete(t)` of a schema table
 *   (however it is imported), or a raw `INSERT [OR …] INTO t`, `REPLACE INTO t`, `UPDATE t SET`,
 *   `DELETE FROM t` in a string or template (interpolated schema tables included) — sits in the folder
 *   of the table's owner;
 * - a file imports another domain only through that domain's `index.ts`, `*.service.ts` or the files it
 *   lists as public. Files directly in server/ (the composition root) may import anything.
 * A table passed around in a variable, or SQL assembled at run time, is not seen: write through the
 * owner's functions instead.
 */
const root = path.resolve(import.meta.dirname, '../..');
const serverDir = path.join(root, 'server');
const schemaDir = path.join(serverDir, 'db', 'schema');

/** The SQL name of every table the Drizzle schema exports, by export name. */
const schemaTables = new Map<string, string>(
  Object.entries(schema)
    .filter(([, v]) => is(v, SQLiteTable))
    .map(([k, v]) => [k, getTableName(v as SQLiteTable)]),
);

/** Tables the migrations create outside Drizzle's schema (FTS5 virtual tables). */
const migrationTables = fs
  .readdirSync(path.join(root, 'migrations'))
  .filter((f) => f.endsWith('.sql'))
  .flatMap((f) => [...fs.readFileSync(path.join(root, 'migrations', f), 'utf8').matchAll(/CREATE VIRTUAL TABLE\s+[`"]?(\w+)/gi)].map((m) => m[1]));

const RAW_WRITES = [
  /\binsert\s+(?:or\s+\w+\s+)?into\s+[`"']?(\w+)/gi,
  /(?<!\bor\s+)\breplace\s+into\s+[`"']?(\w+)/gi,
  /\bupdate\s+(?:or\s+\w+\s+)?[`"']?(\w+)[`"']?\s+set\b/gi,
  /\bdelete\s+from\s+[`"']?(\w+)/gi,
];

export interface Write {
  table: string;
  line: number;
  how: string;
}

/** The schema's files, or server/db/tables.ts (the same tables, bound to the process's dialect: issue #17). */
const tablesModule = path.join(serverDir, 'db', 'tables');
const isSchemaSpec = (file: string, spec: string) => {
  if (!spec.startsWith('.')) return false;
  const target = path.resolve(path.dirname(file), spec);
  return target.startsWith(schemaDir) || target.replace(/\.[jt]s$/, '') === tablesModule;
};

/** Every table write in one source file (see the header). `file` is where it lives (imports resolve from it). */
export function writesIn(file: string, text: string): Write[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const named = new Map<string, string>(); // local name → schema export name
  const namespaces = new Set<string>(); // `import * as s from '…/schema/…'`
  for (const st of sf.statements) {
    if (!ts.isImportDeclaration(st) || !ts.isStringLiteral(st.moduleSpecifier) || !isSchemaSpec(file, st.moduleSpecifier.text)) continue;
    const b = st.importClause?.namedBindings;
    if (b && ts.isNamespaceImport(b)) namespaces.add(b.name.text);
    if (b && ts.isNamedImports(b)) for (const el of b.elements) named.set(el.name.text, (el.propertyName ?? el.name).text);
  }
  /** The SQL table an expression names (`users`, `u` for `users as u`, `s.users`), or null. */
  const tableOf = (e: ts.Expression): string | null => {
    if (ts.isIdentifier(e) && named.has(e.text)) return schemaTables.get(named.get(e.text)!) ?? null;
    if (ts.isPropertyAccessExpression(e) && ts.isIdentifier(e.expression) && namespaces.has(e.expression.text)) return schemaTables.get(e.name.text) ?? null;
    return null;
  };
  const out: Write[] = [];
  const lineOf = (n: ts.Node) => sf.getLineAndCharacterOfPosition(n.getStart(sf)).line + 1;
  const rawSql = (n: ts.Node, sqlText: string) => {
    for (const re of RAW_WRITES) for (const m of sqlText.matchAll(re)) out.push({ table: m[1].toLowerCase(), line: lineOf(n), how: m[0].replace(/\s+/g, ' ') });
  };
  const visit = (n: ts.Node) => {
    if (ts.isCallExpression(n) && ts.isPropertyAccessExpression(n.expression) && ['insert', 'update', 'delete'].includes(n.expression.name.text) && n.arguments.length === 1) {
      const t = tableOf(n.arguments[0]);
      if (t) out.push({ table: t, line: lineOf(n), how: `.${n.expression.name.text}(${n.arguments[0].getText(sf)})` });
    }
    if (ts.isStringLiteral(n) || ts.isNoSubstitutionTemplateLiteral(n)) rawSql(n, n.text);
    if (ts.isTemplateExpression(n)) {
      // `${table}` of a schema table reads as its name; any other interpolation as a placeholder.
      rawSql(n, n.head.text + n.templateSpans.map((s) => ` ${tableOf(s.expression) ?? '?'} ${s.literal.text}`).join(''));
      n.templateSpans.forEach((s) => visit(s.expression));
      return;
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return out;
}

/** The folder under server/ a file belongs to, or null for the composition root (files directly in server/). */
const folderOf = (file: string): string | null => {
  const parts = path.relative(serverDir, file).split(path.sep);
  return parts.length > 1 ? parts[0] : null;
};

/** Whether `target` (a file of domain `domain`) may be imported from another folder. */
export function isPublic(domain: string, target: string): boolean {
  const inside = path.relative(path.join(serverDir, domain), target).split(path.sep).join('/');
  return inside === 'index.ts' || /^[^/]+\.service\.ts$/.test(inside) || (DOMAINS[domain]?.public ?? []).includes(inside);
}

/** Imports of `file` (source `text`) into another domain's internals, as "spec (line n)". */
export function internalImports(file: string, text: string): string[] {
  const from = folderOf(file);
  if (from === null) return [];
  return ts
    .preProcessFile(text, true, true)
    .importedFiles.map((f) => ({ f, target: resolveImport(file, f.fileName) }))
    .filter(({ target }) => target?.startsWith(serverDir + path.sep))
    .filter(({ target }) => {
      const to = folderOf(target!);
      return to !== null && to !== from && !SHARED_LAYERS.includes(to) && !isPublic(to, target!);
    })
    .map(({ f }) => `${f.fileName} (line ${text.slice(0, f.pos).split('\n').length})`);
}

describe('table owners and domain boundaries (server/db/owners.ts)', () => {
  const files = tsFiles(serverDir).filter((f) => !f.startsWith(schemaDir + path.sep));
  const rel = (f: string) => path.relative(root, f);

  it('gives every table exactly one owner, and owns only tables that exist', () => {
    const known = new Set([...schemaTables.values(), ...migrationTables]);
    expect(known.size).toBeGreaterThan(40);
    const owned = Object.values(DOMAINS).flatMap((d) => d.tables);
    expect(owned.filter((t, i) => owned.indexOf(t) !== i), 'tables with two owners').toEqual([]);
    expect([...known].filter((t) => !TABLE_OWNERS.has(t)), 'tables without an owner').toEqual([]);
    expect(owned.filter((t) => !known.has(t)), 'owned tables that do not exist').toEqual([]);
  });

  it('classifies every folder under server/ once, and lists only public files that exist', () => {
    const folders = fs.readdirSync(serverDir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
    const classified = [...Object.keys(DOMAINS), ...SHARED_LAYERS];
    expect(classified.filter((f, i) => classified.indexOf(f) !== i), 'both a domain and a shared layer').toEqual([]);
    expect(folders.filter((f) => !classified.includes(f)), 'folders neither a domain nor a shared layer').toEqual([]);
    expect(classified.filter((f) => !folders.includes(f)), 'listed folders that do not exist').toEqual([]);
    const missing = Object.entries(DOMAINS).flatMap(([d, o]) => (o.public ?? []).filter((p) => !fs.existsSync(path.join(serverDir, d, p))).map((p) => `${d}/${p}`));
    expect(missing, 'public files that do not exist').toEqual([]);
  });

  it('sees writes: Drizzle calls however imported, raw SQL in strings and templates (the detector itself)', () => {
    const file = path.join(serverDir, 'live', 'x.ts');
    const src = [
      "import { agendaItems as items, users } from '../db/schema/index.js';",
      "import * as s from '../db/schema/index.js';",
      "import { votes as v } from '../db/tables.js';",
      'db.update(items).set({ status: "done" }).run();',
      'd.insert(s.meetings).values(row).run();',
      'map.delete(users.id); set.delete(key);',
      "c.prepare('INSERT OR REPLACE INTO attendance (a) VALUES (?)');",
      'c.prepare(`UPDATE live_state SET page = ? WHERE id = ${id}`);',
      'db.run(sql`delete from ${users} where id = ${id}`);',
      "log.info('update the list; delete the rest');",
      'await store.q.update(v).set({ status: "closed" });',
    ].join('\n');
    expect(writesIn(file, src).map((w) => `${w.table}@${w.line}`)).toEqual(['agenda_items@4', 'meetings@5', 'attendance@7', 'live_state@8', 'users@9', 'votes@11']);
  });

  it('sees an import of another domain’s internals (the detector itself)', () => {
    const file = path.join(serverDir, 'tasks', 'x.ts');
    const src = [
      "import { readAgenda } from '../agenda/agenda.service.js';",
      "import { agendaRoutes } from '../agenda/agenda.routes.js';",
      "import type { Db } from '../db/client.js';",
      "import { audit } from '../audit/audit.repo.js';",
      "import { ballot } from '../votes/votes.socket.js';",
      "import { x } from './tasks.routes.js';",
    ].join('\n');
    expect(internalImports(file, src)).toEqual(['../agenda/agenda.routes.js (line 2)', '../votes/votes.socket.js (line 5)']);
    expect(internalImports(path.join(serverDir, 'app.ts'), src), 'the composition root imports anything').toEqual([]);
  });

  it('writes every table only from its owner’s folder', () => {
    const foreign: string[] = [];
    let seen = 0;
    for (const f of files) {
      for (const w of writesIn(f, fs.readFileSync(f, 'utf8'))) {
        seen++;
        const owner = TABLE_OWNERS.get(w.table);
        if (owner === undefined) foreign.push(`${rel(f)}:${w.line} ${w.how}: table ${w.table} has no owner`);
        else if (folderOf(f) !== owner) foreign.push(`${rel(f)}:${w.line} ${w.how}: ${w.table} belongs to server/${owner}`);
      }
    }
    expect(seen, 'sanity: the scan finds the server’s writes').toBeGreaterThan(100);
    expect(foreign).toEqual([]);
  });

  it('imports another domain only through its public files', () => {
    const bad = files.flatMap((f) => internalImports(f, fs.readFileSync(f, 'utf8')).map((i) => `${rel(f)} imports ${i}`));
    expect(bad).toEqual([]);
  });
});
