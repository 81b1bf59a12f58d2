import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import { ChildServer } from '../helpers/child-server.js';
import { type TestSql, tableNames } from '../helpers/sql.js';
import { copyDbFiles, findAll } from '../helpers/sqlite-forensics.js';
import { testDialect } from '../helpers/test-db.js';
import { buildMeeting } from '../helpers/factories.js';
import { type HttpClient, type TestServer, until } from '../helpers/server.js';
import { type TestSocket, connectSocket, connected, newCommandId } from '../helpers/socket.js';

/** The tables with a row holding `key` (as bytes, hex or base64) or the text `receipt`. */
async function tablesHolding(sql: TestSql, key: Buffer, receipt: string): Promise<string[]> {
  const texts = [key.toString('hex'), key.toString('base64'), key.toString('base64url'), receipt];
  const holds = (v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).indexOf(key) >= 0 : typeof v === 'string' && texts.some((t) => v.includes(t)));
  const out: string[] = [];
  for (const t of await tableNames(sql)) if ((await sql.all(`select * from "${t}"`)).some((row) => Object.values(row).some(holds))) out.push(t);
  return out;
}

/**
 * kill -9 with ballots in flight: the real server as a child process, real socket.io clients, SIGKILL,
 * restart on the same data directory and port.
 */
describe('votes survive kill -9', () => {
  let child: ChildServer;
  const sockets: TestSocket[] = [];

  beforeAll(async () => {
    child = await ChildServer.create({ ECABINET_SEED: 'admin' });
    await child.start();
  });
  afterAll(async () => {
    for (const s of sockets) s.close();
    await child?.dispose();
  });

  // Two starts of the server as a child process (tsx start-up each): more than the default minute on a loaded machine.
  it('after a restart every acknowledged ballot is counted exactly once, the vote is still open, and retried unacknowledged ballots count once', { timeout: 180_000 }, async () => {
    const m = await buildMeeting(child as unknown as TestServer, { members: 12, agendaItems: 1 });
    const meetingId = m.meetingId;
    const secretary: HttpClient = await m.as('secretary');
    const tablet = async (http: HttpClient) => {
      const t = await connected(connectSocket(child.url, http));
      sockets.push(t);
      return t;
    };
    const chair = await tablet(await m.as('chair'));
    const sec = await tablet(secretary);
    for (const u of m.members) expect(await sec.cmd('attendance:check_in', { meetingId, userId: u.id, mode: 'in_room', commandId: newCommandId() })).toMatchObject({ ok: true });
    expect(await chair.cmd('meeting:open', { meetingId })).toMatchObject({ ok: true });
    const created = await secretary.post(`/api/meetings/${meetingId}/votes`, { title: 'Biểu quyết kín', kind: 'motion', secret: true });
    const voteId = created.body.id as number;
    expect(await chair.cmd('vote:open', { voteId, commandId: newCommandId() })).toMatchObject({ ok: true });

    const members = await Promise.all(m.members.map(async (u) => tablet(await m.login(u))));
    const ballots = members.map((t, i) => ({ t, commandId: newCommandId(), receipt: crypto.randomBytes(16).toString('base64url'), choices: i % 3 === 0 ? [1] : [0], ack: null as unknown }));
    const send = (b: (typeof ballots)[number]) =>
      b.t.socket.emit('vote:cast', { voteId, choices: b.choices, receipt: b.receipt, commandId: b.commandId }, (a: unknown) => {
        b.ack = a;
      });
    // Half the room votes and is acknowledged; the other half is in flight when the process dies.
    for (const b of ballots.slice(0, 6)) send(b);
    await until(() => ballots.slice(0, 6).every((b) => b.ack), { what: 'first acks' });
    for (const b of ballots.slice(6)) send(b);
    await child.kill9();
    const acked = ballots.filter((b) => (b.ack as { ok?: boolean } | null)?.ok);
    expect(acked.length).toBeGreaterThanOrEqual(6);
    // Secrecy at the crash: the database holds sealed ballots only — no receipt key in any row, no published
    // ballot (test/integration/votes-secrecy-attack.test.ts tries every ordering on top of this).
    const keyOf = (b: (typeof ballots)[number]) => crypto.createHash('sha256').update(`${voteId}:${b.receipt}`).digest();
    if (testDialect === 'sqlite') {
      // And below SQL: the files, WAL included, copied before anything opens them.
      const crashed = copyDbFiles(child.dataDir);
      for (const b of ballots) expect(findAll(Buffer.concat([crashed.db, crashed.wal]), keyOf(b))).toEqual([]);
      fs.rmSync(crashed.dir, { recursive: true, force: true });
    }
    const sql = await child.sql();
    try {
      expect(await sql.value('SELECT count(*) FROM vote_secret_ballots WHERE vote_id = ?', voteId)).toBe(0);
      expect(await sql.value('SELECT count(*) FROM vote_sealed_ballots WHERE vote_id = ?', voteId)).toBe(await sql.value('SELECT count(*) FROM vote_participation WHERE vote_id = ?', voteId));
      for (const b of ballots) expect(await tablesHolding(sql, keyOf(b), b.receipt), b.receipt).toEqual([]);
    } finally {
      sql.close();
    }

    await child.start();
    const after = await secretary.get(`/api/votes/${voteId}`);
    expect(after.body.state).toBe('open');
    expect(after.body.voted).toBeGreaterThanOrEqual(acked.length);
    expect(after.body.voted).toBeLessThanOrEqual(ballots.length);

    // Every tablet reconnects and retries what it has no acknowledgement for (same commandId and receipt);
    // one acknowledged tablet also retries, as a tablet that lost the ack would.
    await until(() => ballots.every((b) => b.t.socket.connected), { what: 'tablets reconnected', timeout: 20_000 });
    const retry = [...ballots.filter((b) => !(b.ack as { ok?: boolean } | null)?.ok), ballots[0]];
    for (const b of retry) {
      const a = await b.t.cmd('vote:cast', { voteId, choices: b.choices, receipt: b.receipt, commandId: b.commandId });
      expect(a, JSON.stringify(a)).toMatchObject({ ok: true, data: { counted: true } });
    }
    expect((await secretary.get(`/api/votes/${voteId}`)).body.voted).toBe(12);

    const closed = await chair.cmd('vote:close', { voteId, commandId: newCommandId() });
    expect(closed).toMatchObject({ ok: true, data: { vote: { result: { counts: [8, 4], voted: 12, abstentions: 0 } } } });
    // Each receipt appears exactly once among the published ballots, with the choice that was cast.
    const receipts = (await secretary.get(`/api/votes/${voteId}/receipts`)).body.ballots as { key: string; choices: number[] }[];
    expect(receipts).toHaveLength(12);
    for (const b of ballots) {
      const key = crypto.createHash('sha256').update(`${voteId}:${b.receipt}`).digest('hex');
      const found = receipts.filter((r) => r.key === key);
      expect(found).toHaveLength(1);
      expect(found[0].choices).toEqual(b.choices);
    }
  });
});
