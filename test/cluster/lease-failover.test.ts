import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChildServer, startChildNodes } from '../helpers/child-server.js';
import { type BuiltMeeting, buildMeetingOn } from '../helpers/factories.js';
import { HttpClient, until } from '../helpers/server.js';
import { type TestSocket, connectSocket, connected, newCommandId } from '../helpers/socket.js';
import { pgTestSql } from '../helpers/sql.js';
import { testDatabaseUrl } from '../helpers/test-db.js';

const LEASE_MS = 1500;

/**
 * Failover of a meeting's owner (issue #18) with real processes: two nodes as child processes on one
 * PostgreSQL database, real socket.io clients. The owner is killed (kill -9) or frozen (SIGSTOP) mid-vote; the
 * clients go to the other node (as HAProxy sends them once the owner is gone), which takes the meeting over
 * when the lease expires, with the next epoch.
 */
describe('meeting failover between nodes', () => {
  let url: string;
  const nodes: ChildServer[] = [];
  const sockets: TestSocket[] = [];
  const tablet = async (node: ChildServer, http: HttpClient) => {
    const t = await connected(connectSocket(node.url, http, { reconnection: false }));
    sockets.push(t);
    return t;
  };
  /** Joins through `node`, retrying while another node's lease holds: @returns how long it took (ms). */
  const joinWhenOwned = async (t: TestSocket, meetingId: number) => {
    const from = Date.now();
    await until(
      async () => {
        const a = await t.cmd('meeting:join', { meetingId });
        if (!a.ok && a.error.code !== 'not_owner') throw new Error(JSON.stringify(a));
        return a.ok;
      },
      { timeout: 30_000, interval: 100, what: 'join on the new owner' },
    );
    return Date.now() - from;
  };
  /** The same session on another node (sessions live in the shared database), as HAProxy would send the browser there. */
  const via = (node: ChildServer, c: HttpClient) => {
    const x = new HttpClient(node.url);
    x.cookie = c.cookie;
    return x;
  };
  /** Nodes this file killed: started again by the next test that needs them (tests run in any order). */
  const down = new Set<ChildServer>();
  const allUp = async () => {
    for (const n of down) await n.start();
    down.clear();
  };
  const owners = async (meetingId: number) => pgTestSql(url).all<{ node_id: string; epoch: number }>('SELECT node_id, epoch FROM meeting_owners WHERE meeting_id = ?', meetingId);

  beforeAll(async () => {
    url = (await testDatabaseUrl(fs.mkdtempSync(path.join(os.tmpdir(), 'ecabinet-failover-'))))!;
    nodes.push(...(await startChildNodes(['n1', 'n2'], { ECABINET_MEETING_LEASE_MS: String(LEASE_MS), DATABASE_URL: url })));
  }, 400_000);
  afterAll(async () => {
    for (const s of sockets) s.close();
    for (const n of nodes) {
      n.resume();
      await n.dispose();
    }
  });

  /** A live meeting joined through `node` (its owner), every member checked in, and an open secret vote. */
  async function liveVote(node: ChildServer, members: number): Promise<{ m: BuiltMeeting; voteId: number; chair: TestSocket; chairHttp: HttpClient; secretary: HttpClient; clients: HttpClient[] }> {
    const m = await buildMeetingOn(node, { members, agendaItems: 1 });
    const secretary = await m.as('secretary');
    const chairHttp = await m.as('chair');
    const clients = await Promise.all(m.members.map((u) => m.login(u)));
    const chair = await tablet(node, chairHttp);
    const sec = await tablet(node, secretary);
    expect(await chair.cmd('meeting:join', { meetingId: m.meetingId })).toMatchObject({ ok: true });
    for (const u of m.members) expect(await sec.cmd('attendance:check_in', { meetingId: m.meetingId, userId: u.id, mode: 'in_room', commandId: newCommandId() })).toMatchObject({ ok: true });
    expect(await chair.cmd('meeting:open', { meetingId: m.meetingId, commandId: newCommandId() })).toMatchObject({ ok: true });
    const created = await secretary.post(`/api/meetings/${m.meetingId}/votes`, { title: 'Biểu quyết kín', kind: 'motion', secret: true });
    const voteId = created.body.id as number;
    expect(await chair.cmd('vote:open', { voteId, commandId: newCommandId() })).toMatchObject({ ok: true });
    return { m, voteId, chair, chairHttp, secretary, clients };
  }

  it('kill -9 of the owner mid-vote: the other node takes over with the next epoch within seconds, every acknowledged ballot counts once, the vote continues and closes once', { timeout: 300_000 }, async () => {
    const [n1, n2] = nodes;
    await allUp();
    const { m, voteId, chairHttp, secretary: secOnN1, clients } = await liveVote(n1, 12);
    expect(await owners(m.meetingId)).toMatchObject([{ node_id: 'n1', epoch: 1 }]);
    const secretary = via(n2, secOnN1);
    const members = await Promise.all(clients.map((c) => tablet(n1, c)));
    const ballots = members.map((t, i) => ({ i, t, commandId: newCommandId(), receipt: crypto.randomBytes(16).toString('base64url'), choices: i % 3 === 0 ? [1] : [0], ack: null as unknown }));
    const send = (b: (typeof ballots)[number]) =>
      b.t.socket.emit('vote:cast', { voteId, choices: b.choices, receipt: b.receipt, commandId: b.commandId }, (a: unknown) => {
        b.ack = a;
      });
    for (const b of ballots.slice(0, 6)) send(b);
    await until(() => ballots.slice(0, 6).every((b) => b.ack), { what: 'first acks' });
    for (const b of ballots.slice(6)) send(b);
    await n1.kill9();
    down.add(n1);
    const acked = ballots.filter((b) => (b.ack as { ok?: boolean } | null)?.ok);
    expect(acked.length).toBeGreaterThanOrEqual(6);

    // The clients reach the other node (HAProxy's next server for the meeting once the owner is down).
    const chair = await tablet(n2, via(n2, chairHttp));
    const took = await joinWhenOwned(chair, m.meetingId);
    expect(took).toBeLessThan(10_000);
    expect(await owners(m.meetingId)).toMatchObject([{ node_id: 'n2', epoch: 2 }]);
    const onN2 = await Promise.all(clients.map((c) => tablet(n2, via(n2, c))));
    for (const t of onN2) expect(await t.cmd('meeting:join', { meetingId: m.meetingId })).toMatchObject({ ok: true });
    expect((await secretary.get(`/api/votes/${voteId}`)).body.state).toBe('open');

    // Every tablet retries what it has no acknowledgement for (same commandId and receipt); one acknowledged tablet also retries.
    const retry = [...ballots.filter((b) => !(b.ack as { ok?: boolean } | null)?.ok), ballots[0]];
    for (const b of retry) {
      const a = await onN2[b.i].cmd('vote:cast', { voteId, choices: b.choices, receipt: b.receipt, commandId: b.commandId });
      expect(a, JSON.stringify(a)).toMatchObject({ ok: true, data: { counted: true } });
    }
    expect((await secretary.get(`/api/votes/${voteId}`)).body.voted).toBe(12);
    const closed = await chair.cmd('vote:close', { voteId, commandId: newCommandId() });
    expect(closed).toMatchObject({ ok: true, data: { vote: { result: { counts: [8, 4], voted: 12, abstentions: 0 } } } });
    const receipts = (await secretary.get(`/api/votes/${voteId}/receipts`)).body.ballots as { key: string; choices: number[] }[];
    expect(receipts).toHaveLength(12);
    for (const b of ballots) {
      const key = crypto.createHash('sha256').update(`${voteId}:${b.receipt}`).digest('hex');
      expect(receipts.filter((r) => r.key === key).map((r) => r.choices)).toEqual([b.choices]);
    }
    expect(Number(await pgTestSql(url).value("SELECT count(*) FROM audit_log WHERE action = 'vote.closed' AND target_id = ?", String(voteId)))).toBe(1);
  });

  it('a former owner frozen (SIGSTOP) past its lease and woken (SIGCONT) after another node took over writes no ballot and cannot close the vote', { timeout: 300_000 }, async () => {
    const [n1, n2] = nodes;
    await allUp();
    const { m, voteId, chair: chairOnN2, chairHttp, secretary: secOnN2, clients } = await liveVote(n2, 2);
    const secretary = via(n1, secOnN2);
    const voterOnN2 = await tablet(n2, clients[0]);
    n2.pause();
    try {
      const chair = await tablet(n1, via(n1, chairHttp));
      const took = await joinWhenOwned(chair, m.meetingId);
      expect(took).toBeLessThan(10_000);
      expect(await owners(m.meetingId)).toMatchObject([{ node_id: 'n1', epoch: 2 }]);
      // Sent to the frozen former owner: they wait in its socket buffers and are read when it wakes up.
      const answers: unknown[] = [];
      voterOnN2.socket.emit('vote:cast', { voteId, choices: [0], receipt: crypto.randomBytes(16).toString('base64url'), commandId: newCommandId() }, (a: unknown) => answers.push(a));
      chairOnN2.socket.emit('vote:close', { voteId, commandId: newCommandId() }, (a: unknown) => answers.push(a));
      n2.resume();
      // It steps down (its room's sockets closed) or answers not_owner: never ok.
      await until(() => answers.length === 2 || (!voterOnN2.socket.connected && !chairOnN2.socket.connected), { timeout: 20_000, what: 'the former owner answered or closed its sockets' });
      for (const a of answers) expect(a).toMatchObject({ ok: false, error: { code: 'not_owner' } });
      const sql = pgTestSql(url);
      expect(Number(await sql.value('SELECT count(*) FROM vote_participation WHERE vote_id = ?', voteId))).toBe(0);
      expect(await sql.value('SELECT state FROM votes WHERE id = ?', voteId)).toBe('open');

      // The vote continues on the new owner and closes once.
      const voter = await tablet(n1, via(n1, clients[1]));
      expect(await voter.cmd('vote:cast', { voteId, choices: [1], receipt: crypto.randomBytes(16).toString('base64url'), commandId: newCommandId() })).toMatchObject({ ok: true });
      expect(await chair.cmd('vote:close', { voteId, commandId: newCommandId() })).toMatchObject({ ok: true, data: { vote: { result: { counts: [0, 1], voted: 1 } } } });
      expect(Number(await sql.value("SELECT count(*) FROM audit_log WHERE action = 'vote.closed' AND target_id = ?", String(voteId)))).toBe(1);
      expect((await secretary.get(`/api/votes/${voteId}`)).body.state).toBe('closed');
    } finally {
      n2.resume();
    }
  });
});
