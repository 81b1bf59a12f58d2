import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Ack } from '../../shared/protocol/common.js';
import { hubOptions } from '../../server/realtime/hub.js';
import { startNodes } from '../helpers/cluster.js';
import { buildMeeting } from '../helpers/factories.js';
import type { HttpClient, TestServer } from '../helpers/server.js';
import { type TestSocket, connectSocket, connected, newCommandId } from '../helpers/socket.js';
import { testSql } from '../helpers/sql.js';

/**
 * Two nodes on one PostgreSQL database: the same command (same user, same commandId) sent to both at once is
 * applied once (server/realtime/commands.repo.ts `commandTx`: the second run waits on the command's key, then
 * answers the first one's acknowledgement). A node that is not the meeting's owner may refuse it instead
 * (`not_owner`, the meeting lease): never a second application, never another answer.
 */
describe('the same command sent to two nodes at once is applied once', () => {
  let nodes: TestServer[];
  const sockets: TestSocket[] = [];
  const savedRate = hubOptions.ratePoints;
  beforeAll(async () => {
    // Twenty rounds of four commands from one socket in a few seconds: the per-socket limit is not what is tested.
    hubOptions.ratePoints = 1_000_000;
    nodes = await startNodes(2);
  });
  afterAll(async () => {
    hubOptions.ratePoints = savedRate;
    for (const s of sockets) s.close();
    await Promise.allSettled(nodes.map((n) => n.close()));
  });

  /** The same session's socket on each node (sessions live in the shared database). */
  async function onBothNodes(http: HttpClient): Promise<[TestSocket, TestSocket]> {
    const other = nodes[1].anonymous();
    other.cookie = http.cookie;
    const pair: [TestSocket, TestSocket] = [await connected(connectSocket(nodes[0].url, http)), await connected(connectSocket(nodes[1].url, other))];
    sockets.push(...pair);
    return pair;
  }

  /** Sends one command to both nodes at once; the answers agree and at least one applied it. */
  async function both(pair: [TestSocket, TestSocket], event: string, payload: Record<string, unknown>): Promise<{ ok: true; data: any }> {
    const commandId = newCommandId();
    const acks: Ack<any>[] = await Promise.all(pair.map((t) => t.cmd(event, { ...payload, commandId })));
    const applied = acks.filter((a) => a.ok || a.error.code !== 'not_owner');
    expect(applied.length, `${event}: ${JSON.stringify(acks)}`).toBeGreaterThan(0);
    for (const a of applied) expect(a, event).toEqual(applied[0]);
    const first = applied[0];
    if (!first.ok) throw new Error(`${event} refused: ${JSON.stringify(first)}`);
    return first;
  }

  it('vote:create, agenda:add_urgent and vote:close, twenty rounds: one vote, one urgent item, one close per command', async () => {
    const [a] = nodes;
    const m = await buildMeeting(a, { members: 1, agendaItems: 1 });
    const meetingId = m.meetingId;
    const chair = await onBothNodes(await m.as('chair'));
    const sec = await connected(connectSocket(a.url, await m.as('secretary')));
    sockets.push(sec);
    expect(await sec.cmd('attendance:check_in', { meetingId, userId: m.members[0].id, mode: 'in_room', commandId: newCommandId() })).toMatchObject({ ok: true });
    expect(await chair[0].cmd('meeting:open', { meetingId, overrideReason: 'Thử nghiệm', commandId: newCommandId() })).toMatchObject({ ok: true });
    const sql = testSql(a);
    for (let round = 0; round < 20; round++) {
      const created = await both(chair, 'vote:create', { meetingId, vote: { title: `Biểu quyết ${round}`, kind: 'motion', secret: false } });
      const voteId = created.data.vote.id as number;
      expect(await sql.column('SELECT id FROM votes WHERE meeting_id = ? AND title = ?', meetingId, `Biểu quyết ${round}`)).toEqual([voteId]);

      const urgent = await both(chair, 'agenda:add_urgent', { meetingId, title: `Việc khẩn ${round}` });
      expect(await sql.column('SELECT id FROM agenda_items WHERE meeting_id = ? AND title = ?', meetingId, `Việc khẩn ${round}`)).toEqual([urgent.data.itemId]);

      expect(await chair[0].cmd('vote:open', { voteId, overrideReason: 'Thử nghiệm', commandId: newCommandId() })).toMatchObject({ ok: true });
      const closed = await both(chair, 'vote:close', { voteId });
      expect(closed.data.vote).toMatchObject({ id: voteId, state: 'closed' });
      expect(await sql.value("SELECT count(*) FROM audit_log WHERE action = 'vote.closed' AND target_id = ?", String(voteId))).toBe(1);
    }
  }, 600_000);
});
