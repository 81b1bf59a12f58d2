import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * Tools of an attacker who holds a copy of the SQLite files (database, `-wal`, `-shm`) and reads
 * them below SQL: WAL frames in file order, raw byte positions of known values, page geometry.
 * Used by test/integration/votes-secrecy-attack.test.ts.
 */

/** The three files of a database, copied at one moment. */
export interface DbFiles {
  db: Buffer;
  wal: Buffer;
  shm: Buffer;
  /** A directory holding copies of the three files, openable with better-sqlite3. */
  dir: string;
}

/** Copies `<dir>/<file>` and its `-wal`/`-shm` (absent files read as empty) into a fresh temp directory. */
export function copyDbFiles(dataDir: string, file = 'ecabinet.sqlite'): DbFiles {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ecabinet-attack-'));
  const read = (suffix: string) => {
    const src = path.join(dataDir, file + suffix);
    const b = fs.existsSync(src) ? fs.readFileSync(src) : Buffer.alloc(0);
    if (b.length) fs.writeFileSync(path.join(dir, file + suffix), b);
    return b;
  };
  // -wal before the database: a checkpoint running meanwhile only moves content from one to the other.
  const wal = read('-wal');
  const shm = read('-shm');
  const db = read('');
  return { db, wal, shm, dir };
}

/** One WAL frame: the page image it carries and whether it belongs to the current WAL generation. */
export interface WalFrame {
  /** Position in the file (0 = first frame). */
  index: number;
  pgno: number;
  /** Non-zero on the last frame of a commit (the database size in pages after it). */
  commitSize: number;
  /** False for frames left over from an earlier generation (salt mismatch) or after the last commit. */
  current: boolean;
  data: Buffer;
}

/** Parses the WAL file's frames (https://www.sqlite.org/fileformat2.html#walformat). */
export function walFrames(wal: Buffer): { pageSize: number; frames: WalFrame[] } {
  if (wal.length < 32) return { pageSize: 0, frames: [] };
  const pageSize = wal.readUInt32BE(8);
  const salt1 = wal.readUInt32BE(16);
  const salt2 = wal.readUInt32BE(20);
  const frames: WalFrame[] = [];
  let generation = true;
  for (let off = 32, i = 0; off + 24 + pageSize <= wal.length; off += 24 + pageSize, i++) {
    const sameSalt = wal.readUInt32BE(off + 8) === salt1 && wal.readUInt32BE(off + 12) === salt2;
    if (!sameSalt) generation = false;
    frames.push({ index: i, pgno: wal.readUInt32BE(off), commitSize: wal.readUInt32BE(off + 4), current: generation, data: wal.subarray(off + 24, off + 24 + pageSize) });
  }
  // Frames of the current generation after its last commit frame were never committed.
  const lastCommit = frames.findLastIndex((f) => f.current && f.commitSize > 0);
  for (const f of frames) if (f.current && f.index > lastCommit) f.current = false;
  return { pageSize, frames };
}

/** Every offset of `needle` in `hay`. */
export function findAll(hay: Buffer, needle: Buffer): number[] {
  const out: number[] = [];
  if (!needle.length) return out;
  for (let i = hay.indexOf(needle); i >= 0; i = hay.indexOf(needle, i + 1)) out.push(i);
  return out;
}

/** The database page size from the file header (offset 16; 1 means 65536). */
export function dbPageSize(db: Buffer): number {
  if (db.length < 100) return 4096;
  const v = db.readUInt16BE(16);
  return v === 1 ? 65536 : v;
}

const logFact: number[] = [0];
function lnFact(n: number): number {
  for (let i = logFact.length; i <= n; i++) logFact[i] = logFact[i - 1] + Math.log(i);
  return logFact[n];
}
const lnChoose = (n: number, k: number) => (k < 0 || k > n ? -Infinity : lnFact(n) - lnFact(k) - lnFact(n - k));

/**
 * The chance that a pairing unrelated to the votes agrees with the truth at least `agree` times.
 * `predicted` and `truth` are binary labels (for / against) of the same m voters. Under the null (the
 * attacker's labels are independent of the voters' random choices), |A∩T| is hypergeometric with
 * population m, |T| successes and |A| draws, and agreements = 2|A∩T| + m − |A| − |T|.
 * @returns { agree, m, p } with p = P(agreements ≥ observed).
 */
export function pairingPValue(predicted: boolean[], truth: boolean[]): { agree: number; m: number; p: number } {
  const m = predicted.length;
  if (m === 0) return { agree: 0, m: 0, p: 1 };
  const a = predicted.filter(Boolean).length;
  const t = truth.filter(Boolean).length;
  let agree = 0;
  for (let i = 0; i < m; i++) if (predicted[i] === truth[i]) agree++;
  const xMin = Math.ceil((agree - m + a + t) / 2);
  let p = 0;
  const denom = lnChoose(m, a);
  for (let x = Math.max(0, xMin); x <= Math.min(a, t); x++) p += Math.exp(lnChoose(t, x) + lnChoose(m - t, a - x) - denom);
  return { agree, m, p: Math.min(1, p) };
}
