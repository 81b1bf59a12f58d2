import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { asc, eq } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { foldText } from '../../shared/rules/fold.js';
import { itemNotesDocName } from '../../shared/protocol/yjs.js';
import { auditHash } from '../../server/audit/audit.chain.js';
import * as schema from '../../server/db/pg/index.js';
import { upload, pdf } from './documents-helpers.js';
import { buildMeeting } from '../helpers/factories.js';
import { type ThrowawayPg, startThrowawayPg } from '../helpers/pg.js';
import { type TestServer, startTestServer, until } from '../helpers/server.js';
import { type TestSocket, connectSocket, connected, newCommandId } from '../helpers/socket.js';
import { openProvider } from '../helpers/yjs.js';
import { testSql } from '../helpers/sql.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const run = promisify(execFile);

/** `npm run db:copy -- --from sqlite:<file> --to <url>` as a user runs it: exit code and output. */
async function dbCopy(file: string, to: string): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, ['--import', 'tsx', 'scripts/db-copy.ts', '--from', `sqlite:${file}`, '--to', to], { cwd: ROOT, timeout: 120_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/**
 * db:copy (scripts/db-copy.ts, issue #17) moves a real installation's SQLite database to an empty
 * PostgreSQL one: an installation built through the API (committee, meeting, agenda, a named and a secret
 * vote with ballots, a document with its search rows, the audit log, a Yjs note), stopped, copied to a
 * throwaway PostgreSQL, and read back there through the PostgreSQL schema (server/db/pg).
 */
describe('db:copy: SQLite → PostgreSQL', () => {
  let server: TestServer | undefined;
  let pgServer: ThrowawayPg;
  let file: string;
  const sockets: TestSocket[] = [];
  const built = { meetingId: 0, startsAt: '', namedVoteId: 0, secretVoteId: 0, docId: 0, notes: '', notesName: '', files: [] as string[] };

  beforeAll(async () => {
    pgServer = await startThrowawayPg();
    // The source is the SQLite installation being moved, under `npm run test:pg` too.
    server = await startTestServer({ seed: 'admin', config: { database: { url: null } } });
    const s = server;
    const m = await buildMeeting(s, { members: 3, agendaItems: 2, title: 'Phiên họp chuyển sang PostgreSQL' });
    const secretary = await m.as('secretary');
    built.meetingId = m.meetingId;
    built.startsAt = (await secretary.get(`/api/meetings/${m.meetingId}`)).body.startsAt;

    // A document: its pages and text become search rows.
    const doc = await upload(secretary, m.meetingId, m.itemIds[0], pdf('seed-2.pdf'), 'seed-2.pdf', { title: 'Báo cáo chuyển đổi số Đà Nẵng' });
    expect(doc.status).toBe(201);
    built.docId = doc.body.id;

    // A note of the first item, written over the y-websocket protocol.
    built.notesName = itemNotesDocName(m.meetingId, m.itemIds[0]);
    const p = openProvider(s.url, built.notesName, secretary.cookie);
    try {
      await until(() => p.provider.synced, { what: 'notes synced' });
      built.notes = 'Kết luận: thông qua lộ trình chuyển đổi số; giao Sở Thông tin và Truyền thông chủ trì.';
      p.text.insert(0, built.notes);
      await until(async () => ((await testSql(s).value('select count(*) from yjs_updates where doc_name = ?', built.notesName)) as number) > 0, {
        what: 'note stored',
      });
    } finally {
      p.destroy();
    }

    // A named and a secret vote, both with ballots, both closed.
    const tablet = async (c: Awaited<ReturnType<typeof m.as>>) => {
      const t = await connected(connectSocket(s.url, c));
      sockets.push(t);
      expect(await t.cmd('attendance:check_in', { meetingId: m.meetingId, mode: 'in_room', commandId: newCommandId() })).toMatchObject({ ok: true });
      return t;
    };
    const chair = await tablet(await m.as('chair'));
    const members = [];
    for (let i = 0; i < 3; i++) members.push(await tablet(await m.as('member', i)));
    expect(await chair.cmd('meeting:open', { meetingId: m.meetingId })).toMatchObject({ ok: true });
    for (const secret of [false, true]) {
      const created = await chair.cmd('vote:create', { meetingId: m.meetingId, vote: { title: secret ? 'Biểu quyết kín' : 'Biểu quyết công khai', kind: 'motion', secret }, commandId: newCommandId() });
      expect(created, JSON.stringify(created)).toMatchObject({ ok: true });
      const voteId = (created as { data: { vote: { id: number } } }).data.vote.id;
      expect(await chair.cmd('vote:open', { voteId, commandId: newCommandId() })).toMatchObject({ ok: true });
      const choices = [[0], [1], [0]];
      for (let i = 0; i < 3; i++) {
        const ballot = { voteId, choices: choices[i], commandId: newCommandId(), ...(secret ? { receipt: `r${i}-${newCommandId()}` } : {}) };
        expect(await members[i].cmd('vote:cast', ballot)).toMatchObject({ ok: true });
      }
      expect(await chair.cmd('vote:close', { voteId, commandId: newCommandId() })).toMatchObject({ ok: true, data: { vote: { result: { counts: [2, 1] } } } });
      if (secret) built.secretVoteId = voteId;
      else built.namedVoteId = voteId;
    }
    for (const t of sockets) t.close();

    const dataDir = s.dataDir;
    await s.close();
    server = undefined;
    file = path.join(dataDir, 'ecabinet.sqlite');
    built.files = listFiles(path.join(dataDir, 'files'));
  }, 180_000);

  afterAll(async () => {
    for (const t of sockets) t.close();
    await server?.close();
    await pgServer?.stop();
  });

  function listFiles(dir: string): string[] {
    if (!fs.existsSync(dir)) return [];
    return fs
      .readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((d) => d.isFile())
      .map((d) => {
        const f = path.join(d.parentPath, d.name);
        return `${path.relative(dir, f)}:${fs.statSync(f).size}:${fs.statSync(f).mtimeMs}`;
      })
      .sort();
  }

  it('copies every table with equal row counts and checksums, and the data reads back the same on PostgreSQL (instants, ballots, search, notes, audit chain, sequences)', async () => {
    const to = await pgServer.createDatabase('copy_ok');
    const r = await dbCopy(file, to);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/tables copied and verified/);
    expect(r.stdout).not.toMatch(/MISMATCH/);
    // Every table of the SQLite file is in the report, with its row count (the FTS tables aside).
    const sqlite = new Database(file, { readonly: true });
    const tables = (sqlite.prepare("select name from sqlite_master where type = 'table' and name not like 'sqlite_%' and name not like '%fts%' and name <> '__drizzle_migrations'").pluck().all() as string[]).sort();
    const reported = new Map([...r.stdout.matchAll(/^(\w+)\s+(\d+)\s+(\d+)\s+([0-9a-f]{16})\s+([0-9a-f]{16})\s+ok$/gm)].map((x) => [x[1], Number(x[2])]));
    expect([...reported.keys()].sort()).toEqual(tables);
    for (const t of tables) expect(reported.get(t), t).toBe(sqlite.prepare(`select count(*) from "${t}"`).pluck().get());
    for (const t of ['meetings', 'agenda_items', 'votes', 'vote_named_ballots', 'vote_secret_ballots', 'documents', 'search_entries', 'search_groups', 'audit_log', 'yjs_updates']) {
      expect(reported.get(t), t).toBeGreaterThan(0);
    }

    // Files untouched.
    expect(listFiles(path.join(path.dirname(file), 'files'))).toEqual(built.files);

    const pool = new pg.Pool({ connectionString: to, max: 2, options: '-c TimeZone=Asia/Ho_Chi_Minh' });
    try {
      const db = drizzle(pool, { schema, casing: 'snake_case' });
      // An instant comes back as the same ISO string, whatever the session's time zone.
      const [meeting] = await db.select().from(schema.meetings).where(eq(schema.meetings.id, built.meetingId));
      expect(meeting.startsAt).toBe(built.startsAt);
      expect(meeting.title).toBe('Phiên họp chuyển sang PostgreSQL');

      // Booleans and JSON: the two votes, their result; the secret ballots' bytes and choices as on SQLite.
      const votes = await db.select().from(schema.votes).where(eq(schema.votes.meetingId, built.meetingId)).orderBy(asc(schema.votes.id));
      expect(votes.map((v) => [v.id, v.secret])).toEqual([
        [built.namedVoteId, false],
        [built.secretVoteId, true],
      ]);
      const sqliteVotes = sqlite.prepare('select options, result from votes where meeting_id = ? order by id').all(built.meetingId) as { options: string; result: string }[];
      expect(votes.map((v) => [v.options, v.result])).toEqual(sqliteVotes.map((v) => [JSON.parse(v.options), JSON.parse(v.result)]));
      const secret = await db.select().from(schema.voteSecretBallots).where(eq(schema.voteSecretBallots.voteId, built.secretVoteId));
      const sqliteSecret = sqlite.prepare('select receipt_key as k, choices as c from vote_secret_ballots where vote_id = ?').all(built.secretVoteId) as { k: Buffer; c: string }[];
      expect(secret).toHaveLength(3);
      expect(new Map(secret.map((b) => [b.receiptKey.toString('hex'), b.choices]))).toEqual(new Map(sqliteSecret.map((b) => [b.k.toString('hex'), b.c])));

      // The note: the Yjs updates decode to the same text.
      const updates = await db.select().from(schema.yjsUpdates).where(eq(schema.yjsUpdates.docName, built.notesName)).orderBy(asc(schema.yjsUpdates.id));
      const doc = new Y.Doc();
      for (const u of updates) Y.applyUpdate(doc, new Uint8Array(u.data));
      expect(doc.getText('t').toString()).toBe(built.notes);

      // Search: the tsvector columns are filled with the app's folding (đ → d), and find the document.
      const found = await pool.query(
        `select distinct kind, ref_id from search_entries where fts @@ plainto_tsquery('simple', $1) and kind = 'document'`,
        [foldText('chuyển đổi số Đà Nẵng')],
      );
      expect(found.rows).toEqual([{ kind: 'document', ref_id: built.docId }]);
      const groups = await pool.query(`select count(*)::int as n from search_groups where fts = ''::tsvector`);
      expect(groups.rows[0].n).toBe(0);

      // The audit chain verifies with the app's own auditHash over what PostgreSQL holds, the hashes are
      // the original ones, and the trigger is back on: a new entry chains onto the copied head.
      const chainRows = async () =>
        (
          await pool.query(`select id, actor_id, action, target_type, target_id, details::text as details,
              to_char(at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as at, prev_hash, hash from audit_log order by id`)
        ).rows as { id: number; actor_id: number | null; action: string; target_type: string; target_id: string | null; details: string | null; at: string; prev_hash: string | null; hash: string }[];
      const verify = (rows: Awaited<ReturnType<typeof chainRows>>) => {
        let prev: string | null = null;
        let bad = 0;
        for (const a of rows) {
          if (a.prev_hash !== prev || a.hash !== auditHash(a.prev_hash, a.actor_id, a.action, a.target_type, a.target_id, a.details, a.at)) bad++;
          prev = a.hash;
        }
        return bad;
      };
      const copied = await chainRows();
      expect(copied.length).toBeGreaterThan(5);
      expect(verify(copied)).toBe(0);
      expect(copied.map((a) => [a.id, a.hash])).toEqual(sqlite.prepare('select id, hash from audit_log order by id').raw().all());
      const [added] = await db.insert(schema.auditLog).values({ actorId: null, action: 'db.copied', targetType: 'system', details: { to: 'postgres' } }).returning();
      expect(added.id).toBeGreaterThan(copied.at(-1)!.id);
      expect(added.prevHash).toBe(copied.at(-1)!.hash);
      expect(verify(await chainRows())).toBe(0);

      // Sequences moved past the copied ids: a new user gets a fresh id.
      const maxUser = sqlite.prepare('select max(id) from users').pluck().get() as number;
      const [u] = await db.insert(schema.users).values({ username: 'after-copy', fullName: 'Sau khi chuyển', passwordHash: 'x', systemRole: 'user' }).returning({ id: schema.users.id });
      expect(u.id).toBeGreaterThan(maxUser);
    } finally {
      await pool.end();
      sqlite.close();
    }
  }, 120_000);

  it('refuses a non-empty target, and a value it cannot convert rolls the whole copy back (nothing committed)', async () => {
    // A non-empty target: exit 2, the table there untouched.
    const busy = await pgServer.createDatabase('copy_busy');
    const c = new pg.Client({ connectionString: busy });
    await c.connect();
    try {
      await c.query('create table keep_me (x int)');
      const refused = await dbCopy(file, busy);
      expect(refused.code, refused.stdout + refused.stderr).toBe(2);
      expect(refused.stderr).toMatch(/refused: the target database is not empty/);
      expect((await c.query(`select count(*)::int as n from pg_tables where schemaname = 'public'`)).rows[0].n).toBe(1);
    } finally {
      await c.end();
    }

    // A copy of the installation whose meeting has a start that is not an ISO instant: the copy fails
    // naming the column, and the target is left as it was (empty: no table, no migration recorded).
    const broken = path.join(path.dirname(file), 'broken.sqlite');
    const src = new Database(file, { readonly: true });
    await src.backup(broken);
    src.close();
    const w = new Database(broken);
    w.prepare('update meetings set starts_at = ? where id = ?').run('thứ Ba tuần sau', built.meetingId);
    w.close();
    const empty = await pgServer.createDatabase('copy_rollback');
    const failed = await dbCopy(broken, empty);
    expect(failed.code, failed.stdout + failed.stderr).toBe(1);
    expect(failed.stderr).toMatch(/meetings\.starts_at: not an ISO-8601 UTC instant/);
    const e = new pg.Client({ connectionString: empty });
    await e.connect();
    try {
      expect((await e.query(`select count(*)::int as n from pg_tables where schemaname in ('public', 'drizzle')`)).rows[0].n).toBe(0);
    } finally {
      await e.end();
    }
  }, 120_000);
});
