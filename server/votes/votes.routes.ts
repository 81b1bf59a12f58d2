import { IdParams } from '../../shared/protocol/common.js';
import { CreateVoteBody, DelegationList, ReceiptList, VoteList, VoteSettings, VoteSettingsBody, VoteView } from '../../shared/protocol/votes.js';
import type { AppContext } from '../context.js';
import { tx } from '../db/client.js';
import { committees, voteCommitteeSettings } from '../db/schema/index.js';
import { audit } from '../audit/audit.repo.js';
import { forbidden, notFound } from '../http/errors.js';
import { isCommitteeSecretary, meetingAccess } from '../meetings/meetings.access.js';
import { eq } from 'drizzle-orm';
import { voteCsv, votePdf } from './votes.export.js';
import { committeeVoteSettings } from './votes.rules.js';
import { votesOf } from './votes.service.js';

/** Votes over REST: preparing a vote in advance, reading results, receipts and exports. */
export function voteRoutes(ctx: AppContext): void {
  const { api, db } = ctx;
  const svc = votesOf(ctx);
  const tags = ['votes'];
  api.route(
    { method: 'post', path: '/api/meetings/:id/votes', summary: 'Prepare a vote (draft) in a meeting', tags, access: 'user', params: IdParams, body: CreateVoteBody, response: VoteView, status: 201 },
    ({ user, params, body }) => svc.create(user, params.id, body),
  );
  api.route(
    { method: 'get', path: '/api/meetings/:id/votes', summary: 'Votes of a meeting', tags, access: 'user', params: IdParams, response: VoteList },
    ({ user, params }) => ({ votes: svc.list(user, params.id) }),
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
    ({ user, params, res }) => {
      const v = svc.get(user, params.id);
      res.setHeader('content-type', 'text/csv; charset=utf-8');
      res.setHeader('content-disposition', `attachment; filename="vote-${v.id}.csv"`);
      res.send(voteCsv(db, v));
    },
  );
  api.route(
    { method: 'get', path: '/api/votes/:id/export.pdf', heavy: true, summary: 'The record of a vote as PDF', tags, access: 'user', params: IdParams, responseContentType: 'application/pdf' },
    async ({ user, params, res }) => {
      const v = svc.get(user, params.id);
      const pdf = await votePdf(ctx, v);
      res.setHeader('content-type', 'application/pdf');
      res.setHeader('content-disposition', `attachment; filename="vote-${v.id}.pdf"`);
      res.send(pdf);
    },
  );
  api.route(
    { method: 'get', path: '/api/meetings/:id/delegations', summary: 'Vote delegations in a meeting (chair: all; others: their own)', tags, access: 'user', params: IdParams, response: DelegationList },
    ({ user, params }) => {
      const a = meetingAccess(db, user, params.id);
      return { delegations: svc.delegations(params.id, user, a.canChair), delegatorMayVote: committeeVoteSettings(db, a.meeting.committeeId).delegatorMayVote };
    },
  );
  /** Admins and the committee's secretaries set a committee's voting rules. */
  const settingsCommittee = (user: { id: number; systemRole: string }, id: number, write: boolean) => {
    const c = db.select().from(committees).where(eq(committees.id, id)).get();
    if (!c) throw notFound('Committee');
    if (write && user.systemRole !== 'admin' && !isCommitteeSecretary(db, user.id, c.id)) throw forbidden('Only the committee secretary may change this');
    return c;
  };
  api.route(
    { method: 'get', path: '/api/committees/:id/vote-settings', summary: 'A committee’s voting rules (majority, proxies)', tags, access: 'user', params: IdParams, response: VoteSettings },
    ({ user, params }) => committeeVoteSettings(db, settingsCommittee(user, params.id, false).id),
  );
  api.route(
    { method: 'put', path: '/api/committees/:id/vote-settings', summary: 'Set some of a committee’s voting rules', tags, access: 'user', params: IdParams, body: VoteSettingsBody, response: VoteSettings },
    ({ user, params, body }) => {
      const c = settingsCommittee(user, params.id, true);
      const next = { ...committeeVoteSettings(db, c.id), ...body };
      tx(db, (d) => {
        d.insert(voteCommitteeSettings)
          .values({ committeeId: c.id, ...next })
          .onConflictDoUpdate({ target: voteCommitteeSettings.committeeId, set: next })
          .run();
        audit(d, { actorId: user.id, action: 'vote.settings_changed', targetType: 'committee', targetId: c.id, details: body });
      });
      return next;
    },
  );
}
