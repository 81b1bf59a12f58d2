import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChildServer } from '../helpers/child-server.js';
import { type BuiltMeeting, buildMeeting } from '../helpers/factories.js';
import { type TestServer, startTestServer, until } from '../helpers/server.js';
import { findAll } from '../helpers/sqlite-forensics.js';
import { type TestSocket, connectSocket, connected, newCommandId } from '../helpers/socket.js';
import { testSql } from '../helpers/sql.js';

const newReceipt = () => crypto.randomBytes(16).toString('base64url');
const receiptKey = (voteId: number, receipt: string) => crypto.createHash('sha256').update(`${voteId}:${receipt}`).digest();

/**
 * The secret ballot box (server/votes/votes.ballots.ts): sealed while the vote is open, published in a
 * random order at the close, sealed bytes erased; and the faults around a ballot: parallel casts, a
 * second ballot, a ballot after the close, a restart under another server secret.
 */
describe('secret ballot box', () => {
  let s: TestServer;
  const sockets: TestSocket[] = [];

  beforeAll(async () => {
    s = await startTestServer({ seed: 'admin' });
  });
  afterAll(async () => {
    for (const t of sockets) t.close();
    await s.close();
  });

  /** A live meeting of our own with `members` voting members, all checked in, and an open secret motion. */
  async function openSecretVote(members: number, server = s) {
    const m: BuiltMeeting = await buildMeeting(server, { members, agendaItems: 1 });
    const tablet = async (http: Awaited<ReturnType<BuiltMeeting['as']>>) => {
      const t = await connected(connectSocket(server.url, http));
      sockets.push(t);
      expect(await t.cmd('attendance:check_in', { meetingId: m.meetingId, mode: 'in_room', commandId: newCommandId() })).toMatchObject({ ok: true });
      return t;
    };
    const chair = await tablet(await m.as('chair'));
    const tablets: TestSocket[] = [];
    for (let i = 0; i < members; i++) tablets.push(await tablet(await m.as('member', i)));
    expect(await chair.cmd('meeting:open', { meetingId: m.meetingId })).toMatchObject({ ok: true });
    const created = await chair.cmd('vote:create', { meetingId: m.meetingId, vote: { title: 'Biểu quyết kín', kind: 'motion', secret: true }, commandId: newCommandId() });
    expect(created, JSON.stringify(created)).toMatchObject({ ok: true });
    const voteId = (created as { data: { vote: { id: number } } }).data.vote.id;
    expect(await chair.cmd('vote:open', { voteId, commandId: newCommandId() })).toMatchObject({ ok: true });
    return { m, chair, tablets, voteId };
  }

  const cast = (t: TestSocket, voteId: number, choices: number[], receipt = newReceipt(), commandId = newCommandId()) => t.cmd('vote:cast', { voteId, choices, receipt, commandId });
  const rawFiles = (server = s) => {
    const f = path.join(server.dataDir, 'ecabinet.sqlite');
    const read = (x: string) => (fs.existsSync(x) ? fs.readFileSync(x) : Buffer.alloc(0));
    return Buffer.concat([read(f), read(`${f}-wal`)]);
  };

  it('on SQLite, while the vote is open only sealed ballots of equal length are stored; at the close they are counted, published, and their bytes erased from the database file and the WAL', async () => {
    // SQLite's files whatever the suite: a server process of its own (one dialect per process) with
    // DATABASE_URL '' (wins over test:pg's). On PostgreSQL, votes-secrecy-attack.pg.test.ts reads the cluster.
    const child = await ChildServer.create({ ECABINET_SEED: 'admin', DATABASE_URL: '' });
    let sqlite: Database.Database | null = null;
    try {
      await child.start();
      const own = child as unknown as TestServer;
      const { chair, tablets, voteId } = await openSecretVote(4, own);
      sqlite = new Database(path.join(child.dataDir, 'ecabinet.sqlite'));
      sqlite.pragma('busy_timeout = 10000');
      const choices = [[0], [1], [], [0]];
      const receipts = choices.map(() => newReceipt());
      for (let i = 0; i < 4; i++) expect(await cast(tablets[i], voteId, choices[i], receipts[i])).toMatchObject({ ok: true, data: { counted: true } });

      expect(sqlite.prepare('SELECT count(*) FROM vote_secret_ballots WHERE vote_id = ?').pluck().get(voteId)).toBe(0);
      const sealed = sqlite.prepare('SELECT tag, sealed FROM vote_sealed_ballots WHERE vote_id = ?').all(voteId) as { tag: Buffer; sealed: Buffer }[];
      expect(sealed).toHaveLength(4);
      // An abstention is as long as a vote: the length reveals nothing.
      expect(new Set(sealed.map((r) => r.sealed.length)).size).toBe(1);
      // No receipt key in clear anywhere in the files, WAL included.
      const during = rawFiles(own);
      for (const r of receipts) expect(findAll(during, receiptKey(voteId, r))).toEqual([]);

      const closed = await chair.cmd('vote:close', { voteId, commandId: newCommandId() });
      expect(closed).toMatchObject({ ok: true, data: { vote: { result: { counts: [2, 1], voted: 3, abstentions: 1 } } } });
      expect(sqlite.prepare('SELECT count(*) FROM vote_sealed_ballots WHERE vote_id = ?').pluck().get(voteId)).toBe(0);
      const published = sqlite.prepare('SELECT receipt_key AS k, choices AS c FROM vote_secret_ballots WHERE vote_id = ?').all(voteId) as { k: Buffer; c: string }[];
      expect(new Map(published.map((p) => [p.k.toString('hex'), JSON.parse(p.c)]))).toEqual(new Map(receipts.map((r, i) => [receiptKey(voteId, r).toString('hex'), choices[i]])));
      // secure_delete + the WAL truncated: not one sealed ballot (tag or ciphertext) is left in the files.
      // (The truncation waits for the Yjs store's connection to leave older snapshots: retried, never blocking.)
      const leftovers = () => {
        const after = rawFiles(own);
        return sealed.flatMap((r) => [...findAll(after, r.tag), ...findAll(after, r.sealed.subarray(12, 40))]);
      };
      await until(() => leftovers().length === 0, { what: 'no sealed bytes left in the files', timeout: 15_000 });
      for (const t of [chair, ...tablets]) t.close();
    } finally {
      sqlite?.close();
      await child.dispose();
    }
  }, 150_000);

  it('two sockets of one member casting at once: with two receipts exactly one ballot counts and the other is refused with already_voted; with the same receipt both are acknowledged and it counts once', async () => {
    const { m, chair, tablets, voteId } = await openSecretVote(2);
    const second = async (i: number) => {
      const t = await connected(connectSocket(s.url, await m.as('member', i)));
      sockets.push(t);
      return t;
    };
    // Member 0: two devices, two different ballots, sent in the same tick.
    const a = await second(0);
    const [r1, r2] = [newReceipt(), newReceipt()];
    const acks = await Promise.all([cast(tablets[0], voteId, [0], r1), cast(a, voteId, [1], r2)]);
    expect(acks.filter((x) => x.ok)).toHaveLength(1);
    expect(acks.filter((x) => !x.ok)).toEqual([expect.objectContaining({ error: expect.objectContaining({ code: 'already_voted' }) })]);
    const winner = acks[0].ok ? { r: r1, c: [0] } : { r: r2, c: [1] };
    // Member 1: two devices retrying the same ballot (same receipt, different command ids).
    const b = await second(1);
    const r3 = newReceipt();
    const same = await Promise.all([cast(tablets[1], voteId, [1], r3), cast(b, voteId, [1], r3)]);
    for (const x of same) expect(x).toMatchObject({ ok: true, data: { counted: true } });

    const closed = await chair.cmd('vote:close', { voteId, commandId: newCommandId() });
    expect(closed).toMatchObject({ ok: true, data: { vote: { voted: 2, result: { voted: 2 } } } });
    const list = (await (await m.as('secretary')).get(`/api/votes/${voteId}/receipts`)).body.ballots as { key: string; choices: number[] }[];
    expect(list).toHaveLength(2);
    expect(list.find((x) => x.key === receiptKey(voteId, winner.r).toString('hex'))?.choices).toEqual(winner.c);
    expect(list.find((x) => x.key === receiptKey(voteId, r3).toString('hex'))?.choices).toEqual([1]);
  });

  it('a second ballot is refused with already_voted and a ballot after the close with vote_closed; neither changes the count', async () => {
    const { chair, tablets, voteId } = await openSecretVote(2);
    expect(await cast(tablets[0], voteId, [0])).toMatchObject({ ok: true });
    expect(await cast(tablets[0], voteId, [1])).toMatchObject({ ok: false, error: { code: 'already_voted' } });
    expect((await testSql(s).value('SELECT count(*) FROM vote_sealed_ballots WHERE vote_id = ?', voteId))).toBe(1);
    expect(await chair.cmd('vote:close', { voteId, commandId: newCommandId() })).toMatchObject({ ok: true, data: { vote: { result: { counts: [1, 0] } } } });
    expect(await cast(tablets[1], voteId, [1])).toMatchObject({ ok: false, error: { code: 'vote_closed' } });
    expect((await testSql(s).value('SELECT count(*) FROM vote_secret_ballots WHERE vote_id = ?', voteId))).toBe(1);
    expect((await testSql(s).value('SELECT count(*) FROM vote_sealed_ballots WHERE vote_id = ?', voteId))).toBe(0);
  });

  it('restarted under another server secret the sealed box does not open: the close fails and changes nothing; under the right secret it closes with every ballot', async () => {
    const own = await startTestServer({ seed: 'admin', config: { secret: 'first-secret-of-this-test-0123456789' } });
    try {
      const { m, chair, tablets, voteId } = await openSecretVote(2, own);
      expect(await cast(tablets[0], voteId, [0])).toMatchObject({ ok: true });
      expect(await cast(tablets[1], voteId, [1])).toMatchObject({ ok: true });
      for (const t of [chair, ...tablets]) t.close();
      await own.close();
      const chairOn = async (server: TestServer) => {
        const t = await connected(connectSocket(server.url, await server.login(m.chair.username, m.chair.password)));
        sockets.push(t);
        return t;
      };

      const wrong = await startTestServer({ seed: 'admin', dataDir: own.dataDir, config: { secret: 'another-secret-entirely-9876543210' } });
      const refused = await (await chairOn(wrong)).cmd('vote:close', { voteId, commandId: newCommandId() });
      expect(refused).toMatchObject({ ok: false, error: { code: 'internal' } });
      expect((await testSql(wrong).value('SELECT state FROM votes WHERE id = ?', voteId))).toBe('open');
      expect((await testSql(wrong).value('SELECT count(*) FROM vote_sealed_ballots WHERE vote_id = ?', voteId))).toBe(2);
      expect((await testSql(wrong).value('SELECT count(*) FROM vote_secret_ballots WHERE vote_id = ?', voteId))).toBe(0);
      await wrong.close();

      const right = await startTestServer({ seed: 'admin', dataDir: own.dataDir, config: { secret: 'first-secret-of-this-test-0123456789' } });
      const closed = await (await chairOn(right)).cmd('vote:close', { voteId, commandId: newCommandId() });
      expect(closed).toMatchObject({ ok: true, data: { vote: { result: { counts: [1, 1], voted: 2 } } } });
      await right.close();
    } finally {
      fs.rmSync(own.dataDir, { recursive: true, force: true });
    }
  });
});
