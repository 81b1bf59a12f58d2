import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import Database from 'better-sqlite3';

/**
 * Backups of a data folder: the SQLite database through SQLite's online backup API (consistent
 * while the server keeps writing: WAL readers never block writers), the content-addressed document
 * files, and `manifest.json` listing every file with its size and SHA-256.
 *
 * Crash safety: everything is written into `<dest>.partial-<random>` beside the destination; the
 * manifest is written (and fsynced) last and the folder is renamed to `<dest>` only then. A backup
 * killed midway (`kill -9`) leaves a `.partial-` folder without a manifest, which `restore` refuses
 * and the scheduler removes; never a folder that looks complete.
 *
 * Restore verifies the manifest before it writes anything, copies into a sibling temp folder and
 * renames it into place, and never writes into a data folder that is not empty.
 *
 * PostgreSQL (`DATABASE_URL`): these backups copy the embedded SQLite store only; on PostgreSQL
 * `refuseOnPostgres` stops them with a message pointing at pg_dump (docs/DEPLOY.md).
 */

export const BACKUP_FORMAT = 'ecabinet-backup';
export const BACKUP_FORMAT_VERSION = 1;
const DB_FILE = 'ecabinet.sqlite';
const SHA = /^[0-9a-f]{64}$/;

export interface ManifestEntry {
  /** Path inside the backup, `/`-separated. */
  path: string;
  size: number;
  sha256: string;
}

export interface Manifest {
  format: typeof BACKUP_FORMAT;
  formatVersion: number;
  createdAt: string;
  /** The last migration applied to the database (its drizzle `created_at`), to refuse restoring into an older release. */
  schema: { lastMigration: number | null; migrations: number };
  files: ManifestEntry[];
}

/** A backup or restore that cannot proceed; `message` says what is wrong, for the operator. */
export class BackupError extends Error {
  constructor(
    readonly code: 'not_a_backup' | 'foreign_backup' | 'damaged_backup' | 'incomplete_backup' | 'target_not_empty' | 'target_exists' | 'no_database' | 'postgres',
    message: string,
  ) {
    super(message);
  }
}

/**
 * Refuses a backup or restore of an installation that runs on PostgreSQL (`DATABASE_URL` set): what
 * this module copies is the embedded SQLite database, which such an installation does not use.
 * @throws BackupError `postgres`, naming PostgreSQL's own tools.
 */
export function refuseOnPostgres(database: { url: string | null }): void {
  if (!database.url) return;
  throw new BackupError(
    'postgres',
    "this installation runs on PostgreSQL (DATABASE_URL is set), and E-Cabinet's backup copies only the embedded SQLite database. Back up the database with pg_dump --format=custom (restore with pg_restore into an empty database) and the data folder's files/ with a file copy; see docs/DEPLOY.md.",
  );
}

/** Tables whose `sha256` column names a stored file (the file store's references; see server/files). */
const FILE_REFERENCES = ['document_versions', 'task_attachments'];

async function hashFile(file: string): Promise<{ size: number; sha256: string }> {
  const h = crypto.createHash('sha256');
  let size = 0;
  await pipeline(fs.createReadStream(file), async function* (src) {
    for await (const chunk of src as AsyncIterable<Buffer>) {
      size += chunk.length;
      h.update(chunk);
    }
  });
  return { size, sha256: h.digest('hex') };
}

/** Copies `from` to `to` while hashing the bytes written; fsyncs the copy. */
async function copyHashed(from: string, to: string): Promise<{ size: number; sha256: string }> {
  fs.mkdirSync(path.dirname(to), { recursive: true });
  const h = crypto.createHash('sha256');
  let size = 0;
  await pipeline(
    fs.createReadStream(from),
    async function* (src) {
      for await (const chunk of src as AsyncIterable<Buffer>) {
        size += chunk.length;
        h.update(chunk);
        yield chunk;
      }
    },
    fs.createWriteStream(to, { flags: 'wx' }),
  );
  fsyncPath(to);
  return { size, sha256: h.digest('hex') };
}

