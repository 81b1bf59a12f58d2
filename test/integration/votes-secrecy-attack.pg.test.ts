import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChildServer } from '../helpers/child-server.js';
import { buildMeeting } from '../helpers/factories.js';
import { type ThrowawayPg, startThrowawayPg } from '../helpers/pg.js';
import { decodeAttribute, recordAt, walRecords, walSegments } from '../helpers/pg-forensics.js';
import { HttpClient, type TestServer, until } from '../helpers/server.js';
import { type TestSocket, connectSocket, connected, newCommandId } from '../helpers/socket.js';
import { findAll, pairingPValue } from '../helpers/sqlite-forensics.js';

/**
 * The attacker of docs/VOTING.md ("Secret ballots") on PostgreSQL: a superuser of the cluster the
 * server runs on, without the server secret (ECABINET_SECRET). At each moment — during a secret vote,
 * right after its close, after a `kill -9` of the server mid-vote, after its restart, after that vote's
 * close — it reads every tuple of the database with its system columns (xmin, cmin/cmax, xmax, ctid),
 * dead tuples included (pageinspect), the relation files on disk after a CHECKPOINT, the WAL segments
 * (raw bytes and pg_waldump's records), the cluster's own log with every statement and its parameters
 * (log_statement = all), commit timestamps (track_commit_timestamp), sequences, pg_stat_user_tables and
 * pg_stat_statements. The cluster runs with full_page_writes on, as production does (the test
 * clusters turn it off for speed), so the WAL holds whole page images too.
 *
 * As in the SQLite attacker (votes-secrecy-attack.test.ts), voters vote one at a time (one ballot per
 * commit: the attacker's easiest case) with a random balanced for/against pattern; the attacker pairs
 * the k-th voter in audit order (the true voting order) with the k-th readable ballot by every ordering
 * the cluster offers, and each pairing must stay at chance: p ≥ 1e-6 (pairingPValue). A ballot is
 * readable where a choice array of the vote can be read, or a receipt key (the published list names
 * them all after the close) can be found; the test searches for the true keys, which is more than the
 * attacker knows during the vote. Besides: the receipts (only the voters' devices hold them) appear
 * nowhere; the receipt keys appear nowhere before the close and, after it, only in the published
 * ballots' table and its traces; and the server log at LOG_LEVEL=debug names no receipt, key or choice.
 *
 * What the attacker can pair and this test accepts: a voter's participation row and the sealed row
 * (AES-GCM ciphertext) share a transaction id (xmin, WAL records) — harmless while the ciphertext does
 * not open, that is while the attacker does not hold ECABINET_SECRET (docs/VOTING.md).
 */
const N = 80;
const P_MIN = 1e-6;
const SERVER_OPTIONS = [
  '-c full_page_writes=on',
  '-c shared_preload_libraries=pg_stat_statements',
  '-c track_commit_timestamp=on',
  '-c log_statement=all',
  '-c log_parameter_max_length=-1',
].join(' ');

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

/** One heap tuple as the attacker reads it from the page (live or dead). */
interface Tuple {
  table: string;
  block: number;
  lp: number;
  /** The tuple's byte offset in its page (tuples are placed from the page's end downwards as they come). */
  lpOff: number;
  xmin: number;
  xmax: number;
  /** t_field3: cmin, cmax or a combo command id. */
  cid: number;
  data: Buffer;
  row: Record<string, unknown> | null;
}

interface Ballot {
  tuple: Tuple;
  forIt: boolean;
  /** The ballot's longest distinctive value (its receipt key), searched for in files, WAL and logs. */
  key: Buffer | null;
}

interface AttackResult {
  attack: string;
  paired: number;
  agree: number;
  p: number;
}

