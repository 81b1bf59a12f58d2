import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BackupError, createBackup, restoreBackup, scheduledBackup, scheduledBackups, verifyBackup } from '../../server/backup/backup.js';
import { openDb } from '../../server/db/client.js';
import { ChildServer } from '../helpers/child-server.js';
import { sqliteFileDigest } from '../helpers/db-snapshot.js';
import { type BuiltMeeting, buildMeetingOn } from '../helpers/factories.js';
import { type HttpClient, startTestServer, until } from '../helpers/server.js';
import { connectSocket, connected, newCommandId, type TestSocket } from '../helpers/socket.js';
import { pdf, upload } from './documents-helpers.js';

const tmp = (name: string) => fs.mkdtempSync(path.join(os.tmpdir(), `ecabinet-${name}-`));
const sha256 = (b: Uint8Array) => crypto.createHash('sha256').update(b).digest('hex');

async function refusal(p: Promise<unknown>): Promise<BackupError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof BackupError) return err;
    throw err;
  }
  throw new Error('expected a refusal');
}

/** These backups copy the SQLite database file: the servers here run on SQLite under `npm run test:pg` too. */
const SQLITE = { database: { url: null, poolSize: 4 } };

describe('backup and restore', () => {
  let server: ChildServer;
  let secretary: HttpClient;
  let meetingId: number;
  let itemId: number;
  let otherItemId: number;
  let m: BuiltMeeting;
  const sockets: TestSocket[] = [];

  beforeAll(async () => {
    server = await ChildServer.create({ ECABINET_SEED: 'admin', DATABASE_URL: '' });
    await server.start();
    m = await buildMeetingOn(server, { members: 6, agendaItems: 2 });
    secretary = await m.as('secretary');
    meetingId = m.meetingId;
    itemId = m.itemIds[0];
    otherItemId = m.itemIds[1];
    expect((await upload(secretary, meetingId, itemId, pdf('seed-0.pdf'), 'truoc.pdf')).status).toBe(201);
  });
  afterAll(async () => {
    for (const s of sockets) s.close();
    await server?.dispose();
  });

  /** 'chair', 'secretary' or 'member<n>' (the n-th member of the built meeting). */
  async function tablet(u: string) {
    const who = u === 'chair' || u === 'secretary' ? m.as(u) : m.as('member', Number(u.slice('member'.length)) - 1);
    const t = await connected(connectSocket(server.url, await who));
    sockets.push(t);
    expect((await t.cmd('meeting:join', { meetingId })).ok).toBe(true);
    if (u !== 'secretary') await t.cmd('attendance:check_in', { meetingId, mode: 'in_room', commandId: newCommandId() });
    return t;
  }

  it('a backup taken while a vote is being cast and a document uploaded restores into an empty folder, verifies, and holds everything committed before it began, consistently', async () => {
    const chair = await tablet('chair');
    expect((await chair.cmd('meeting:open', { meetingId, overrideReason: 'Sao lưu khi đang họp' })).ok).toBe(true);
    const vote = await secretary.post(`/api/meetings/${meetingId}/votes`, { title: 'Biểu quyết trong khi sao lưu', kind: 'motion', secret: false });
    expect(vote.status).toBe(201);
    expect((await chair.cmd('vote:open', { voteId: vote.body.id, overrideReason: 'Sao lưu khi đang họp', commandId: newCommandId() })).ok).toBe(true);
    const members = await Promise.all(['member1', 'member2', 'member3', 'member4', 'member5', 'member6'].map(tablet));
    // Ballots acknowledged before the backup begins must be in it.
    for (const m of members.slice(0, 3)) expect((await m.cmd('vote:cast', { voteId: vote.body.id, choices: [0], commandId: newCommandId() })).ok).toBe(true);

    // Live writes during the backup: ballots changing back and forth, and an upload.
    let writing = true;
    const casts = (async () => {
      let n = 0;
      while (writing) await members[3 + (n++ % 3)].cmd('vote:cast', { voteId: vote.body.id, choices: [n % 2], commandId: newCommandId() });
      return n;
    })();
    const uploading = upload(secretary, meetingId, otherItemId, pdf('board-pack-large.pdf'), 'trong-khi.pdf');
    const dest = path.join(tmp('backups'), 'b1');
    const result = await createBackup(server.dataDir, dest);
    writing = false;
    expect(await casts).toBeGreaterThan(0);
    expect((await uploading).status).toBe(201);

    expect(fs.readdirSync(path.dirname(dest))).toEqual(['b1']); // no leftovers beside it
    const manifest = await verifyBackup(dest);
    expect(manifest.files.map((f) => f.path)).toContain('ecabinet.sqlite');
    expect(result.manifest).toEqual(manifest);

    const dataDir = path.join(tmp('restore'), 'data');
    await restoreBackup(dest, dataDir);
    // The restored folder is the backup, byte for byte (database and files), and the database is consistent.
    for (const f of manifest.files) expect(sha256(fs.readFileSync(path.join(dataDir, f.path))), f.path).toBe(f.sha256);
    const restored = openDb(dataDir);
    const digestRestored = sqliteFileDigest(restored);
    const ballots = restored.$client.prepare('select count(*) n from vote_named_ballots where vote_id = ?').get(vote.body.id) as { n: number } | undefined;
    restored.$client.close();
    const again = openDb(dataDir);
    expect(sqliteFileDigest(again)).toEqual(digestRestored);
    again.$client.close();
    expect(ballots?.n ?? 0).toBeGreaterThanOrEqual(3);

    // The restored folder serves: every document version's bytes match their hash, the vote is there.
    const s = await startTestServer({ seed: 'admin', dataDir, config: SQLITE });
    try {
      const sec = await s.login(m.secretary.username, m.secretary.password);
      const pack = (await sec.get(`/api/meetings/${meetingId}/documents`)).body;
      const docs = pack.items.flatMap((i: { documents: { id: number }[] }) => i.documents);
      expect(docs.length).toBeGreaterThanOrEqual(1);
      for (const d of docs) {
        const full = (await sec.get(`/api/documents/${d.id}`)).body;
        for (const v of full.versions) {
          const res = await fetch(`${s.url}/api/documents/${d.id}/file?version=${v.id}`, { headers: { cookie: sec.cookie } });
          expect(res.status).toBe(200);
          expect(sha256(new Uint8Array(await res.arrayBuffer()))).toBe(v.sha256 ?? sha256(fs.readFileSync(path.join(dataDir, 'files', v.sha256.slice(0, 2), v.sha256))));
        }
      }
      const v = (await sec.get(`/api/votes/${vote.body.id}`)).body;
      expect(v.state).toBe('open');
      expect(v.voted).toBeGreaterThanOrEqual(3);
    } finally {
      await s.close();
    }
  });

  it('restore never writes into a non-empty data folder, and refuses damaged, truncated, foreign and incomplete backups naming what is wrong', async () => {
    // A good backup of this test's own (of the server the file shares, with at least one document file).
    const good = path.join(tmp('good'), 'b');
    await createBackup(server.dataDir, good);
    await verifyBackup(good);
    const busy = tmp('busy');
    fs.writeFileSync(path.join(busy, 'keep.txt'), 'x');
    const notEmpty = await refusal(restoreBackup(good, busy));
    expect(notEmpty.code).toBe('target_not_empty');
    expect(fs.readdirSync(busy)).toEqual(['keep.txt']);

    const copy = (name: string) => {
      const d = path.join(tmp('bad'), name);
      fs.cpSync(good, d, { recursive: true });
      return d;
    };
    const manifest = JSON.parse(fs.readFileSync(path.join(good, 'manifest.json'), 'utf8'));
    const aFile = manifest.files.find((f: { path: string }) => f.path.startsWith('files/')).path as string;

    const truncated = copy('truncated');
    fs.truncateSync(path.join(truncated, aFile), 1000);
    const t = await refusal(restoreBackup(truncated, path.join(tmp('r'), 'data')));
    expect(t.code).toBe('damaged_backup');
    expect(t.message).toContain(aFile);
    expect(t.message).toMatch(/truncated/);

    const flipped = copy('flipped');
    const db = path.join(flipped, 'ecabinet.sqlite');
    const bytes = fs.readFileSync(db);
    bytes[bytes.length - 100] ^= 0xff;
    fs.writeFileSync(db, bytes);
    const f = await refusal(restoreBackup(flipped, path.join(tmp('r'), 'data')));
    expect(f.code).toBe('damaged_backup');
    expect(f.message).toMatch(/ecabinet\.sqlite does not match its checksum/);

    const missing = copy('missing');
    fs.rmSync(path.join(missing, aFile));
    expect((await refusal(verifyBackup(missing))).message).toContain(`${aFile} is listed in the manifest but missing`);

    const foreign = copy('foreign');
    fs.writeFileSync(path.join(foreign, 'manifest.json'), JSON.stringify({ format: 'some-other-tool', files: [] }));
    const fo = await refusal(restoreBackup(foreign, path.join(tmp('r'), 'data')));
    expect(fo.code).toBe('foreign_backup');
    expect(fo.message).toContain('some-other-tool');

    const noManifest = copy('incomplete');
    fs.rmSync(path.join(noManifest, 'manifest.json'));
    expect((await refusal(restoreBackup(noManifest, path.join(tmp('r'), 'data')))).code).toBe('incomplete_backup');

    // Nothing was written for any refusal.
    const target = path.join(tmp('r'), 'data');
    await refusal(restoreBackup(truncated, target));
    expect(fs.existsSync(target)).toBe(false);
    expect(fs.readdirSync(path.dirname(target))).toEqual([]);
  });

  it('a backup killed with SIGKILL midway leaves only a .partial- folder without a manifest, which restore refuses', async () => {
    const parent = tmp('killed');
    const dest = path.join(parent, 'b');
    const proc = spawn(process.execPath, ['--import', 'tsx', 'scripts/backup.ts', dest], { env: { ...process.env, ECABINET_DATA_DIR: server.dataDir }, stdio: 'ignore' });
    const exited = new Promise((r) => proc.once('exit', r));
    // SIGKILL as soon as the backup has started writing: the database first, files after.
    await until(() => fs.readdirSync(parent).some((n) => n.startsWith('b.partial-') && fs.readdirSync(path.join(parent, n)).length > 0), { interval: 1, timeout: 30_000, what: 'backup started' });
    proc.kill('SIGKILL');
    await exited;
    const left = fs.readdirSync(parent);
    expect(left).toHaveLength(1);
    expect(left[0]).toMatch(/^b\.partial-[0-9a-f]+$/);
    expect(fs.existsSync(path.join(parent, left[0], 'manifest.json'))).toBe(false);
    expect(fs.existsSync(dest)).toBe(false);
    expect((await refusal(restoreBackup(path.join(parent, left[0]), path.join(tmp('r'), 'data')))).code).toBe('incomplete_backup');
  });

  it('on PostgreSQL (DATABASE_URL set) npm run backup and restore refuse, pointing at pg_dump, and write nothing', async () => {
    const parent = tmp('pg-refusal');
    const run = (script: string, args: string[], env: Record<string, string>) =>
      new Promise<{ code: number | null; err: string }>((resolve) => {
        const proc = spawn(process.execPath, ['--import', 'tsx', script, ...args], { env: { ...process.env, ...env, DATABASE_URL: 'postgres://nobody@127.0.0.1:1/ecabinet' } });
        let err = '';
        proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
        proc.once('exit', (code) => resolve({ code, err }));
      });
    // The data folder holds a SQLite database a backup could copy: only the refusal keeps it from doing so.
    const backup = await run('scripts/backup.ts', [path.join(parent, 'b')], { ECABINET_DATA_DIR: server.dataDir });
    expect(backup.code).toBe(1);
    expect(backup.err).toContain('runs on PostgreSQL');
    expect(backup.err).toContain('pg_dump');
    const good = path.join(tmp('pg-refusal-source'), 'b');
    await createBackup(server.dataDir, good);
    const restore = await run('scripts/restore.ts', [good], { ECABINET_DATA_DIR: path.join(parent, 'data') });
    expect(restore.code).toBe(1);
    expect(restore.err).toContain('pg_dump');
    expect(fs.readdirSync(parent)).toEqual([]);
  });

  it('scheduled backups keep the newest N and remove leftovers of interrupted runs', async () => {
    const dir = tmp('scheduled');
    fs.mkdirSync(path.join(dir, 'ecabinet-20260101T000000Z.partial-abcd1234'));
    const t = Date.UTC(2026, 11, 1);
    for (let i = 0; i < 4; i++) await scheduledBackup(server.dataDir, dir, 2, new Date(t + i * 3600_000));
    expect(scheduledBackups(dir).map((d) => path.basename(d))).toEqual(['ecabinet-20261201T020000Z', 'ecabinet-20261201T030000Z']);
    expect(fs.readdirSync(dir).sort()).toEqual(['ecabinet-20261201T020000Z', 'ecabinet-20261201T030000Z']);
    for (const d of scheduledBackups(dir)) await verifyBackup(d);
  });

  it('with ECABINET_BACKUP_DIR set the server takes backups on its own every interval and keeps the newest ECABINET_BACKUP_KEEP', async () => {
    const dir = tmp('server-scheduled');
    const lines: string[] = [];
    const written = () => lines.filter((l) => l.includes('"msg":"scheduled backup written"')).length;
    // Every 1.5 s (folder names are to the second), keep 2.
    const s = await startTestServer({ seed: 'admin', config: { ...SQLITE, backup: { dir, intervalHours: 1.5 / 3600, keep: 2 } }, logLevel: 'info', logTo: { write: (l) => void lines.push(l) } });
    try {
      await until(() => written() >= 3, { timeout: 30_000, what: 'three scheduled backups' });
    } finally {
      await s.close();
    }
    const kept = scheduledBackups(dir);
    expect(kept).toHaveLength(2);
    expect(fs.readdirSync(dir).sort()).toEqual(kept.map((d) => path.basename(d)));
    for (const d of kept) await verifyBackup(d);
  });
});
