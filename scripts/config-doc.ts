/**
 * npm run config:doc — writes docs/CONFIG.md from the environment schema in server/config.ts.
 * `--check` only compares and exits 1 when the file is out of date (CI, test/unit/config.test.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import { configDoc } from '../server/config.js';

const file = path.resolve(import.meta.dirname, '../docs/CONFIG.md');
const want = configDoc();
if (process.argv.includes('--check')) {
  const have = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  if (have !== want) {
    console.error('docs/CONFIG.md differs from server/config.ts: run `npm run config:doc`');
    process.exit(1);
  }
} else {
  fs.writeFileSync(file, want);
  console.log(`wrote ${path.relative(process.cwd(), file)}`);
}
