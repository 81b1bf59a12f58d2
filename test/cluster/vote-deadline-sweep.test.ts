import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChildServer, startChildNodes } from '../helpers/child-server.js';
import { buildMeetingOn } from '../helpers/factories.js';
import { HttpClient, until } from '../helpers/server.js';
import { type TestSocket, connectSocket, connected, newCommandId } from '../helpers/socket.js';
import { pgTestSql } from '../helpers/sql.js';
import { testDatabaseUrl } from '../helpers/test-db.js';

const LEASE_MS = 1500;
/** The sweep runs every 0.5–1.5 lease lengths. */
const SWEEP_MAX_MS = LEASE_MS * 1.5;

/**
 * A timed vote whose owner node dies closes on time although no client comes back (issue #18): the other
 * node's sweep takes the meeting whose lease expired and resumes its timers, or closes at once a vote whose
 * deadline passed while no node ran the meeting. Two nodes as child processes on one PostgreSQL database.
 */
describe('timed votes of a dead owner', () => {
  let url: string;
  const nodes: ChildServer[] = [];
  const sockets: TestSocket[] = [];
  const tablet = async (node: ChildServer, http: HttpClient) => {
    const t = await connected(connectSocket(node.url, http, { reconnection: false }));
    sockets.push(t);
    return t;
  };
  const via = (node: ChildServer, c: HttpClient) => {
    const x = new HttpClient(node.url);
    x.cookie = c.cookie;
    return x;
  };
  const down = new Set<ChildServer>();
  const allUp = async () => {
    for (const n of nodes) n.resume();
    for (const n of down) await n.start();
    down.clear();
  };
  const sql = () => pgTestSql(url);
  const voteRow = async (voteId: number) =>
    (await sql().all<{ state: string; closes_at: string }>('SELECT state, closes_at FROM votes WHERE id = ?', voteId))[0];
  const closedAudits = async (voteId: number) => Number(await sql().value("SELECT count(*) FROM audit_log WHERE action = 'vote.closed' AND target_id = ?", String(voteId)));

  beforeAll(async () => {
    url = (await testDatabaseUrl(fs.mkdtempSync(path.join(os.tmpdir(), 'ecabinet-sweep-'))))!;
    nodes.push(...(await startChildNodes(['n1', 'n2'], { ECABINET_MEETING_LEASE_MS: String(LEASE_MS), DATABASE_URL: url })));
  }, 400_000);
  afterAll(async () => {
    for (const s of sockets) s.close();
    for (const n of nodes) {
      n.resume();
      await n.dispose();
    }
  });

  /** A live meeting run by `node`, its members checked in, and an open secret vote of 10 s with one ballot cast. */
  async function timedVote(node: ChildServer) {
    const m = await buildMeetingOn(node, { members: 3, agendaItems: 1 });
    const secretary = await m.as('secretary');
    const chairHttp = await m.as('chair');
    const chair = await tablet(node, chairHttp);
    const sec = await tablet(node, secretary);
    expect(await chair.cmd('meeting:join', { meetingId: m.meetingId })).toMatchObject({ ok: true });
    for (const u of m.members) expect(await sec.cmd('attendance:check_in', { meetingId: m.meetingId, userId: u.id, mode: 'in_room', commandId: newCommandId() })).toMatchObject({ ok: true });
    expect(await chair.cmd('meeting:open', { meetingId: m.meetingId, commandId: newCommandId() })).toMatchObject({ ok: true });
    const created = await secretary.post(`/api/meetings/${m.meetingId}/votes`, { title: 'Biểu quyết có thời hạn', kind: 'motion', secret: false, durationSeconds: 10 });
    expect(created.status).toBe(201);
    const voteId = created.body.id as number;
    expect(await chair.cmd('vote:open', { voteId, commandId: newCommandId() })).toMatchObject({ ok: true });
    const voter = await tablet(node, await m.login(m.members[0]));
    expect(await voter.cmd('vote:cast', { voteId, choices: [0], commandId: newCommandId() })).toMatchObject({ ok: true });
    for (const s of [chair, sec, voter]) s.close();
    return { m, voteId, chairHttp };
  }

  it('kill -9 of the owner, no client reconnects: the other node takes the meeting and closes the vote at its deadline, once; a client joining later sees it closed', { timeout: 120_000 }, async () => {
    const [n1, n2] = nodes;
    await allUp();
    const { m, voteId, chairHttp } = await timedVote(n1);
    await n1.kill9();
    down.add(n1);
    const deadline = Date.parse((await voteRow(voteId)).closes_at);
    await until(async () => (await voteRow(voteId)).state !== 'open', { timeout: 60_000, interval: 100, what: 'the vote closed by itself' });
    const closedAt = Date.now();
    expect((await voteRow(voteId)).state).toBe('closed');
    // At its deadline: the lease expired (≤ LEASE_MS after the kill, well before the deadline) and the sweep
    // took the meeting and scheduled the close; the slack is for a loaded machine.
    expect(closedAt - deadline).toBeLessThan(LEASE_MS + SWEEP_MAX_MS + 3000);
    expect(await closedAudits(voteId)).toBe(1);
    expect(await sql().all('SELECT node_id FROM meeting_owners WHERE meeting_id = ?', m.meetingId)).toEqual([{ node_id: 'n2' }]);

    const chair = await tablet(n2, via(n2, chairHttp));
    const joined = (await chair.cmd('meeting:join', { meetingId: m.meetingId })) as { ok: boolean; data: { snapshot: { votes: { votes: { id: number; state: string; voted: number }[] } } } };
    expect(joined.ok).toBe(true);
    expect(joined.data.snapshot.votes.votes.find((v) => v.id === voteId)).toMatchObject({ state: 'closed', voted: 1 });
  });

  it('a deadline that passed while no node ran the meeting: the first node back closes the vote at once, once', { timeout: 120_000 }, async () => {
    const [n1, n2] = nodes;
    await allUp();
    const { voteId, m } = await timedVote(n1);
    // The other node frozen: nobody runs the meeting when its owner dies, until past the deadline.
    n2.pause();
    try {
      await n1.kill9();
      down.add(n1);
      const deadline = Date.parse((await voteRow(voteId)).closes_at);
      await new Promise((r) => setTimeout(r, Math.max(0, deadline - Date.now()) + 500));
      expect((await voteRow(voteId)).state).toBe('open');
      n2.resume();
      const woke = Date.now();
      await until(async () => (await voteRow(voteId)).state !== 'open', { timeout: 30_000, interval: 100, what: 'the overdue vote closed' });
      expect(Date.now() - woke).toBeLessThan(SWEEP_MAX_MS + 3000);
      expect((await voteRow(voteId)).state).toBe('closed');
      expect(await closedAudits(voteId)).toBe(1);
      expect(await sql().all('SELECT node_id FROM meeting_owners WHERE meeting_id = ?', m.meetingId)).toEqual([{ node_id: 'n2' }]);
    } finally {
      n2.resume();
    }
  });
});
