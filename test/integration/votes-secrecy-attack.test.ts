import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChildServer } from '../helpers/child-server.js';
import { type DbFiles, copyDbFiles, dbPageSize, findAll, pairingPValue, walFrames } from '../helpers/sqlite-forensics.js';
import { buildMeeting } from '../helpers/factories.js';
import { HttpClient, type TestServer, until } from '../helpers/server.js';
import { type TestSocket, connectSocket, connected, newCommandId } from '../helpers/socket.js';

/**
 * The attacker of docs/VOTING.md ("Secret ballots"): someone holding copies of the database, its WAL
 * and -shm, taken during a secret vote, right after its close, or after a `kill -9` mid-vote, tries to
 * pair voters with ballots by every ordering the files offer. Voters vote one at a time (one ballot per
 * commit: the easiest case for the attacker), with a random balanced for/against pattern the test
 * knows. For each ordering the attacker pairs the k-th voter (in the order the audit log gives, which
 * is the true voting order) with the k-th readable ballot, and we compute the chance that a pairing
 * unrelated to the votes would agree with the truth at least as often (exact hypergeometric tail,
 * test/helpers/sqlite-forensics.ts). Every attack must stay at chance: p ≥ 1e-6 (with ~30 attacks per
 * copy, a false alarm about once in 10⁴ runs; a real link of 80 voters gives p ≈ 1e-23). The server runs
 * with LOG_LEVEL=debug and its log must name no receipt, receipt key or choice.
 */
const N = 80;
const P_MIN = 1e-6;

interface Voter {
  id: number;
  cookie: string;
  /** true: for ([0]), false: against ([1]). */
  forIt: boolean;
  t?: TestSocket;
  receipt: string;
  commandId: string;
  ack?: { ok: boolean } | null;
}

interface Ballot {
  table: string;
  row: Record<string, unknown>;
  rowid: number | null;
  forIt: boolean;
  /** The ballot's longest distinctive value (a receipt key), searched for in the raw files. */
  key: Buffer | null;
}

interface AttackResult {
  attack: string;
  paired: number;
  agree: number;
  p: number;
}

/** Choice arrays as stored: a JSON array of small integers. */
function parseChoices(v: unknown): number[] | null {
  if (typeof v !== 'string' || !v.startsWith('[')) return null;
  try {
    const a = JSON.parse(v);
    return Array.isArray(a) && a.every((x) => Number.isInteger(x) && x >= 0 && x < 64) ? a : null;
  } catch {
    return null;
  }
}

/**
 * Every attack on one copy of the files for one vote. `voters` is the truth. Returns one result per
 * ordering tried, and how many ballots the attacker could read at all.
 */
