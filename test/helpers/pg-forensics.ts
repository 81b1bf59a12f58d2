import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

/**
 * Tools of an attacker who is a superuser of the PostgreSQL cluster and reads it below SQL: heap
 * tuples with their system columns (live and dead, through the pageinspect extension), raw relation
 * files, WAL segments and their records (pg_waldump). Used by
 * test/integration/votes-secrecy-attack.pg.test.ts; the SQLite attacker's tools are in sqlite-forensics.ts.
 */

const run = promisify(execFile);

/** A PostgreSQL server program of the newest installed version (Debian: /usr/lib/postgresql/<v>/bin). */
export function pgBin(name: string): string {
  const root = '/usr/lib/postgresql';
  const versions = fs.existsSync(root) ? fs.readdirSync(root).filter((v) => fs.existsSync(path.join(root, v, 'bin', name))) : [];
  versions.sort((a, b) => Number(a) - Number(b));
  if (!versions.length) throw new Error(`no ${name} under ${root}/*/bin: apt-get install -y postgresql`);
  return path.join(root, versions.at(-1)!, 'bin', name);
}

/** `X/Y` (hex) as a number: fine below 2^53 bytes of WAL, far beyond a test cluster. */
export function parseLsn(lsn: string): number {
  const [hi, lo] = lsn.split('/');
  return parseInt(hi, 16) * 2 ** 32 + parseInt(lo, 16);
}

/** One WAL segment file as found in pg_wal/, with the LSN its name says it starts at. */
export interface WalSegment {
  name: string;
  /** The LSN of its first byte by its name (a recycled segment's old content sits under a future name). */
  lsn: number;
  data: Buffer;
}

/** Every WAL segment file of the cluster, in name order. */
export function walSegments(dataDir: string): WalSegment[] {
  const dir = path.join(dataDir, 'pg_wal');
  return fs
    .readdirSync(dir)
    .filter((n) => /^[0-9A-F]{24}$/.test(n))
    .sort()
    .map((name) => {
      const data = fs.readFileSync(path.join(dir, name));
      return { name, lsn: parseInt(name.slice(8, 16), 16) * 2 ** 32 + parseInt(name.slice(16, 24), 16) * data.length, data };
    });
}

/** One WAL record as pg_waldump prints it. */
export interface WalRecord {
  lsn: number;
  /** The writing transaction's id (0: none). */
  tx: number;
  rmgr: string;
  desc: string;
}

/**
 * Every readable WAL record from the oldest segment on (pg_waldump stops at the end of valid WAL with
 * an error: expected, its output up to there is what we want). Sorted by LSN.
 */
export async function walRecords(dataDir: string): Promise<WalRecord[]> {
  const first = walSegments(dataDir)[0];
  if (!first) return [];
  let out: string;
  try {
    out = (await run(pgBin('pg_waldump'), ['-p', path.join(dataDir, 'pg_wal'), first.name], { maxBuffer: 1 << 30 })).stdout;
  } catch (e) {
    out = (e as { stdout?: string }).stdout ?? '';
  }
  const records: WalRecord[] = [];
  for (const line of out.split('\n')) {
    const m = /^rmgr: (\S+)\s.*?tx:\s+(\d+), lsn: ([0-9A-F]+\/[0-9A-F]+), prev [^,]+, desc: (.*)$/.exec(line);
    if (m) records.push({ rmgr: m[1], tx: Number(m[2]), lsn: parseLsn(m[3]), desc: m[4] });
  }
  return records;
}

/** The record whose bytes hold WAL position `lsn`: the last one starting at or before it. */
export function recordAt(records: WalRecord[], lsn: number): WalRecord | undefined {
  let lo = 0;
  let hi = records.length - 1;
  let found: WalRecord | undefined;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (records[mid].lsn <= lsn) {
      found = records[mid];
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

/** A varlena's content (its 1- or 4-byte header stripped); null for a TOAST pointer or compressed datum. */
function varlena(b: Buffer): Buffer | null {
  if (!b.length) return null;
  if (b[0] & 0x01) return b[0] === 0x01 ? null : b.subarray(1, b[0] >> 1);
  if ((b[0] & 0x03) === 0x02) return null;
  return b.subarray(4, (b.readUInt32LE(0) >>> 2) & 0x3fffffff);
}

/**
 * One attribute of a heap tuple, as pageinspect's tuple_data_split hands it (raw bytes), decoded by its
 * column type: integers and booleans as numbers, text and JSON as strings, bytea as bytes; other types
 * stay raw bytes (still comparable and searchable).
 */
export function decodeAttribute(type: string, raw: Buffer | null): unknown {
  if (raw === null) return null;
  switch (type) {
    case 'integer':
      return raw.readInt32LE(0);
    case 'bigint':
      return Number(raw.readBigInt64LE(0));
    case 'smallint':
      return raw.readInt16LE(0);
    case 'boolean':
      return raw[0];
    case 'text':
    case 'json':
    case 'character varying':
      return varlena(raw)?.toString('utf8') ?? null;
    case 'bytea':
      return varlena(raw);
    default:
      return raw;
  }
}
