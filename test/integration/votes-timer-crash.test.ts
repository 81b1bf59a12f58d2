import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChildServer } from '../helpers/child-server.js';
import { buildMeeting } from '../helpers/factories.js';
import { type TestServer, until } from '../helpers/server.js';
import { type TestSocket, connectSocket, connected, newCommandId } from '../helpers/socket.js';

/**
 * A timed vote's deadline is in the database, not only in a timer: after `kill -9` the restarted server
 * closes a vote whose deadline passed while it was down at once, and one still running at its deadline —
 * never before it. The real server as a child process, real socket.io clients.
 */
describe('timed votes across kill -9', () => {
  let child: ChildServer;
  const sockets: TestSocket[] = [];

  beforeAll(async () => {
    child = await ChildServer.create({ ECABINET_SEED: 'admin' });
    await child.start();
  });
  afterAll(async () => {
    for (const t of sockets) t.close();
    await child?.dispose();
  });

  // Two starts of the server as a child process (tsx start-up each): more than the default minute on a loaded machine.
  it('a deadline that passed while the server was down closes the vote at restart; one still ahead closes at its deadline, by the timer, never early', { timeout: 180_000 }, async () => {
    const m = await buildMeeting(child as unknown as TestServer, { members: 2, agendaItems: 1 });
    const tablet = async (who: 'chair' | 'member', i = 0) => {
      const t = await connected(connectSocket(child.url, await m.as(who, i)));
      sockets.push(t);
      expect(await t.cmd('attendance:check_in', { meetingId: m.meetingId, mode: 'in_room', commandId: newCommandId() })).toMatchObject({ ok: true });
      return t;
    };
    const chair = await tablet('chair');
    const member = await tablet('member', 0);
    await tablet('member', 1);
    expect(await chair.cmd('meeting:open', { meetingId: m.meetingId })).toMatchObject({ ok: true });
    const timed = async (title: string) => {
      const a = await chair.cmd('vote:create', { meetingId: m.meetingId, vote: { title, kind: 'motion', durationSeconds: 10 }, commandId: newCommandId() });
      expect(a, JSON.stringify(a)).toMatchObject({ ok: true });
      const voteId = (a as { data: { vote: { id: number } } }).data.vote.id;
      expect(await chair.cmd('vote:open', { voteId, commandId: newCommandId() })).toMatchObject({ ok: true });
      return voteId;
    };
    const early = await timed('Hết hạn khi máy chủ dừng');
    const late = await timed('Hết hạn sau khi khởi động lại');
    // The chair extends the second one: its new deadline is persisted too.
    const ext = await chair.cmd('vote:extend', { voteId: late, seconds: 20, commandId: newCommandId() });
    expect(ext).toMatchObject({ ok: true });
    expect(await member.cmd('vote:cast', { voteId: early, choices: [0], commandId: newCommandId() })).toMatchObject({ ok: true });
    expect(await member.cmd('vote:cast', { voteId: late, choices: [1], commandId: newCommandId() })).toMatchObject({ ok: true });
    const sec = await m.as('secretary');
    const earlyClosesAt = Date.parse((await sec.get(`/api/votes/${early}`)).body.closesAt);
    const lateClosesAt = Date.parse((await sec.get(`/api/votes/${late}`)).body.closesAt);
    expect(lateClosesAt - earlyClosesAt).toBeGreaterThanOrEqual(19_000);

    await child.kill9();
    // Down until the first deadline has passed.
    await until(() => Date.now() > earlyClosesAt + 500, { timeout: 15_000, interval: 100, what: 'first deadline passed' });
    await child.start();
    const restartedAt = Date.now();

    const a = (await sec.get(`/api/votes/${early}`)).body;
    expect(a).toMatchObject({ state: 'closed', result: { counts: [1, 0] } });
    expect(Date.parse(a.closedAt)).toBeGreaterThanOrEqual(earlyClosesAt);
    expect(Date.parse(a.closedAt)).toBeLessThanOrEqual(restartedAt);

    const b = await until(
      async () => {
        const v = (await sec.get(`/api/votes/${late}`)).body;
        return v.state === 'closed' ? v : null;
      },
      { timeout: 40_000, interval: 250, what: 'second vote closed by its timer' },
    );
    expect(b.result).toMatchObject({ counts: [0, 1] });
    expect(Date.parse(b.closedAt)).toBeGreaterThanOrEqual(lateClosesAt);
    // Both closed by the server itself (no chair command), each audited once.
    const sql = await child.sql();
    try {
      const closes = await sql.all<{ id: string; actor: number | null; details: string }>("SELECT target_id AS id, actor_id AS actor, details FROM audit_log WHERE action = 'vote.closed' AND target_id IN (?, ?)", String(early), String(late));
      expect(closes.map((c) => [c.id, c.actor, JSON.parse(c.details).auto]).sort()).toEqual([[String(early), null, true], [String(late), null, true]].sort());
    } finally {
      sql.close();
    }
  });
});
