/**
 * npm run bench -- --compare <base-rev> [name …]
 *
 * Runs each benchmark on an older revision and on this checkout, back to back (base, head, base, head … one
 * name at a time, so both see the same machine), and prints every numeric figure of the two last-line JSON
 * objects side by side with head ÷ base. The older revision is checked out as a detached git worktree in a
 * temp folder sharing this checkout's node_modules; its client is built there. Without names: every bench
 * both revisions have. Used for "performance must not change" claims (e.g. a refactor's closing note).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const [baseRev, ...names] = process.argv.slice(2);
if (!baseRev) {
  console.error('usage: npm run bench -- --compare <base-rev> [name …]');
  process.exit(2);
}
const head = process.cwd();
const base = fs.mkdtempSync(path.join(os.tmpdir(), 'ec-bench-base-'));
const git = (...args: string[]) => execFileSync('git', args, { cwd: head, encoding: 'utf8' }).trim();

git('worktree', 'add', '--detach', base, baseRev);
fs.symlinkSync(path.join(head, 'node_modules'), path.join(base, 'node_modules'));
try {
  for (const dir of [base, head]) {
    execFileSync('npx', ['vite', 'build', '--config', 'client/vite.config.ts', '--logLevel', 'warn'], { cwd: dir, stdio: 'inherit' });
  }
  const benches = (dir: string) => fs.readdirSync(path.join(dir, 'bench')).filter((f) => f.endsWith('.ts') && !f.startsWith('_')).map((f) => f.slice(0, -3));
  const both = benches(head).filter((n) => benches(base).includes(n));
  const chosen = names.length ? names : both;
  const summary: Record<string, Record<string, { base: number; head: number; ratio: number }>> = {};
  for (const name of chosen) {
    const figures = [base, head].map((dir) => run(dir, name));
    const row: Record<string, { base: number; head: number; ratio: number }> = {};
    for (const [key, b] of Object.entries(flatten(figures[0]))) {
      const h = flatten(figures[1])[key];
      if (typeof h !== 'number') continue;
      row[key] = { base: b, head: h, ratio: b === 0 ? (h === 0 ? 1 : Infinity) : round(h / b) };
    }
    summary[name] = row;
    console.log(`\n== ${name} (base ${baseRev} vs head)`);
    for (const [key, v] of Object.entries(row)) console.log(`  ${key.padEnd(40)} ${String(v.base).padStart(12)} ${String(v.head).padStart(12)}   ×${v.ratio}`);
  }
  console.log(JSON.stringify({ base: baseRev, head: git('rev-parse', '--short', 'HEAD'), benches: summary }));
} finally {
  git('worktree', 'remove', '--force', base);
}

function run(dir: string, name: string): unknown {
  const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', `bench/${name}.ts`], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 * 1024 * 1024 });
  const last = r.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(last);
  } catch {
    throw new Error(`bench ${name} in ${dir} ended without a JSON line (exit ${r.status}): ${last.slice(0, 200)}`);
  }
}

function flatten(value: unknown, prefix = ''): Record<string, number> {
  const out: Record<string, number> = {};
  if (typeof value === 'number') out[prefix] = value;
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) Object.assign(out, flatten(v, prefix ? `${prefix}.${k}` : k));
  }
  return out;
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
