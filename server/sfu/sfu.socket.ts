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
    'av:join': async ({ meetingId, receiveOnly }, c) => sfu.join(link(c), await c.access(meetingId), receiveOnly),
    'av:createTransport': async ({ meetingId, direction }, c) => (await c.access(meetingId), sfu.createTransport(link(c), meetingId, direction)),
    'av:connectTransport': async ({ meetingId, transportId, dtlsParameters }, c) => (await c.access(meetingId), sfu.connectTransport(link(c), meetingId, transportId, dtlsParameters)),
    'av:produce': async ({ meetingId, transportId, kind, source, rtpParameters }, c) =>
      (await c.access(meetingId), sfu.produce(link(c), meetingId, transportId, kind, source, rtpParameters)),
    'av:closeProducer': async ({ meetingId, producerId }, c) => (await c.access(meetingId), sfu.closeProducer(link(c), meetingId, producerId)),
    'av:consume': async ({ meetingId, transportId, producerId, rtpCapabilities }, c) =>
      (await c.access(meetingId), sfu.consume(link(c), meetingId, transportId, producerId, rtpCapabilities)),
    'av:resume': async ({ meetingId, consumerId }, c) => (await c.access(meetingId), sfu.setConsumerPaused(link(c), meetingId, consumerId, false)),
    'av:pause': async ({ meetingId, consumerId }, c) => (await c.access(meetingId), sfu.setConsumerPaused(link(c), meetingId, consumerId, true)),
    'av:setLayers': async ({ meetingId, consumerId, spatialLayer }, c) => (await c.access(meetingId), sfu.setLayers(link(c), meetingId, consumerId, spatialLayer)),
    'av:setMuted': async ({ meetingId, muted }, c) => (await c.access(meetingId), sfu.setMuted(link(c), meetingId, muted)),
    'av:leave': async ({ meetingId }, c) => (await c.access(meetingId), sfu.leave(link(c), meetingId)),
    'av:mute': async ({ meetingId, userId, muted }, c) => sfu.chairMute(await c.access(meetingId), userId, muted),
    'av:setOpenDiscussion': async ({ meetingId, open }, c) => sfu.setOpenDiscussion(await c.access(meetingId), open),
  });
  hub.io.on('connection', (socket) => {
    socket.on('disconnect', () => sfu.disconnect(socket.id));
  });
}
