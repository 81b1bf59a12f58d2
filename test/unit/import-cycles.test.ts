import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { resolveImport, tsFiles } from '../helpers/source-tree.js';

/**
 * The server's import graph has no cycle: every `import`, `import type`, `export … from` and dynamic
 * `import()` of server/**\/*.ts, relative paths resolved to files (`./x.js` → `./x.ts`). Type-only imports
 * count: a cycle through types still ties the layers together. Packages and shared/ are outside the graph.
 */
const root = path.resolve(import.meta.dirname, '../..');
const serverDir = path.join(root, 'server');

/** Imports of a file, as files under server/ (the lexical scan of TypeScript's own pre-processor). */
export function importsOf(file: string): string[] {
  const info = ts.preProcessFile(fs.readFileSync(file, 'utf8'), true, true);
  return info.importedFiles.map((f) => resolveImport(file, f.fileName)).filter((f): f is string => !!f && f.startsWith(serverDir + path.sep));
}

/** Strongly connected components with more than one file (or a file importing itself), Tarjan's algorithm. */
export function cycles(graph: Map<string, string[]>): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || (graph.get(v) ?? []).includes(v)) out.push(scc.sort());
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  return out;
}

/** One shortest cycle through `start` inside its component, for a readable failure message. */
function cycleThrough(graph: Map<string, string[]>, scc: Set<string>, start: string): string[] {
  const prev = new Map<string, string>();
  const queue = [start];
  while (queue.length) {
    const v = queue.shift()!;
    for (const w of graph.get(v) ?? []) {
      if (!scc.has(w)) continue;
      if (w === start) {
        const pathBack = [v];
        while (pathBack[0] !== start) pathBack.unshift(prev.get(pathBack[0])!);
        return [...pathBack, start];
      }
      if (!prev.has(w)) {
        prev.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start];
}

describe('server import graph', () => {
  const files = tsFiles(serverDir);
  const graph = new Map(files.map((f) => [f, importsOf(f)]));
  const rel = (f: string) => path.relative(root, f);

  it('sees the whole server (sanity: the scan finds the known imports)', () => {
    expect(files.length).toBeGreaterThan(50);
    const main = graph.get(path.join(serverDir, 'main.ts'))!.map(rel);
    expect(main).toContain('server/server.ts');
  });

  it('detects a cycle when there is one (the detector itself)', () => {
    const g = new Map([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['a']],
      ['d', ['a']],
      ['e', ['e']],
    ]);
    expect(cycles(g).map((c) => c.join(','))).toEqual(expect.arrayContaining(['a,b,c', 'e']));
    expect(cycles(g)).toHaveLength(2);
  });

  it('has no import cycle inside server/ (type-only imports included)', () => {
    const found = cycles(graph).map((scc) => {
      const set = new Set(scc);
      return `${scc.length} files: ${cycleThrough(graph, set, scc[0]).map(rel).join(' → ')}`;
    });
    expect(found).toEqual([]);
  });
});