function attack(files: DbFiles, voteId: number, voters: Voter[]): { readable: number; results: AttackResult[] } {
  const truth = new Map(voters.map((v) => [v.id, v.forIt]));
  const sqlite = new Database(path.join(files.dir, 'ecabinet.sqlite'));
  try {
    // The attacker's voter order: the audit log's ballot entries of the vote (who voted when).
    const audit = sqlite.prepare("SELECT id, actor_id AS actor, at, details FROM audit_log WHERE target_type = 'vote' AND target_id = ? AND action LIKE 'vote.ballot%' ORDER BY id").all(String(voteId)) as {
      id: number;
      actor: number;
      at: string;
      details: string | null;
    }[];
    const voterOrder = [...new Set(audit.map((a) => a.actor))].filter((id) => truth.has(id));

    // Every readable ballot of the vote, in any table.
    const ballots: Ballot[] = [];
    const results: AttackResult[] = [];
    const direct: { voter: number; forIt: boolean; how: string }[] = [];
    const tables = sqlite.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").pluck().all() as string[];
    for (const table of tables) {
      const cols = (sqlite.prepare(`PRAGMA table_info("${table}")`).all() as { name: string }[]).map((c) => c.name);
      if (!cols.includes('vote_id')) continue;
      let rows: Record<string, unknown>[];
      let hasRowid = true;
      try {
        rows = sqlite.prepare(`SELECT rowid AS __rowid, * FROM "${table}" WHERE vote_id = ?`).all(voteId) as Record<string, unknown>[];
      } catch {
        hasRowid = false;
        rows = sqlite.prepare(`SELECT * FROM "${table}" WHERE vote_id = ?`).all(voteId) as Record<string, unknown>[];
      }
      for (const row of rows) {
        const choiceCol = cols.find((c) => parseChoices(row[c]) !== null);
        if (!choiceCol) continue;
        const choices = parseChoices(row[choiceCol])!;
        const forIt = choices.length === 1 && choices[0] === 0;
        const voterCol = cols.find((c) => /voter|user|cast_by|actor/.test(c));
        if (voterCol && truth.has(Number(row[voterCol]))) direct.push({ voter: Number(row[voterCol]), forIt, how: `${table}.${voterCol}` });
        const candidates = cols
          .filter((c) => c !== choiceCol && c !== 'vote_id')
          .map((c) => row[c])
          .map((v) => (Buffer.isBuffer(v) ? v : typeof v === 'string' ? Buffer.from(v) : null))
          .filter((b): b is Buffer => !!b && b.length >= 12)
          .sort((a, b) => b.length - a.length);
        ballots.push({ table, row, rowid: hasRowid ? Number(row.__rowid) : null, forIt, key: candidates[0] ?? null });
      }
    }
    for (const a of audit) {
      if (a.details && /choice/.test(a.details)) direct.push({ voter: a.actor, forIt: /"choices":\[0\]/.test(a.details), how: 'audit_log.details' });
    }
    if (direct.length) {
      const r = pairingPValue(
        direct.map((d) => d.forIt),
        direct.map((d) => truth.get(d.voter)!),
      );
      results.push({ attack: `direct: ${[...new Set(direct.map((d) => d.how))].join(', ')}`, paired: r.m, agree: r.agree, p: r.p });
    }

    const pair = (name: string, ordered: Ballot[]) => {
      const m = Math.min(ordered.length, voterOrder.length);
      if (!m) return;
      const r = pairingPValue(
        ordered.slice(0, m).map((b) => b.forIt),
        voterOrder.slice(0, m).map((v) => truth.get(v)!),
      );
      results.push({ attack: name, paired: r.m, agree: r.agree, p: r.p });
    };
    const orderBy = (name: string, key: (b: Ballot, i: number) => number | string) => {
      const keyed = ballots.map((b, i) => ({ b, k: key(b, i), i }));
      const cmp = (x: { k: number | string; i: number }, y: { k: number | string; i: number }) => (x.k < y.k ? -1 : x.k > y.k ? 1 : x.i - y.i);
      pair(`${name} ↑`, [...keyed].sort(cmp).map((x) => x.b));
      pair(`${name} ↓`, [...keyed].sort((x, y) => -cmp(x, y) || x.i - y.i).map((x) => x.b));
    };

    // Logical orders: table scan (the primary key's b-tree order), rowid, every column (timestamps, ids).
    orderBy('table scan order', (_b, i) => i);
    if (ballots.some((b) => b.rowid !== null)) orderBy('rowid', (b) => b.rowid ?? -1);
    const columns = new Set(ballots.flatMap((b) => Object.keys(b.row).filter((c) => c !== '__rowid' && c !== 'vote_id')));
    for (const c of columns) orderBy(`column ${c}`, (b) => (Buffer.isBuffer(b.row[c]) ? (b.row[c] as Buffer).toString('hex') : String(b.row[c] ?? '')));

    // Physical orders, from the raw bytes: where each ballot's key sits in the database file (page
    // order; inside a b-tree page, cells are carved downwards in insertion order), and in which WAL
    // frame it first appears (commit order), including stale frames and free pages.
    if (ballots.length && ballots.every((b) => b.key)) {
      const pageSize = dbPageSize(files.db);
      const dbPos = ballots.map((b) => findAll(files.db, b.key!));
      orderBy('database file: first offset', (_b, i) => dbPos[i][0] ?? Infinity);
      orderBy('database file: last offset', (_b, i) => dbPos[i].at(-1) ?? Infinity);
      orderBy('database file: page, then cell offset downwards (insertion order)', (_b, i) => {
        const o = dbPos[i][0];
        return o === undefined ? Infinity : Math.floor(o / pageSize) * pageSize * 2 + (pageSize - (o % pageSize));
      });
      const { pageSize: walPage, frames } = walFrames(files.wal);
      // The database as SQLite reads it: the file with the current WAL generation's frames applied.
      const latest = Buffer.concat([files.db, Buffer.alloc(Math.max(0, Math.max(0, ...frames.filter((f) => f.current).map((f) => f.pgno)) * pageSize - files.db.length))]);
      for (const f of frames) if (f.current && walPage === pageSize) f.data.copy(latest, (f.pgno - 1) * pageSize);
      const livePos = ballots.map((b) => findAll(latest, b.key!));
      orderBy('live pages: page, then cell offset downwards (insertion order)', (_b, i) => {
        const o = livePos[i][0];
        return o === undefined ? Infinity : Math.floor(o / pageSize) * pageSize * 2 + (pageSize - (o % pageSize));
      });
      orderBy('live pages: first offset', (_b, i) => livePos[i][0] ?? Infinity);
      if (frames.length) {
        const firstFrame = ballots.map((b) => frames.find((f) => f.data.includes(b.key!)));
        const firstCurrent = ballots.map((b) => frames.find((f) => f.current && f.data.includes(b.key!)));
        const lastFrame = ballots.map((b) => frames.findLast((f) => f.data.includes(b.key!)));
        orderBy('WAL: first frame holding it (any generation)', (_b, i) => firstFrame[i]?.index ?? Infinity);
        orderBy('WAL: first frame holding it (current generation)', (_b, i) => firstCurrent[i]?.index ?? Infinity);
        orderBy('WAL: last frame holding it', (_b, i) => lastFrame[i]?.index ?? Infinity);
        orderBy('WAL: first frame, then cell offset downwards', (b, i) => {
          const f = firstFrame[i];
          return f ? f.index * walPage * 2 + (walPage - f.data.indexOf(b.key!)) : Infinity;
        });
        // Commits: which commit first holds the ballot, ties in cell order.
        const commitOf = new Map<number, number>();
        let c = 0;
        for (const f of frames) {
          commitOf.set(f.index, c);
          if (f.commitSize) c++;
        }
        orderBy('WAL: first commit holding it', (_b, i) => (firstFrame[i] ? commitOf.get(firstFrame[i]!.index)! : Infinity));
      }
      // The -shm holds the WAL index (page numbers per frame), never row content: checked, not ordered.
      for (const b of ballots) expect(files.shm.includes(b.key!)).toBe(false);
    }
    return { readable: ballots.length, results };
  } finally {
    sqlite.close();
    fs.rmSync(files.dir, { recursive: true, force: true });
  }
}