function fsyncPath(p: string): void {
  const fd = fs.openSync(p, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

function schemaOf(db: Database.Database): Manifest['schema'] {
  try {
    const r = db.prepare('select max(created_at) last, count(*) n from __drizzle_migrations').get() as { last: number | null; n: number };
    return { lastMigration: r.last === null ? null : Number(r.last), migrations: r.n };
  } catch {
    return { lastMigration: null, migrations: 0 };
  }
}

/** The stored files a database refers to (tables that do not exist yet are skipped). */
function referencedFiles(db: Database.Database): string[] {
  const tables = new Set((db.prepare("select name from sqlite_master where type = 'table'").all() as { name: string }[]).map((r) => r.name));
  const out = new Set<string>();
  for (const t of FILE_REFERENCES.filter((t) => tables.has(t))) {
    for (const r of db.prepare(`select sha256 from "${t}"`).all() as { sha256: string }[]) if (SHA.test(r.sha256)) out.add(r.sha256);
  }
  return [...out].sort();
}

/**
 * Where the bytes of `sha` are now: in place, or still pending in `files/tmp` (a commit between its
 * transaction and the rename into place, which follows at once). Waits a little for the rename.
 */
async function locateStored(dataDir: string, sha: string): Promise<string | null> {
  const final = path.join(dataDir, 'files', sha.slice(0, 2), sha);
  const tmp = path.join(dataDir, 'files', 'tmp');
  for (let i = 0; i < 50; i++) {
    if (fs.existsSync(final)) return final;
    const pending = fs.existsSync(tmp) ? fs.readdirSync(tmp).find((n) => n.startsWith(`${sha}.`) && n.endsWith('.pending')) : undefined;
    if (pending) return path.join(tmp, pending);
    await new Promise((r) => setTimeout(r, 100));
  }
  return null;
}

export interface BackupResult {
  dir: string;
  manifest: Manifest;
  ms: number;
}

/**
 * Takes a consistent backup of `dataDir` into the new folder `dest` (must not exist). Safe while the
 * server runs. Ballots and other secrets are copied as stored (sealed where the domain seals them);
 * nothing of the content is logged.
 * @throws BackupError `no_database`, `target_exists`; I/O errors as they come.
 */
export async function createBackup(dataDir: string, dest: string): Promise<BackupResult> {
  const t0 = Date.now();
  const source = path.join(dataDir, DB_FILE);
  if (!fs.existsSync(source)) throw new BackupError('no_database', `No database at ${source}: is ECABINET_DATA_DIR right?`);
  dest = path.resolve(dest);
  if (fs.existsSync(dest) && fs.readdirSync(dest).length > 0) throw new BackupError('target_exists', `${dest} exists and is not empty; name a new folder`);
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  const tmp = `${dest}.partial-${crypto.randomBytes(4).toString('hex')}`;
  fs.mkdirSync(tmp);
  try {
    const db = new Database(source, { fileMustExist: true });
    let schema: Manifest['schema'];
    try {
      db.pragma('busy_timeout = 5000');
      // SQLite's online backup: a consistent snapshot while others write. After the first step, copy
      // the rest in one step, so a busy writer cannot make it restart again and again.
      await db.backup(path.join(tmp, DB_FILE), { progress: () => 1 << 30 });
    } finally {
      db.close();
    }
    const files: ManifestEntry[] = [];
    const copy = new Database(path.join(tmp, DB_FILE));
    let shas: string[];
    try {
      copy.pragma('journal_mode = DELETE');
      const ok = copy.pragma('quick_check', { simple: true });
      if (ok !== 'ok') throw new Error(`the database copy failed its check: ${ok}`);
      schema = schemaOf(copy);
      shas = referencedFiles(copy);
    } finally {
      copy.close();
    }
    fsyncPath(path.join(tmp, DB_FILE));
    files.push({ path: DB_FILE, ...(await hashFile(path.join(tmp, DB_FILE))) });
    for (const sha of shas) {
      const from = await locateStored(dataDir, sha);
      if (!from) throw new Error(`stored file ${sha} is referenced by the database but missing from ${path.join(dataDir, 'files')}`);
      const rel = `files/${sha.slice(0, 2)}/${sha}`;
      const got = await copyHashed(from, path.join(tmp, rel));
      if (got.sha256 !== sha) throw new Error(`stored file ${sha} does not match its hash (${got.sha256}): the data folder is damaged`);
      files.push({ path: rel, ...got });
    }
    const manifest: Manifest = { format: BACKUP_FORMAT, formatVersion: BACKUP_FORMAT_VERSION, createdAt: new Date().toISOString(), schema, files };
    // The manifest last: its presence is what makes a backup complete.
    const mf = path.join(tmp, 'manifest.json');
    fs.writeFileSync(mf, JSON.stringify(manifest, null, 1) + '\n');
    fsyncPath(mf);
    if (fs.existsSync(dest)) fs.rmdirSync(dest);
    fs.renameSync(tmp, dest);
    fsyncPath(path.dirname(dest));
    return { dir: dest, manifest, ms: Date.now() - t0 };
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
}

/**
 * Reads and checks a backup folder without writing anything: a manifest of ours, every file listed
 * present with its size and SHA-256, nothing missing, the database readable.
 * @throws BackupError naming the first thing that is wrong.
 */
export async function verifyBackup(dir: string): Promise<Manifest> {
  dir = path.resolve(dir);
  if (!fs.existsSync(dir)) throw new BackupError('not_a_backup', `${dir} does not exist`);
  if (/\.partial-[0-9a-f]+$/.test(dir)) throw new BackupError('incomplete_backup', `${dir} is an interrupted backup (a .partial- folder); take a new one`);
  const mf = path.join(dir, 'manifest.json');
  if (!fs.existsSync(mf)) throw new BackupError('incomplete_backup', `${dir} has no manifest.json: not an E-Cabinet backup, or one that was interrupted before it finished`);
  let manifest: Manifest;
  try {
    manifest = JSON.parse(fs.readFileSync(mf, 'utf8')) as Manifest;
  } catch {
    throw new BackupError('damaged_backup', `${mf} is not valid JSON: the backup is damaged`);
  }
  if (manifest?.format !== BACKUP_FORMAT) throw new BackupError('foreign_backup', `${mf} is not an E-Cabinet backup manifest (format ${JSON.stringify(manifest?.format ?? null)})`);
  if (manifest.formatVersion !== BACKUP_FORMAT_VERSION) {
    throw new BackupError('foreign_backup', `${dir} has backup format version ${manifest.formatVersion}; this release reads version ${BACKUP_FORMAT_VERSION}`);
  }
  if (!Array.isArray(manifest.files) || !manifest.files.some((f) => f.path === DB_FILE)) throw new BackupError('damaged_backup', `${mf} lists no ${DB_FILE}: the backup is damaged`);
  for (const f of manifest.files) {
    if (typeof f.path !== 'string' || !(f.path === DB_FILE || /^files\/[0-9a-f]{2}\/[0-9a-f]{64}$/.test(f.path))) {
      throw new BackupError('foreign_backup', `${mf} lists an unexpected path ${JSON.stringify(f.path)}`);
    }
    const full = path.join(dir, ...f.path.split('/'));
    if (!fs.existsSync(full)) throw new BackupError('damaged_backup', `${f.path} is listed in the manifest but missing from the backup`);
    const got = await hashFile(full);
    if (got.size !== f.size) throw new BackupError('damaged_backup', `${f.path} is ${got.size} bytes, the manifest says ${f.size}: truncated or damaged`);
    if (got.sha256 !== f.sha256) throw new BackupError('damaged_backup', `${f.path} does not match its checksum in the manifest: damaged`);
  }
  const db = new Database(path.join(dir, DB_FILE), { readonly: true, fileMustExist: true });
  try {
    const ok = db.pragma('quick_check', { simple: true });
    if (ok !== 'ok') throw new BackupError('damaged_backup', `${DB_FILE} fails SQLite's check: ${ok}`);
  } catch (err) {
    if (err instanceof BackupError) throw err;
    throw new BackupError('damaged_backup', `${DB_FILE} is not a readable SQLite database: ${(err as Error).message}`);
  } finally {
    db.close();
  }
  return manifest;
}

/**
 * Restores a verified backup into `dataDir`, which must not exist or be empty. Writes into a
 * sibling temp folder and renames it into place, so a failure leaves no half-restored folder.
 * @throws BackupError `target_not_empty` or a verification error; nothing is written then.
 */
export async function restoreBackup(dir: string, dataDir: string): Promise<Manifest> {
  dataDir = path.resolve(dataDir);
  if (fs.existsSync(dataDir) && fs.readdirSync(dataDir).length > 0) {
    throw new BackupError('target_not_empty', `${dataDir} is not empty: restore only writes into an empty data folder (move the current one aside first)`);
  }
  const manifest = await verifyBackup(dir);
  fs.mkdirSync(path.dirname(dataDir), { recursive: true });
  const tmp = `${dataDir}.restoring-${crypto.randomBytes(4).toString('hex')}`;
  fs.mkdirSync(tmp);
  try {
    for (const f of manifest.files) {
      const got = await copyHashed(path.join(dir, ...f.path.split('/')), path.join(tmp, ...f.path.split('/')));
      if (got.sha256 !== f.sha256) throw new BackupError('damaged_backup', `${f.path} changed while it was restored`);
    }
    fs.mkdirSync(path.join(tmp, 'files', 'tmp'), { recursive: true });
    if (fs.existsSync(dataDir)) fs.rmdirSync(dataDir);
    fs.renameSync(tmp, dataDir);
    fsyncPath(path.dirname(dataDir));
    return manifest;
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
}

/** Backup folders made by the scheduler in `dir`: `ecabinet-<timestamp>`, oldest first. */
export function scheduledBackups(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((n) => /^ecabinet-\d{8}T\d{6}Z$/.test(n))
    .sort()
    .map((n) => path.join(dir, n));
}

/** The folder name of a scheduled backup taken at `at`. */
export function scheduledName(at: Date): string {
  return `ecabinet-${at.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}`;
}

/**
 * One scheduled run: a new backup in `dir`, then retention: keeps the newest `keep` complete
 * backups and removes older ones and leftovers of interrupted runs (`.partial-` folders).
 */
export async function scheduledBackup(dataDir: string, dir: string, keep: number, at = new Date()): Promise<BackupResult> {
  const result = await createBackup(dataDir, path.join(dir, scheduledName(at)));
  for (const n of fs.readdirSync(dir)) if (/^ecabinet-\d{8}T\d{6}Z\.partial-[0-9a-f]+$/.test(n)) fs.rmSync(path.join(dir, n), { recursive: true, force: true });
  const complete = scheduledBackups(dir).filter((d) => fs.existsSync(path.join(d, 'manifest.json')));
  for (const old of complete.slice(0, Math.max(0, complete.length - keep))) fs.rmSync(old, { recursive: true, force: true });
  return result;
}
