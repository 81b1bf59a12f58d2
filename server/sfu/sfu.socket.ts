import type { Socket } from 'socket.io';
import { AV_COMMANDS, type AvPushes } from '../../shared/protocol/av.js';
import type { Push } from '../../shared/protocol/realtime.js';
import type { AuthUser } from '../auth/sessions.js';
import type { RealtimeHub } from '../realtime/hub.js';
import type { PeerLink } from './sfu.peers.js';
import type { Sfu } from './sfu.service.js';

/** The SFU's view of one socket: pushes go to that socket alone, in the hub's envelope (`seq: null`). */
export function linkOf(socket: Socket, user: AuthUser, epoch: string): PeerLink {
  return {
    socketId: socket.id,
    user,
    push<E extends keyof AvPushes>(meetingId: number, event: E, data: AvPushes[E]) {
      const push: Push<AvPushes[E]> = { meetingId, epoch, seq: null, data };
      socket.emit(event, push);
    },
    connected: () => socket.connected,
  };
}

/**
 * Registers the A/V commands on the hub (validation, rate limit and error funnel come from its
 * wrapper) and releases a socket's media when it disconnects. Every command re-checks that the
 * meeting is visible to the caller (`not_found` otherwise), so revoked access stops signaling too.
 */
export function registerAvSocket(hub: RealtimeHub, sfu: Sfu): void {
  const link = (c: { socket: Socket; user: AuthUser }) => linkOf(c.socket, c.user, hub.epoch);
  hub.commands(AV_COMMANDS, {
    'av:join': ({ meetingId, receiveOnly }, c) => sfu.join(link(c), c.access(meetingId), receiveOnly),
    'av:createTransport': ({ meetingId, direction }, c) => (c.access(meetingId), sfu.createTransport(link(c), meetingId, direction)),
    'av:connectTransport': ({ meetingId, transportId, dtlsParameters }, c) => (c.access(meetingId), sfu.connectTransport(link(c), meetingId, transportId, dtlsParameters)),
    'av:produce': ({ meetingId, transportId, kind, source, rtpParameters }, c) =>
      (c.access(meetingId), sfu.produce(link(c), meetingId, transportId, kind, source, rtpParameters)),
    'av:closeProducer': ({ meetingId, producerId }, c) => (c.access(meetingId), sfu.closeProducer(link(c), meetingId, producerId)),
    'av:consume': ({ meetingId, transportId, producerId, rtpCapabilities }, c) =>
      (c.access(meetingId), sfu.consume(link(c), meetingId, transportId, producerId, rtpCapabilities)),
    'av:resume': ({ meetingId, consumerId }, c) => (c.access(meetingId), sfu.setConsumerPaused(link(c), meetingId, consumerId, false)),
    'av:pause': ({ meetingId, consumerId }, c) => (c.access(meetingId), sfu.setConsumerPaused(link(c), meetingId, consumerId, true)),
    'av:setLayers': ({ meetingId, consumerId, spatialLayer }, c) => (c.access(meetingId), sfu.setLayers(link(c), meetingId, consumerId, spatialLayer)),
    'av:setMuted': ({ meetingId, muted }, c) => (c.access(meetingId), sfu.setMuted(link(c), meetingId, muted)),
    'av:leave': ({ meetingId }, c) => (c.access(meetingId), sfu.leave(link(c), meetingId)),
    'av:mute': ({ meetingId, userId, muted }, c) => sfu.chairMute(c.access(meetingId), userId, muted),
    'av:setOpenDiscussion': ({ meetingId, open }, c) => sfu.setOpenDiscussion(c.access(meetingId), open),
  });
  hub.io.on('connection', (socket) => {
    socket.on('disconnect', () => sfu.disconnect(socket.id));
  });
}