/** What the attacker got at one moment. */
interface Attack {
  readable: number;
  results: AttackResult[];
  /** Receipts or receipt keys found where they must not be. */
  strays: string[];
  /** The vote's sealed ballots (ciphertext) in the heap, live or dead, and how many share a transaction with one voter. */
  sealed: Buffer[];
  sealedPairedByXid: number;
  /**
   * Of the ciphertexts given as `sealedBefore`: how many are still in the sealed table's files, in the
   * planner's statistics (ANALYZE samples column values into pg_statistic), in any of the database's files, in the WAL.
   */
  sealedLeft: { table: number; statistics: number; files: number; wal: number };
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

const keyOf = (voteId: number, receipt: string) => crypto.createHash('sha256').update(`${voteId}:${receipt}`).digest();

/** Every form in which a receipt or its key could be written down. */
function needles(voteId: number, v: Voter): { receipt: Buffer[]; key: Buffer[] } {
  const k = keyOf(voteId, v.receipt);
  return { receipt: [Buffer.from(v.receipt)], key: [k, Buffer.from(k.toString('hex')), Buffer.from(k.toString('base64'))] };
}

/** All tuples (live and dead) of a table, read from its pages; `columns` decoded when given. */
async function heapTuples(su: pg.Client, table: string, columns: { name: string; type: string }[] | null): Promise<Tuple[]> {
  const rel = `"${table}"`;
  const r = await su.query(
    `select b.blk, h.lp, h.lp_off, h.t_xmin::text as xmin, h.t_xmax::text as xmax, h.t_field3 as cid, h.t_data,
            ${columns ? 'tuple_data_split($1::regclass, h.t_data, h.t_infomask, h.t_infomask2, h.t_bits)' : 'null::bytea[]'} as attrs
       from generate_series(0, pg_relation_size($1::regclass) / current_setting('block_size')::int - 1) as b(blk)
       cross join lateral heap_page_items(get_raw_page($2, b.blk::int)) as h
      where h.lp_flags = 1`,
    [rel, table],
  );
  return r.rows.map((x) => ({
    table,
    block: Number(x.blk),
    lp: x.lp,
    lpOff: x.lp_off,
    xmin: Number(x.xmin),
    xmax: Number(x.xmax),
    cid: x.cid,
    data: x.t_data ?? Buffer.alloc(0),
    row: columns && x.attrs ? Object.fromEntries(columns.map((c, i) => [c.name, decodeAttribute(c.type, x.attrs[i])])) : null,
  }));
}

/** Everything under a directory, concatenated in path order. */
function readTree(dir: string): Buffer {
  const parts: Buffer[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) parts.push(fs.readFileSync(p));
    }
  };
  walk(dir);
  return Buffer.concat(parts);
}

