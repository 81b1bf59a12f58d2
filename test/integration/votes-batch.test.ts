import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BuiltMeeting, buildMeeting } from '../helpers/factories.js';
import { type TestServer, startTestServer } from '../helpers/server.js';
import { type TestSocket, connectSocket, connected, newCommandId } from '../helpers/socket.js';
import { testSql } from '../helpers/sql.js';

/**
 * The ballot batch (server/votes/votes.ballot-store.ts, votes.repo.ts `writeBallots`) on either store: a
 * ballot and its command's acknowledgement are one commit, and a close racing a stream of batches counts
 * exactly the acknowledged ballots.
 */
describe('ballot batches', () => {
  let s: TestServer;
  const sockets: TestSocket[] = [];

  beforeAll(async () => {
    s = await startTestServer({ seed: 'admin' });
  });
  afterAll(async () => {
    for (const t of sockets) t.close();
    await s.close();
  });

  /** A live meeting with `members` voting members checked in, and an open motion. */
  async function openVote(members: number, secret: boolean) {
    const m: BuiltMeeting = await buildMeeting(s, { members, agendaItems: 1 });
    const tablet = async (http: Awaited<ReturnType<BuiltMeeting['as']>>) => {
      const t = await connected(connectSocket(s.url, http));
      sockets.push(t);
      expect(await t.cmd('attendance:check_in', { meetingId: m.meetingId, mode: 'in_room', commandId: newCommandId() })).toMatchObject({ ok: true });
      return t;
    };
    const chair = await tablet(await m.as('chair'));
    const tablets: TestSocket[] = [];
    for (let i = 0; i < members; i++) tablets.push(await tablet(await m.as('member', i)));
    expect(await chair.cmd('meeting:open', { meetingId: m.meetingId })).toMatchObject({ ok: true });
    const created = await chair.cmd('vote:create', { meetingId: m.meetingId, vote: { title: 'Biểu quyết', kind: 'motion', secret }, commandId: newCommandId() });
    const voteId = (created as { data: { vote: { id: number } } }).data.vote.id;
    expect(await chair.cmd('vote:open', { voteId, commandId: newCommandId() })).toMatchObject({ ok: true });
    return { m, chair, tablets, voteId };
  }

  it('a ballot is counted only together with its acknowledgement: when the acknowledgement cannot be recorded nothing is, and the retry (same commandId) counts it once', async () => {
    const { tablets, voteId } = await openVote(1, false);
    const sql = testSql(s);
    const commandId = `fail-${crypto.randomBytes(6).toString('hex')}`;
    // The database refuses this one command's acknowledgement (a full disk, a lost connection: any failure after the ballot's rows).
    if (sql.dialect === 'sqlite') {
      await sql.run(`CREATE TRIGGER refuse_ack BEFORE INSERT ON realtime_commands WHEN NEW.command_id = '${commandId}' BEGIN SELECT RAISE(ABORT, 'refused'); END`);
    } else {
      await sql.run(`CREATE FUNCTION refuse_ack() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.command_id = '${commandId}' THEN RAISE EXCEPTION 'refused'; END IF; RETURN NEW; END $$`);
      await sql.run('CREATE TRIGGER refuse_ack BEFORE INSERT ON realtime_commands FOR EACH ROW EXECUTE FUNCTION refuse_ack()');
    }
    const failed = await tablets[0].cmd('vote:cast', { voteId, choices: [0], commandId });
    expect(failed).toMatchObject({ ok: false, error: { code: 'internal' } });
    expect(await sql.value('SELECT count(*) FROM vote_participation WHERE vote_id = ?', voteId)).toBe(0);
    expect(await sql.value('SELECT count(*) FROM vote_named_ballots WHERE vote_id = ?', voteId)).toBe(0);

    if (sql.dialect === 'sqlite') await sql.run('DROP TRIGGER refuse_ack');
    else await sql.run('DROP FUNCTION refuse_ack() CASCADE');
    const retried = await tablets[0].cmd('vote:cast', { voteId, choices: [0], commandId });
    expect(retried).toMatchObject({ ok: true, data: { voteId, counted: true } });
    expect(await sql.value('SELECT count(*) FROM vote_participation WHERE vote_id = ?', voteId)).toBe(1);
    expect(JSON.parse(String(await sql.value('SELECT ack FROM realtime_commands WHERE command_id = ?', commandId)))).toEqual(retried);
    // Answered from the record from now on: the same commandId with other choices changes nothing.
    expect(await tablets[0].cmd('vote:cast', { voteId, choices: [1], commandId })).toEqual(retried);
    expect(await sql.value('SELECT count(*) FROM audit_log WHERE target_type = ? AND target_id = ? AND action = ?', 'vote', String(voteId), 'vote.ballot_changed')).toBe(0);
  });

  it('a close racing a stream of ballot batches counts exactly the acknowledged ballots; every later one is refused with vote_closed', async () => {
    const { chair, tablets, voteId } = await openVote(12, true);
    const acks: { ok: boolean; error?: { code: string } }[] = new Array(tablets.length);
    // Ballots arrive over ~30 ms in small groups (several batches), and the close lands in the middle.
    const casts = tablets.map(
      (t, i) =>
        new Promise<void>((resolve) =>
          setTimeout(
            async () => {
              acks[i] = (await t.cmd('vote:cast', { voteId, choices: [i % 2], receipt: crypto.randomBytes(16).toString('base64url'), commandId: newCommandId() })) as never;
              resolve();
            },
            Math.floor(i / 3) * 8,
          ),
        ),
    );
    await new Promise((r) => setTimeout(r, 12));
    const closed = (await chair.cmd('vote:close', { voteId, commandId: newCommandId() })) as { ok: boolean; data: { vote: { result: { voted: number; abstentions: number; counts: number[] } } } };
    await Promise.all(casts);
    expect(closed.ok).toBe(true);
    const ok = acks.filter((a) => a.ok).length;
    for (const a of acks) if (!a.ok) expect(a.error?.code).toBe('vote_closed');
    const r = closed.data.vote.result;
    expect(r.voted + r.abstentions).toBe(ok);
    const sql = testSql(s);
    expect(await sql.value('SELECT count(*) FROM vote_participation WHERE vote_id = ?', voteId)).toBe(ok);
    expect(await sql.value('SELECT count(*) FROM vote_secret_ballots WHERE vote_id = ?', voteId)).toBe(ok);
    expect(await sql.value('SELECT count(*) FROM vote_sealed_ballots WHERE vote_id = ?', voteId)).toBe(0);
  }, 120_000); // a dozen members log in and check in first: slow on a loaded machine
});