/** Prints the attacks on one copy; returns those that pair beyond chance. */
function beyondChance(label: string, r: { readable: number; results: AttackResult[] }): string[] {
  const lines = r.results.map((x) => `  ${x.attack.padEnd(70)} paired ${String(x.paired).padStart(3)}, agree ${String(x.agree).padStart(3)}, p = ${x.p.toExponential(2)}`);
  console.log(`[${label}] readable ballots: ${r.readable}; attacks: ${r.results.length}\n${lines.join('\n')}`);
  return r.results.filter((x) => x.p < P_MIN).map((x) => `${label}: ${x.attack} paired ${x.agree}/${x.paired} (p = ${x.p.toExponential(2)})`);
}

describe('secret ballots against an attacker holding the database files', () => {
  let child: ChildServer;
  let chairCookie = '';
  let meetingId = 0;
  const voterRows: { id: number; cookie: string }[] = [];
  const sockets: TestSocket[] = [];

  /**
   * Factory: N voting members of a new live meeting of the committee `committeeId` (whose chair is
   * `chairId`), checked in, with sessions (written straight into SQLite, as bench/lib/votes-server.ts does:
   * 80 logins would hit the per-IP login limit).
   */
  function seedMeeting(dbFile: string, committeeId: number, chairId: number) {
    const sqlite = new Database(dbFile);
    sqlite.pragma('busy_timeout = 10000');
    const sha256 = (s: string) => crypto.createHash('sha256').update(s).digest('hex');
    const now = new Date().toISOString();
    const expires = new Date(Date.now() + 6 * 3600_000).toISOString();
    const session = (userId: number) => {
      const token = crypto.randomBytes(32).toString('base64url');
      sqlite.prepare('INSERT INTO sessions (token_hash, user_id, expires_at) VALUES (?, ?, ?)').run(sha256(token), userId, expires);
      return `ec_sid=${token}`;
    };
    sqlite.transaction(() => {
      const hash = sqlite.prepare('SELECT password_hash FROM users WHERE id = ?').pluck().get(chairId) as string;
      meetingId = Number(
        sqlite
          .prepare("INSERT INTO meetings (committee_id, title, starts_at, ends_at, quorum_rule, status, published_at) VALUES (?, 'Bầu cử kín (attack test)', ?, ?, '{\"kind\":\"majority\"}', 'live', ?)")
          .run(committeeId, now, new Date(Date.now() + 3600_000).toISOString(), now).lastInsertRowid,
      );
      const addParticipant = sqlite.prepare('INSERT INTO meeting_participants (meeting_id, user_id, role, can_vote, invited_at) VALUES (?, ?, ?, ?, ?)');
      const checkIn = sqlite.prepare("INSERT INTO attendance (meeting_id, user_id, status, recorded_by, updated_at) VALUES (?, ?, 'in_room', ?, ?)");
      addParticipant.run(meetingId, chairId, 'chair', 1, now);
      checkIn.run(meetingId, chairId, chairId, now);
      chairCookie = session(chairId);
      for (let i = 0; i < N; i++) {
        const id = Number(sqlite.prepare('INSERT INTO users (username, password_hash, full_name) VALUES (?, ?, ?)').run(`attack-voter-${i}`, hash, `Đại biểu ${i + 1}`).lastInsertRowid);
        addParticipant.run(meetingId, id, 'member', 1, now);
        checkIn.run(meetingId, id, id, now);
        voterRows.push({ id, cookie: session(id) });
      }
    })();
    sqlite.close();
  }

  const tablet = async (cookie: string) => {
    const http = new HttpClient(child.url);
    http.cookie = cookie;
    const t = await connected(connectSocket(child.url, http));
    sockets.push(t);
    return t;
  };

  /** N voters with a random balanced for/against pattern (exactly N/2 each), in a random voting order. */
  async function electorate(): Promise<Voter[]> {
    const forIt = Array.from({ length: N }, (_, i) => i < N / 2);
    for (let i = N - 1; i > 0; i--) {
      const j = crypto.randomInt(i + 1);
      [forIt[i], forIt[j]] = [forIt[j], forIt[i]];
    }
    const order = voterRows.map((v, i) => ({ ...v, forIt: forIt[i], receipt: crypto.randomBytes(16).toString('base64url'), commandId: newCommandId() }));
    for (let i = N - 1; i > 0; i--) {
      const j = crypto.randomInt(i + 1);
      [order[i], order[j]] = [order[j], order[i]];
    }
    return order;
  }

  async function openSecretVote(chair: TestSocket): Promise<number> {
    const created = await chair.cmd('vote:create', { meetingId, vote: { title: 'Bầu kín', kind: 'motion', secret: true }, commandId: newCommandId() });
    expect(created, JSON.stringify(created)).toMatchObject({ ok: true });
    const voteId = (created as { data: { vote: { id: number } } }).data.vote.id;
    expect(await chair.cmd('vote:open', { voteId, commandId: newCommandId() })).toMatchObject({ ok: true });
    return voteId;
  }

  const cast = (v: Voter, voteId: number) => v.t!.cmd('vote:cast', { voteId, choices: v.forIt ? [0] : [1], receipt: v.receipt, commandId: v.commandId });

  /** The server log names no receipt, receipt key or choice of any ballot. */
  function expectLogsSilent(voteId: number, voters: Voter[]) {
    const log = fs.readFileSync(child.logFile!, 'utf8');
    expect(log.length).toBeGreaterThan(0);
    expect(log).not.toMatch(/choice/i);
    for (const v of voters) {
      const key = crypto.createHash('sha256').update(`${voteId}:${v.receipt}`).digest();
      for (const needle of [v.receipt, key.toString('hex'), key.toString('base64')]) expect(log.includes(needle)).toBe(false);
    }
  }

  /** The published receipts must hold exactly the ballots cast (the attack is not vacuous). */
  async function expectCounted(voteId: number, voters: Voter[]) {
    const http = new HttpClient(child.url);
    http.cookie = chairCookie;
    const list = (await http.get(`/api/votes/${voteId}/receipts`)).body.ballots as { key: string; choices: number[] }[];
    expect(list).toHaveLength(voters.length);
    const byKey = new Map(list.map((b) => [b.key, b.choices]));
    for (const v of voters) expect(byKey.get(crypto.createHash('sha256').update(`${voteId}:${v.receipt}`).digest('hex'))).toEqual(v.forIt ? [0] : [1]);
  }

  beforeAll(async () => {
    // Everything the server logs, down to debug, is part of what the attacker holds.
    // SQLite whatever the suite (DATABASE_URL '' wins over test:pg's): this attacker reads SQLite's files;
    // PostgreSQL's is votes-secrecy-attack.pg.test.ts.
    child = await ChildServer.create({ LOG_LEVEL: 'debug', ECABINET_SEED: 'admin', DATABASE_URL: '' }, { log: true });
    await child.start();
    // The committee and its chair through the API; the meeting's 80 voters beside the running server
    // (a second connection; WAL: concurrent readers, one writer at a time).
    const built = await buildMeeting(child as unknown as TestServer, { members: 0, agendaItems: 0, publish: false });
    seedMeeting(path.join(child.dataDir, 'ecabinet.sqlite'), built.committeeId, built.chair.id);
  });
  afterAll(async () => {
    for (const s of sockets) s.close();
    await child?.dispose();
  });

  it('during a vote and after its close, no ordering of the files pairs voters with ballots beyond chance', async () => {
    const chair = await tablet(chairCookie);
    const voteId = await openSecretVote(chair);
    const voters = await electorate();
    for (const v of voters) v.t = await tablet(v.cookie);
    // One at a time: each ballot is its own commit.
    for (const v of voters) expect(await cast(v, voteId)).toMatchObject({ ok: true });

    const during = attack(copyDbFiles(child.dataDir), voteId, voters);
    expect(await chair.cmd('vote:close', { voteId, commandId: newCommandId() })).toMatchObject({ ok: true, data: { vote: { result: { voted: N } } } });
    const after = attack(copyDbFiles(child.dataDir), voteId, voters);
    await expectCounted(voteId, voters);
    expect(after.readable).toBe(N);
    expectLogsSilent(voteId, voters);
    expect([...beyondChance('during the vote', during), ...beyondChance('after the close', after)]).toEqual([]);
    for (const v of voters) v.t!.close();
  }, 180_000);

  it('after kill -9 mid-vote, and after the restart and the close, no ordering pairs voters with ballots beyond chance', async () => {
    const chair = await tablet(chairCookie);
    const voteId = await openSecretVote(chair);
    const voters = await electorate();
    for (const v of voters) v.t = await tablet(v.cookie);
    // Three quarters vote one at a time; the rest are in flight when the process dies.
    const split = (N * 3) / 4;
    for (const v of voters.slice(0, split)) {
      expect(await cast(v, voteId)).toMatchObject({ ok: true });
      v.ack = { ok: true };
    }
    for (const v of voters.slice(split)) {
      v.ack = null;
      v.t!.socket.emit('vote:cast', { voteId, choices: v.forIt ? [0] : [1], receipt: v.receipt, commandId: v.commandId }, (a: { ok: boolean }) => {
        v.ack = a;
      });
    }
    await child.kill9();
    const crashed = attack(copyDbFiles(child.dataDir), voteId, voters);

    await child.start();
    await until(() => [chair, ...voters.map((v) => v.t!)].every((t) => t.socket.connected), { what: 'tablets reconnected', timeout: 20_000 });
    // Unacknowledged ballots are retried as the app does (same commandId and receipt).
    for (const v of voters.filter((x) => !x.ack?.ok)) expect(await cast(v, voteId)).toMatchObject({ ok: true, data: { counted: true } });
    const restarted = attack(copyDbFiles(child.dataDir), voteId, voters);
    expect(await chair.cmd('vote:close', { voteId, commandId: newCommandId() })).toMatchObject({ ok: true, data: { vote: { result: { voted: N } } } });
    const after = attack(copyDbFiles(child.dataDir), voteId, voters);
    await expectCounted(voteId, voters);
    expect(after.readable).toBe(N);
    expectLogsSilent(voteId, voters);
    expect([
      ...beyondChance('after kill -9 mid-vote', crashed),
      ...beyondChance('after the restart, vote open', restarted),
      ...beyondChance('after the restart and the close', after),
    ]).toEqual([]);
    for (const v of voters) v.t!.close();
  }, 180_000);
});
