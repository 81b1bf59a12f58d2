import { VOTE_COMMANDS } from '../../shared/protocol/votes.js';
import type { SocketDomain } from '../context.js';
import { votesOf } from './votes.service.js';

/**
 * Vote commands on the Socket.IO hub (the votes module's `socket`, server/votes/index.ts). Every command goes
 * through the hub's wrapper (validation, rate limit, commandId dedupe); handlers only translate.
 * Never log a ballot's choices or receipt.
 */
export const votesSocket: SocketDomain = (hub, ctx) => {
  const svc = votesOf(ctx);
  svc.publisher = hub; // its typed broadcast/toUser
  hub.onPresence((meetingId) => svc.presenceChanged(meetingId));
  ctx.bus.on('meeting:changed', ({ meetingId }) => {
    svc.refreshMeeting(meetingId).catch((err: unknown) => ctx.log.error({ err, meetingId }, 'could not refresh the open votes of a meeting'));
  });
  hub.commands(VOTE_COMMANDS, {
    'vote:create': async ({ meetingId, vote }, c) => ({ vote: await svc.create(c.user, meetingId, vote) }),
    'vote:open': async ({ voteId, overrideReason }, c) => ({ vote: await svc.openVote(c.user, voteId, overrideReason) }),
    'vote:extend': async ({ voteId, seconds }, c) => ({ vote: await svc.extend(c.user, voteId, seconds) }),
    'vote:close': async ({ voteId }, c) => ({ vote: await svc.close(c.user, voteId) }),
    'vote:announce': async ({ voteId, castingVote }, c) => ({ vote: await svc.announce(c.user, voteId, castingVote) }),
    'vote:annul': async ({ voteId, reason }, c) => ({ vote: await svc.annul(c.user, voteId, reason) }),
    'vote:rerun': async ({ voteId }, c) => ({ vote: await svc.rerun(c.user, voteId) }),
    'vote:bloc_pull': async ({ voteId, agendaItemId }, c) => ({ vote: await svc.pullFromBloc(c.user, voteId, agendaItemId) }),
    // The acknowledgement is committed with the ballot, in its batch, whose statement also finds a retry of an
    // answered commandId: a retry after a crash gets the original, and a new ballot waits for no look-up.
    'vote:cast': (p, c) => svc.cast(c.user, p, c.takeAck()),
    'vote:mine': ({ voteId }, c) => svc.mine(c.user, voteId),
    'vote:delegate': async ({ meetingId, toUserId }, c) => ({ delegation: await svc.delegate(c.user, meetingId, toUserId) }),
  }, { checksOwnRetry: ['vote:cast'] });
  hub.snapshot('votes', async (meetingId, access, user) => {
    const votes = await svc.views(await svc.listRows(meetingId));
    return { votes, delegations: await svc.delegations(meetingId, user, access.canChair) };
  });
  // Timers, refused late ballots and the WAL descriptor end with the server (after the HTTP server closed);
  // the queued ballots were committed before, by the module's `stop` (server/votes/index.ts).
  return () => svc.stop();
};