describe('secret ballots against a superuser of the PostgreSQL cluster', () => {
  let cluster: ThrowawayPg;
  let dbUrl = '';
  let su: pg.Client;
  let child: ChildServer;
  let chairCookie = '';
  let meetingId = 0;
  const voterRows: { id: number; cookie: string }[] = [];
  const sockets: TestSocket[] = [];

  /**
   * Every attack on the cluster as it is now, for one vote. `voters` is the truth. Returns one result per
   * ordering tried, how many ballots the attacker could read, and every place a receipt or (before
   * `keysPublished`) a receipt key was found where it must not be.
   */
  async function attack(voteId: number, voters: Voter[], keysPublished: boolean, sealedBefore: Buffer[] = []): Promise<Attack> {
    const truth = new Map(voters.map((v) => [v.id, v.forIt]));
    const strays: string[] = [];
    // The attacker may flush everything to the files first.
    await su.query('checkpoint');

    // The attacker's voter order: the audit log's ballot entries of the vote (who voted when).
    const audit = await su.query(
      "select actor_id as actor from audit_log where target_type = 'vote' and target_id = $1 and action like 'vote.ballot%' order by id",
      [String(voteId)],
    );
    const voterOrder = [...new Set(audit.rows.map((a) => Number(a.actor)))].filter((id) => truth.has(id));

    // Every tuple of every table; decoded where the table holds rows of votes.
    const tables = (await su.query("select table_name as t from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE' order by 1")).rows.map(
      (r) => r.t as string,
    );
    const tuples: Tuple[] = [];
    for (const table of tables) {
      const cols = (
        await su.query(
          'select attname as name, format_type(atttypid, atttypmod) as type from pg_attribute where attrelid = $1::regclass and attnum > 0 and not attisdropped order by attnum',
          [`"${table}"`],
        )
      ).rows as { name: string; type: string }[];
      tuples.push(...(await heapTuples(su, table, cols.some((c) => c.name === 'vote_id') ? cols : null)));
    }

    // Nothing anywhere holds a receipt; before the close nothing holds a receipt key; after it only the published table.
    const wal = walSegments(cluster.dataDir);
    const dbDir = path.join(cluster.dataDir, 'base', String((await su.query('select oid from pg_database where datname = current_database()')).rows[0].oid));
    const files = readTree(dbDir);
    const pgLog = fs.readFileSync(path.join(cluster.dataDir, 'server.log'));
    const stats = Buffer.from(
      JSON.stringify([
        (await su.query('select * from pg_stat_user_tables')).rows,
        (await su.query('select query from pg_stat_statements')).rows,
        (await su.query('select * from pg_sequences')).rows,
      ]),
    );
    for (const v of voters) {
      const n = needles(voteId, v);
      for (const [what, list] of [
        ['receipt', n.receipt],
        ['receipt key', n.key],
      ] as const) {
        const allowedTables = what === 'receipt key' && keysPublished ? ['vote_secret_ballots'] : [];
        for (const b of list) {
          for (const t of tuples) if (t.data.includes(b) && !allowedTables.includes(t.table)) strays.push(`${what} in a tuple of ${t.table}`);
          if (what === 'receipt' || !keysPublished) {
            if (files.includes(b)) strays.push(`${what} in the database's files`);
            if (wal.some((s) => s.data.includes(b))) strays.push(`${what} in the WAL`);
            if (pgLog.includes(b)) strays.push(`${what} in the cluster's log`);
          }
          if (stats.includes(b)) strays.push(`${what} in pg_stat_* / pg_sequences`);
        }
      }
    }

    // Every readable ballot of the vote: a tuple of a vote table with a readable choice array.
    const ballots: Ballot[] = [];
    const results: AttackResult[] = [];
    const direct: { voter: number; forIt: boolean; how: string }[] = [];
    for (const t of tuples) {
      if (!t.row || t.row.vote_id !== voteId) continue;
      const cols = Object.keys(t.row);
      const choiceCol = cols.find((c) => parseChoices(t.row![c]) !== null);
      if (!choiceCol) continue;
      const choices = parseChoices(t.row[choiceCol])!;
      const forIt = choices.length === 1 && choices[0] === 0;
      const voterCol = cols.find((c) => /voter|user|cast_by|actor/.test(c));
      if (voterCol && truth.has(Number(t.row[voterCol]))) direct.push({ voter: Number(t.row[voterCol]), forIt, how: `${t.table}.${voterCol}` });
      const candidates = cols
        .filter((c) => c !== choiceCol && c !== 'vote_id')
        .map((c) => t.row![c])
        .map((v) => (Buffer.isBuffer(v) ? v : typeof v === 'string' ? Buffer.from(v) : null))
        .filter((b): b is Buffer => !!b && b.length >= 12)
        .sort((a, b) => b.length - a.length);
      ballots.push({ tuple: t, forIt, key: candidates[0] ?? null });
    }
    for (const t of tuples) {
      if (t.table !== 'audit_log') continue;
      const text = t.data.toString('latin1');
      if (/choice/.test(text)) direct.push({ voter: -1, forIt: /"choices":\[0\]/.test(text), how: 'audit_log.details' });
    }

    // Transaction ids of voters: their participation rows and audit entries (live, dead or aborted).
    const votersOfXid = new Map<number, Set<number>>();
    const addVoter = (xid: number, voter: number) => {
      if (!truth.has(voter)) return;
      let s = votersOfXid.get(xid);
      if (!s) votersOfXid.set(xid, (s = new Set()));
      s.add(voter);
    };
    for (const t of tuples) if (t.table === 'vote_participation' && t.row?.vote_id === voteId) addVoter(t.xmin, Number(t.row.voter_id));
    const auditTuples = await su.query(
      "select xmin::text as xmin, actor_id as actor from audit_log where target_type = 'vote' and target_id = $1 and action like 'vote.ballot%'",
      [String(voteId)],
    );
    for (const a of auditTuples.rows) addVoter(Number(a.xmin), Number(a.actor));
    const soleVoter = (xid: number) => {
      const s = votersOfXid.get(xid);
      return s?.size === 1 ? [...s][0] : undefined;
    };
    for (const b of ballots) {
      const voter = soleVoter(b.tuple.xmin);
      if (voter !== undefined) direct.push({ voter, forIt: b.forIt, how: `${b.tuple.table}.xmin = a voter's transaction` });
    }
    const walRecs = await walRecords(cluster.dataDir);
    const walPos = ballots.map((b) => (b.key ? wal.flatMap((s) => findAll(s.data, b.key!).map((o) => s.lsn + o)).sort((x, y) => x - y) : []));
    ballots.forEach((b, i) => {
      for (const pos of walPos[i]) {
        const rec = recordAt(walRecs, pos);
        const voter = rec ? soleVoter(rec.tx) : undefined;
        if (voter !== undefined) direct.push({ voter, forIt: b.forIt, how: "WAL: the record holding it belongs to a voter's transaction" });
      }
    });
    if (direct.length) {
      const known = direct.filter((d) => truth.has(d.voter));
      const r = pairingPValue(
        known.map((d) => d.forIt),
        known.map((d) => truth.get(d.voter)!),
      );
      results.push({ attack: `direct: ${[...new Set(direct.map((d) => d.how))].join(', ')}`, paired: r.m, agree: r.agree, p: direct.length > known.length ? 0 : r.p });
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

    // System columns and page geometry.
    orderBy('heap: ctid (block, line pointer)', (b) => b.tuple.block * 65536 + b.tuple.lp);
    orderBy('heap: page, then tuple offset downwards (insertion order)', (b) => b.tuple.block * 65536 + (65535 - b.tuple.lpOff));
    orderBy('xmin (inserting transaction)', (b) => b.tuple.xmin);
    orderBy('cmin/cmax (command within the transaction)', (b) => b.tuple.cid);
    orderBy('xmax', (b) => b.tuple.xmax);
    if (ballots.length) {
      const xids = [...new Set(ballots.map((b) => b.tuple.xmin))];
      const at = new Map<number, string>();
      for (const x of xids) at.set(x, (await su.query('select pg_xact_commit_timestamp($1::text::xid)::text as t', [String(x)])).rows[0].t ?? '');
      orderBy('commit timestamp of xmin', (b) => at.get(b.tuple.xmin) ?? '');
    }
    // Logical orders: a plain SELECT (whatever plan it takes), every column (keys, ids from sequences).
    const plain = (await su.query('select receipt_key from vote_secret_ballots where vote_id = $1', [voteId])).rows.map((r) => (r.receipt_key as Buffer).toString('hex'));
    orderBy('SELECT without ORDER BY', (b) => {
      const k = b.key ? plain.indexOf(b.key.toString('hex')) : -1;
      return k < 0 ? Infinity : k;
    });
    const columns = new Set(ballots.flatMap((b) => Object.keys(b.tuple.row!).filter((c) => c !== 'vote_id')));
    for (const c of columns) orderBy(`column ${c}`, (b) => (Buffer.isBuffer(b.tuple.row![c]) ? (b.tuple.row![c] as Buffer).toString('hex') : String(b.tuple.row![c] ?? '')));

    // Raw bytes: the database's files after the checkpoint, the WAL (by LSN), the cluster's log.
    if (ballots.length && ballots.every((b) => b.key)) {
      const filePos = ballots.map((b) => findAll(files, b.key!));
      orderBy("database files: first offset", (_b, i) => filePos[i][0] ?? Infinity);
      orderBy("database files: last offset", (_b, i) => filePos[i].at(-1) ?? Infinity);
      orderBy('WAL: first position (LSN)', (_b, i) => walPos[i][0] ?? Infinity);
      orderBy('WAL: last position (LSN)', (_b, i) => walPos[i].at(-1) ?? Infinity);
      orderBy('WAL: first record holding it', (_b, i) => (walPos[i].length ? (recordAt(walRecs, walPos[i][0])?.lsn ?? Infinity) : Infinity));
      const segOrder = ballots.map((b) => {
        const s = wal.findIndex((x) => x.data.includes(b.key!));
        return s < 0 ? Infinity : s * 2 ** 32 + wal[s].data.indexOf(b.key!);
      });
      orderBy('WAL: first segment file, then offset', (_b, i) => segOrder[i]);
      const hexPos = ballots.map((b) => pgLog.indexOf(`\\x${b.key!.toString('hex')}`));
      orderBy("cluster's log (statements with parameters): first mention", (_b, i) => (hexPos[i] < 0 ? Infinity : hexPos[i]));
      const lastHex = ballots.map((b) => pgLog.lastIndexOf(`\\x${b.key!.toString('hex')}`));
      orderBy("cluster's log: last mention", (_b, i) => (lastHex[i] < 0 ? Infinity : lastHex[i]));
    }
    // The sealed table's own files (heap and index, every fork), and the planner's statistics (pg_statistic and its TOAST table).
    const relFiles = async (rel: string) => {
      const p = path.join(cluster.dataDir, (await su.query('select pg_relation_filepath($1::regclass) as p', [rel])).rows[0].p);
      return fs
        .readdirSync(path.dirname(p))
        .filter((f) => f === path.basename(p) || f.startsWith(`${path.basename(p)}_`) || f.startsWith(`${path.basename(p)}.`))
        .map((f) => fs.readFileSync(path.join(path.dirname(p), f)));
    };
    const sealedFiles = Buffer.concat([...(await relFiles('vote_sealed_ballots')), ...(await relFiles('vote_sealed_ballots_vote_id_tag_pk'))]);
    const statToast = (await su.query("select reltoastrelid::regclass::text as t from pg_class where oid = 'pg_statistic'::regclass")).rows[0].t as string;
    const statFiles = Buffer.concat([...(await relFiles('pg_statistic')), ...(await relFiles(statToast))]);
    const sealed = tuples.filter((t) => t.table === 'vote_sealed_ballots' && t.row?.vote_id === voteId);
    const body = (b: Buffer) => b.subarray(12, 44);
    return {
      readable: ballots.length,
      results,
      strays,
      sealed: sealed.map((t) => t.row!.sealed as Buffer),
      sealedPairedByXid: sealed.filter((t) => soleVoter(t.xmin) !== undefined).length,
      sealedLeft: {
        table: sealedBefore.filter((b) => sealedFiles.includes(body(b))).length,
        statistics: sealedBefore.filter((b) => statFiles.includes(body(b))).length,
        files: sealedBefore.filter((b) => files.includes(body(b))).length,
        wal: sealedBefore.filter((b) => wal.some((s) => s.data.includes(body(b)))).length,
      },
    };
  }

  /** Prints the attacks at one moment; returns those that pair beyond chance, and every stray. */
  function beyondChance(label: string, r: Attack): string[] {
    const lines = r.results.map((x) => `  ${x.attack.padEnd(70)} paired ${String(x.paired).padStart(3)}, agree ${String(x.agree).padStart(3)}, p = ${x.p.toExponential(2)}`);
    console.log(
      `[${label}] readable ballots: ${r.readable}; attacks: ${r.results.length}; sealed tuples (ciphertext) ${r.sealed.length}, ${r.sealedPairedByXid} of them ` +
        `in one voter's transaction; earlier sealed ballots still in the sealed table's files: ${r.sealedLeft.table}, in pg_statistic: ${r.sealedLeft.statistics}, ` +
        `in any file of the database: ${r.sealedLeft.files}, in the WAL: ${r.sealedLeft.wal}\n${lines.join('\n')}`,
    );
    return [
      ...r.results.filter((x) => x.p < P_MIN).map((x) => `${label}: ${x.attack} paired ${x.agree}/${x.paired} (p = ${x.p.toExponential(2)})`),
      ...[...new Set(r.strays)].map((s) => `${label}: ${s}`),
    ];
  }

  /**
   * Factory: N voting members of a new live meeting of the committee `committeeId` (whose chair is
   * `chairId`), checked in, with sessions (written straight into the database, as bench/lib/votes-server.ts
   * does: 80 logins would hit the per-IP login limit).
   */
  async function seedMeeting(committeeId: number, chairId: number) {
    const c = new pg.Client({ connectionString: dbUrl });
    await c.connect();
    const sha256 = (s: string) => crypto.createHash('sha256').update(s).digest('hex');
    const now = new Date().toISOString();
    const expires = new Date(Date.now() + 6 * 3600_000).toISOString();
    const session = async (userId: number) => {
      const token = crypto.randomBytes(32).toString('base64url');
      await c.query('insert into sessions (token_hash, user_id, expires_at) values ($1, $2, $3)', [sha256(token), userId, expires]);
      return `ec_sid=${token}`;
    };
    try {
      await c.query('begin');
      const hash = (await c.query('select password_hash from users where id = $1', [chairId])).rows[0].password_hash as string;
      meetingId = (
        await c.query(
          `insert into meetings (committee_id, title, starts_at, ends_at, quorum_rule, status, published_at) values ($1, 'Bầu cử kín (attack test)', $2, $3, '{"kind":"majority"}', 'live', $2) returning id`,
          [committeeId, now, new Date(Date.now() + 3600_000).toISOString()],
        )
      ).rows[0].id;
      const addParticipant = (userId: number, role: string) =>
        c.query('insert into meeting_participants (meeting_id, user_id, role, can_vote, invited_at) values ($1, $2, $3, true, $4)', [meetingId, userId, role, now]);
      const checkIn = (userId: number) => c.query("insert into attendance (meeting_id, user_id, status, recorded_by, updated_at) values ($1, $2, 'in_room', $2, $3)", [meetingId, userId, now]);
      await addParticipant(chairId, 'chair');
      await checkIn(chairId);
      chairCookie = await session(chairId);
      for (let i = 0; i < N; i++) {
        const id = (await c.query('insert into users (username, password_hash, full_name) values ($1, $2, $3) returning id', [`attack-voter-${i}`, hash, `Đại biểu ${i + 1}`])).rows[0].id as number;
        await addParticipant(id, 'member');
        await checkIn(id);
        voterRows.push({ id, cookie: await session(id) });
      }
      await c.query('commit');
    } finally {
      await c.end();
    }
  }

  const tablet = async (cookie: string) => {
    const http = new HttpClient(child.url);
    http.cookie = cookie;
    const t = await connected(connectSocket(child.url, http));
    sockets.push(t);
    return t;
  };

  /** N voters with a random balanced for/against pattern (exactly N/2 each), in a random voting order. */
  function electorate(): Voter[] {
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
      const key = keyOf(voteId, v.receipt);
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
    for (const v of voters) expect(byKey.get(keyOf(voteId, v.receipt).toString('hex'))).toEqual(v.forIt ? [0] : [1]);
  }

  beforeAll(async () => {
    // The cluster of its own, on either suite: the attacker needs its data directory and these settings.
    cluster = await startThrowawayPg({ serverOptions: SERVER_OPTIONS });
    dbUrl = await cluster.createDatabase('secrecy_attack');
    su = new pg.Client({ connectionString: dbUrl });
    await su.connect();
    await su.query('create extension pageinspect');
    await su.query('create extension pg_stat_statements');
    // Everything the server logs, down to debug, is part of what the attacker holds.
    child = await ChildServer.create({ LOG_LEVEL: 'debug', ECABINET_SEED: 'admin', DATABASE_URL: dbUrl }, { log: true });
    await child.start();
    const built = await buildMeeting(child as unknown as TestServer, { members: 0, agendaItems: 0, publish: false });
    await seedMeeting(built.committeeId, built.chair.id);
  }, 180_000);
  afterAll(async () => {
    for (const s of sockets) s.close();
    await child?.dispose();
    await su?.end();
    await cluster?.stop();
  });

  it('during a vote and after its close, no ordering of tuples, system columns, files, WAL or logs pairs voters with ballots beyond chance', async () => {
    const chair = await tablet(chairCookie);
    const voteId = await openSecretVote(chair);
    const voters = electorate();
    for (const v of voters) v.t = await tablet(v.cookie);
    // One at a time: each ballot is its own transaction.
    for (const v of voters) expect(await cast(v, voteId)).toMatchObject({ ok: true });

    const during = await attack(voteId, voters, false);
    expect(during.sealed).toHaveLength(N);
    expect(await chair.cmd('vote:close', { voteId, commandId: newCommandId() })).toMatchObject({ ok: true, data: { vote: { result: { voted: N } } } });
    const after = await attack(voteId, voters, true, during.sealed);
    await expectCounted(voteId, voters);
    expect(after.readable).toBe(N);
    // The sealed rows are gone from the heap, dead tuples too (VACUUM after the close); the WAL and the
    // planner's samples keep some as ciphertext (docs/VOTING.md).
    expect(after.sealed).toEqual([]);
    expect(after.sealedLeft.table).toBe(0);
    expectLogsSilent(voteId, voters);
    expect([...beyondChance('during the vote', during), ...beyondChance('after the close', after)]).toEqual([]);
    for (const v of voters) v.t!.close();
  }, 240_000);

  it('after kill -9 mid-vote, and after the restart and the close, no ordering pairs voters with ballots beyond chance', async () => {
    const chair = await tablet(chairCookie);
    const voteId = await openSecretVote(chair);
    const voters = electorate();
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
    const crashed = await attack(voteId, voters, false);

    await child.start();
    await until(() => [chair, ...voters.map((v) => v.t!)].every((t) => t.socket.connected), { what: 'tablets reconnected', timeout: 20_000 });
    // Unacknowledged ballots are retried as the app does (same commandId and receipt).
    for (const v of voters.filter((x) => !x.ack?.ok)) expect(await cast(v, voteId)).toMatchObject({ ok: true, data: { counted: true } });
    const restarted = await attack(voteId, voters, false);
    expect(await chair.cmd('vote:close', { voteId, commandId: newCommandId() })).toMatchObject({ ok: true, data: { vote: { result: { voted: N } } } });
    const after = await attack(voteId, voters, true, [...crashed.sealed, ...restarted.sealed]);
    await expectCounted(voteId, voters);
    expect(after.readable).toBe(N);
    expect(after.sealed).toEqual([]);
    expect(after.sealedLeft.table).toBe(0);
    expectLogsSilent(voteId, voters);
    expect([
      ...beyondChance('after kill -9 mid-vote', crashed),
      ...beyondChance('after the restart, vote open', restarted),
      ...beyondChance('after the restart and the close', after),
    ]).toEqual([]);
    for (const v of voters) v.t!.close();
  }, 240_000);
});
