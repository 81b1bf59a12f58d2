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
  ctx.bus.on('meeting:changed', ({ meetingId }) => svc.refreshMeeting(meetingId));
  svc.resumeTimers();
  hub.commands(VOTE_COMMANDS, {
    'vote:create': ({ meetingId, vote }, c) => ({ vote: svc.create(c.user, meetingId, vote) }),
    'vote:open': ({ voteId, overrideReason }, c) => ({ vote: svc.openVote(c.user, voteId, overrideReason) }),
    'vote:extend': ({ voteId, seconds }, c) => ({ vote: svc.extend(c.user, voteId, seconds) }),
    'vote:close': ({ voteId }, c) => ({ vote: svc.close(c.user, voteId) }),
    'vote:announce': ({ voteId, castingVote }, c) => ({ vote: svc.announce(c.user, voteId, castingVote) }),
    'vote:annul': ({ voteId, reason }, c) => ({ vote: svc.annul(c.user, voteId, reason) }),
    'vote:rerun': ({ voteId }, c) => ({ vote: svc.rerun(c.user, voteId) }),
    'vote:bloc_pull': ({ voteId, agendaItemId }, c) => ({ vote: svc.pullFromBloc(c.user, voteId, agendaItemId) }),
    'vote:cast': (p, c) => svc.cast(c.user, p),
    'vote:mine': ({ voteId }, c) => svc.mine(c.user, voteId),
    'vote:delegate': ({ meetingId, toUserId }, c) => ({ delegation: svc.delegate(c.user, meetingId, toUserId) }),
  });
  hub.snapshot('votes', (meetingId, access, user) => ({
    votes: svc.listRows(meetingId).map((r) => svc.view(r)),
    delegations: svc.delegations(meetingId, user, access.canChair),
  }));
  // Timers, the last ballot batch and the WAL descriptor end with the server (after the HTTP server closed).
  return () => svc.stop();
};
