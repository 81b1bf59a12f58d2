import { VOTE_COMMANDS } from '../../shared/protocol/votes.js';
import type { AppContext } from '../context.js';
import type { RealtimeHub } from '../realtime/hub.js';
import { votesOf } from './votes.service.js';

/**
 * Vote commands on the Socket.IO hub (registered in server/realtime/domains.ts). Every command goes
 * through the hub's wrapper (validation, rate limit, commandId dedupe); handlers only translate.
 * Never log a ballot's choices or receipt.
 */
export function votesSocket(hub: RealtimeHub, ctx: AppContext): void {
  const svc = votesOf(ctx);
  svc.publisher = {
    broadcast: (m, e, d, o) => hub.broadcast(m, e, d, o),
    toUser: (u, e, d) => hub.toUser(u, e, d),
  };
  hub.onPresence((meetingId) => svc.presenceChanged(meetingId));
  ctx.bus.on('meeting:changed', ({ meetingId }) => svc.refreshMeeting(meetingId));
  svc.resumeTimers();
  // Timers, the last ballot batch and the WAL descriptor end with the server.
  hub.io.httpServer?.once('close', () => svc.stop());
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
}
