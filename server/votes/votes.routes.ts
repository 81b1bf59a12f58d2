import { IdParams } from '../../shared/protocol/common.js';
import { CreateVoteBody, DelegationList, ReceiptList, VoteList, VoteSettings, VoteSettingsBody, VoteView } from '../../shared/protocol/votes.js';
import type { AppContext } from '../context.js';
import { committees, meetings, voteCommitteeSettings } from '../db/tables.js';
import { audit } from '../audit/audit.repo.js';
import { forbidden, notFound } from '../http/errors.js';
import { isCommitteeSecretary, meetingAccess } from '../meetings/meetings.access.js';
import { and, eq, inArray } from 'drizzle-orm';
import { voteCsv, votePdf } from './votes.export.js';
import { committeeVoteSettings } from './votes.rules.js';
import { votesOf } from './votes.service.js';

/** Votes over REST: preparing a vote in advance, reading results, receipts and exports. */
export function voteRoutes(ctx: AppContext): void {
  const { api, store } = ctx;
  const svc = votesOf(ctx);
  const tags = ['votes'];
  api.route(
    { method: 'post', path: '/api/meetings/:id/votes', summary: 'Prepare a vote (draft) in a meeting', tags, access: 'user', params: IdParams, body: CreateVoteBody, response: VoteView, status: 201 },
    ({ user, params, body }) => svc.create(user, params.id, body),
  );
  api.route(
    { method: 'get', path: '/api/meetings/:id/votes', summary: 'Votes of a meeting', tags, access: 'user', params: IdParams, response: VoteList },
    async ({ user, params }) => ({ votes: await svc.list(user, params.id) }),
  );
  api.route({ method: 'get', path: '/api/votes/:id', summary: 'One vote, with its result once closed', tags, access: 'user', params: IdParams, response: VoteView }, ({ user, params }) =>
    svc.get(user, params.id),
  );
  api.route(
    { method: 'get', path: '/api/votes/:id/receipts', summary: 'Secret vote, after close: every receipt key with its choice', tags, access: 'user', params: IdParams, response: ReceiptList },
    ({ user, params }) => svc.receipts(user, params.id),
  );
  api.route(
    { method: 'get', path: '/api/votes/:id/export.csv', summary: 'The record of a vote as CSV', tags, access: 'user', params: IdParams, responseContentType: 'text/csv' },
    async ({ user, params, res }) => {
      const v = await svc.get(user, params.id);
      const csv = await voteCsv(store, v);
      res.setHeader('content-type', 'text/csv; charset=utf-8');
      res.setHeader('content-disposition', `attachment; filename="vote-${v.id}.csv"`);
      res.send(csv);
    },
  );
  api.route(
    { method: 'get', path: '/api/votes/:id/export.pdf', heavy: true, summary: 'The record of a vote as PDF', tags, access: 'user', params: IdParams, responseContentType: 'application/pdf' },
    async ({ user, params, res }) => {
      const v = await svc.get(user, params.id);
      const pdf = await votePdf(ctx, v);
      res.setHeader('content-type', 'application/pdf');
      res.setHeader('content-disposition', `attachment; filename="vote-${v.id}.pdf"`);
      res.send(pdf);
    },
  );
  api.route(
    { method: 'get', path: '/api/meetings/:id/delegations', summary: 'Vote delegations in a meeting (chair: all; others: their own)', tags, access: 'user', params: IdParams, response: DelegationList },
    async ({ user, params }) => {
      const a = await meetingAccess(store, user, params.id);
      return { delegations: await svc.delegations(params.id, user, a.canChair), delegatorMayVote: (await committeeVoteSettings(store, a.meeting.committeeId)).delegatorMayVote };
    },
  );
  /** Admins and the committee's secretaries set a committee's voting rules. */
  const settingsCommittee = async (user: { id: number; systemRole: string }, id: number, write: boolean) => {
    const [c] = await store.q.select().from(committees).where(eq(committees.id, id)).limit(1);
    if (!c) throw notFound('Committee');
    if (write && user.systemRole !== 'admin' && !(await isCommitteeSecretary(store, user.id, c.id))) throw forbidden('Only the committee secretary may change this');
    return c;
  };
  api.route(
    { method: 'get', path: '/api/committees/:id/vote-settings', summary: 'A committee’s voting rules (majority, proxies)', tags, access: 'user', params: IdParams, response: VoteSettings },
    async ({ user, params }) => committeeVoteSettings(store, (await settingsCommittee(user, params.id, false)).id),
  );
  api.route(
    { method: 'put', path: '/api/committees/:id/vote-settings', summary: 'Set some of a committee’s voting rules', tags, access: 'user', params: IdParams, body: VoteSettingsBody, response: VoteSettings },
    async ({ user, params, body }) => {
      const c = await settingsCommittee(user, params.id, true);
      const next = { ...(await committeeVoteSettings(store, c.id)), ...body };
      // The proxy and substitute rules are read live by the meeting's quorum and eligibility (like a delegation
      // or a paper authorization recorded mid-vote), and an open vote keeps them in its working state on the
      // meeting's owner: every live meeting of the committee is told, so the owner — any node of a cluster,
      // through the outbox — re-reads them for its open votes and the room's quorum at once, and the rules an open
      // vote counts by never depend on which node runs it or whether it failed over. A vote's majority and quorum
      // are its own (fixed when it was prepared): a change of the committee's default majority is for votes prepared later.
      const live = await store.tx(async (q) => {
        await q
          .insert(voteCommitteeSettings)
          .values({ committeeId: c.id, ...next })
          .onConflictDoUpdate({ target: voteCommitteeSettings.committeeId, set: next });
        await audit(q, { actorId: user.id, action: 'vote.settings_changed', targetType: 'committee', targetId: c.id, details: body });
        const ms = await q.select({ id: meetings.id }).from(meetings).where(and(eq(meetings.committeeId, c.id), inArray(meetings.status, ['live', 'paused'])));
        for (const m of ms) await ctx.bus.share(q, 'meeting:changed', { meetingId: m.id });
        return ms;
      });
      for (const m of live) ctx.bus.emit('meeting:changed', { meetingId: m.id });
      return next;
    },
  );
}
