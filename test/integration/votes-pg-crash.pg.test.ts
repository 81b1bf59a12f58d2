import crypto from 'node:crypto';
import fs from 'node:fs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChildServer } from '../helpers/child-server.js';
import { buildMeeting } from '../helpers/factories.js';
import { type ThrowawayPg, startThrowawayPg } from '../helpers/pg.js';
import { type TestServer, until } from '../helpers/server.js';
import { type TestSocket, connectSocket, connected, newCommandId } from '../helpers/socket.js';

/**
 * A crash of the database server itself, not of ours: on PostgreSQL a ballot batch commits without waiting for
 * its WAL flush (server/votes/votes.repo.ts BallotCommit) and the acknowledgement waits for the flush instead
 * (server/db/wal-sync.ts PgWalFlush). So an acknowledged ballot must be in the WAL on disk when PostgreSQL stops
 * in immediate mode (its WAL buffers lost, crash recovery at the next start). The WAL writer is slowed to its
 * maximum (10 s) so a commit nobody flushed stays in the buffers the crash drops: acknowledging at the commit
 * (no flush waited for) loses the ballots here.
 */
/**
 * The server connects as the database's owner, a role that may execute the flush function (the default), or as
 * one from which an administrator revoked it (`REVOKE EXECUTE ON FUNCTION pg_logical_emit_message … FROM PUBLIC`):
 * the batches then commit synchronously, and the same must hold.
 */
const SETUPS = [
  { name: 'the flush function allowed (asynchronous batch commits, flushed before the acknowledgement)', revoke: false },
  { name: 'the flush function revoked (synchronous batch commits)', revoke: true },
];

describe.each(SETUPS)('votes on PostgreSQL survive a crash of the database server — $name', ({ revoke }) => {
  let db: ThrowawayPg;
  let url: string;
  let child: ChildServer;
  const sockets: TestSocket[] = [];

  beforeAll(async () => {
    db = await startThrowawayPg({ serverOptions: '-c wal_writer_delay=10000' });
    // The server's own role, owning its database (docs/DEPLOY.md "Roles and least privilege"), not a superuser.
    url = await db.createDatabase('votes_pg_crash', { owner: 'ecabinet' });
    if (revoke) {
      const dbAdmin = new pg.Client({ connectionString: db.url.replace(/\/[^/]*$/, '/votes_pg_crash') });
      await dbAdmin.connect();
      try {
        await dbAdmin.query('REVOKE EXECUTE ON FUNCTION pg_logical_emit_message(boolean, text, text) FROM PUBLIC');
      } finally {
        await dbAdmin.end();
      }
    }
    child = await ChildServer.create({ ECABINET_SEED: 'admin', ECABINET_SFU: 'off', DATABASE_URL: url }, { log: true });
    await child.start();
  }, 120_000);
  afterAll(async () => {
    for (const s of sockets) s.close();
    await child?.dispose();
    await db?.stop();
  });

  it('every acknowledged ballot is in the database after PostgreSQL restarts from an immediate stop, and the server answers again', { timeout: 180_000 }, async () => {
    const m = await buildMeeting(child as unknown as TestServer, { members: 10, agendaItems: 1 });
    const { meetingId } = m;
    const secretary = await m.as('secretary');
    const tablet = async (http: Awaited<ReturnType<typeof m.as>>) => {
      const t = await connected(connectSocket(child.url, http));
      sockets.push(t);
      return t;
    };
    const chair = await tablet(await m.as('chair'));
    const sec = await tablet(secretary);
    for (const u of m.members) expect(await sec.cmd('attendance:check_in', { meetingId, userId: u.id, mode: 'in_room', commandId: newCommandId() })).toMatchObject({ ok: true });
    expect(await chair.cmd('meeting:open', { meetingId })).toMatchObject({ ok: true });
    const members = await Promise.all(m.members.map(async (u) => tablet(await m.login(u))));

    // A named vote and a secret one, each cast by every member at once (batches of several ballots).
    for (const secret of [false, true]) {
      const created = await secretary.post(`/api/meetings/${meetingId}/votes`, { title: secret ? 'Biểu quyết kín' : 'Biểu quyết công khai', kind: 'motion', secret });
      const voteId = created.body.id as number;
      expect(await chair.cmd('vote:open', { voteId, commandId: newCommandId() })).toMatchObject({ ok: true });
      const ballots = members.map((t, i) => ({ t, commandId: newCommandId(), choices: i % 3 === 0 ? [1] : [0], ...(secret ? { receipt: crypto.randomBytes(16).toString('base64url') } : {}) }));
      const acks = await Promise.all(ballots.map((b) => b.t.cmd('vote:cast', { voteId, choices: b.choices, ...(b.receipt ? { receipt: b.receipt } : {}), commandId: b.commandId })));
      for (const a of acks) expect(a, JSON.stringify(a)).toMatchObject({ ok: true, data: { counted: true } });

      // At once after the last acknowledgement: the database server dies without flushing anything more.
      await db.crashRestart();

      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try {
        const count = async (query: string) => Number((await c.query(query, [voteId])).rows[0].n);
        expect(await count('SELECT count(*) AS n FROM vote_participation WHERE vote_id = $1')).toBe(ballots.length);
        if (secret) expect(await count('SELECT count(*) AS n FROM vote_sealed_ballots WHERE vote_id = $1')).toBe(ballots.length);
        else expect(await count('SELECT count(*) AS n FROM vote_named_ballots WHERE vote_id = $1')).toBe(ballots.length);
        // The acknowledgements too: a retry of any of these commands is answered as counted, not cast again.
        const acked = await c.query('SELECT count(*) AS n FROM realtime_commands WHERE command_id = ANY($1)', [ballots.map((b) => b.commandId)]);
        expect(Number(acked.rows[0].n)).toBe(ballots.length);
      } finally {
        await c.end();
      }

      // The server was not restarted: once its pool has replaced the connections the crash cut, it answers from the recovered database.
      await until(async () => (await secretary.get(`/api/votes/${voteId}`)).body?.voted === ballots.length, { what: 'the vote read through the server after the crash', timeout: 30_000 });
      const retried = await ballots[0].t.cmd('vote:cast', { voteId, choices: ballots[0].choices, ...(ballots[0].receipt ? { receipt: ballots[0].receipt } : {}), commandId: ballots[0].commandId });
      expect(retried, JSON.stringify(retried)).toMatchObject({ ok: true, data: { counted: true } });
      const closed = await chair.cmd('vote:close', { voteId, commandId: newCommandId() });
      expect(closed, JSON.stringify(closed)).toMatchObject({ ok: true, data: { vote: { result: { counts: [6, 4], voted: 10 } } } });
    }
    // The fallback is told to the operator, once.
    const warnings = fs.readFileSync(child.logFile!, 'utf8').split('\n').filter((l) => l.includes('may not execute the WAL flush function'));
    expect(warnings).toHaveLength(revoke ? 1 : 0);
  });
});
