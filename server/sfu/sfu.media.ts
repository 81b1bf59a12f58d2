import type { types as MsTypes } from 'mediasoup';
import { AppError, forbidden, notFound } from '../http/errors.js';
import { AV_LIMITS, type AvConsumeAck, type AvTransportAck, type DtlsParameters, type MediaKind, type MediaSource, type RtpCapabilities, type RtpParameters } from '../../shared/protocol/av.js';
import type { SfuConfig } from './sfu.config.js';
import type { FloorControl } from './sfu.floor.js';
import { type Peer, type PeerLink, type Room, errMessage, producerInfo, receiveOnlyError } from './sfu.peers.js';

/*
 * WebRTC media of one joined peer: its transports, what it sends (producers) and what it receives
 * (consumers), within AV_LIMITS. The SFU (server/sfu/sfu.service.ts) finds the caller's room and peer
 * and calls these; each throws an AppError on refusal. A peer that leaves while mediasoup negotiates gets
 * nothing: the new object is closed again.
 */

/** `av:createTransport`: a WebRTC transport for sending or receiving. */
export async function createTransport(room: Room, peer: Peer, link: PeerLink, config: SfuConfig, direction: 'send' | 'recv'): Promise<AvTransportAck> {
  if (direction === 'send' && peer.receiveOnly) throw receiveOnlyError();
  limit(peer.transports.size + peer.pending.transports, AV_LIMITS.transports, 'transports');
  peer.pending.transports++;
  let transport: MsTypes.WebRtcTransport;
  try {
    transport = await room.router.createWebRtcTransport({
      listenIps: [{ ip: config.listenIp, announcedIp: config.announcedIp }],
      enableUdp: true,
      enableTcp: config.enableTcp,
      preferUdp: true,
      initialAvailableOutgoingBitrate: 600_000,
      appData: { direction, userId: peer.userId },
    });
  } finally {
    peer.pending.transports--;
  }
  closeIfGone(peer, link, transport);
  peer.transports.set(transport.id, transport);
  transport.on('dtlsstatechange', (state) => {
    if (state === 'failed' || state === 'closed') closeTransport(peer, transport);
  });
  transport.observer.once('close', () => peer.transports.delete(transport.id));
  return { id: transport.id, direction, iceParameters: transport.iceParameters, iceCandidates: transport.iceCandidates, dtlsParameters: transport.dtlsParameters };
}

/** `av:connectTransport`: the browser's DTLS parameters. */
export async function connectTransport(peer: Peer, transportId: string, dtlsParameters: DtlsParameters): Promise<Record<string, never>> {
  const transport = peer.transports.get(transportId);
  if (!transport) throw notFound('Transport');
  if (transport.dtlsState !== 'new') throw new AppError('invalid_state', 'Transport already connected', 409);
  try {
    await transport.connect({ dtlsParameters });
  } catch (err) {
    throw new AppError('invalid_payload', `DTLS parameters refused: ${errMessage(err)}`, 400);
  }
  return {};
}

/** `av:produce`: the caller's microphone or camera. Audio starts paused unless the floor allows it. */
export async function produce(room: Room, peer: Peer, link: PeerLink, floor: FloorControl, transportId: string, kind: MediaKind, source: MediaSource, rtpParameters: RtpParameters) {
  if (peer.receiveOnly) throw receiveOnlyError();
  const transport = peer.transports.get(transportId);
  if (!transport) throw notFound('Transport');
  if (transport.appData.direction !== 'send') throw new AppError('invalid_state', 'Produce on a send transport', 409);
  if ((source === 'mic') !== (kind === 'audio')) throw new AppError('invalid_payload', 'A microphone sends audio, a camera video', 400);
  for (const p of peer.producers.values()) if (p.appData.source === source) throw new AppError('conflict', `Already sending a ${source}`, 409);
  limit(peer.producers.size + peer.pending.producers, AV_LIMITS.producers, 'producers');
  peer.pending.producers++;
  let producer: MsTypes.Producer;
  try {
    producer = await transport.produce({
      kind,
      rtpParameters: rtpParameters as MsTypes.RtpParameters,
      // Never let a microphone through for even one packet before the floor rule says so.
      paused: kind === 'audio' ? !floor.micOpen(room.meetingId, peer) : false,
      appData: { userId: peer.userId, source },
    });
  } catch (err) {
    throw new AppError('invalid_rtp_parameters', `RTP parameters refused: ${errMessage(err)}`, 400);
  } finally {
    peer.pending.producers--;
  }
  closeIfGone(peer, link, producer, transport);
  peer.producers.set(producer.id, producer);
  producer.observer.once('close', () => {
    peer.producers.delete(producer.id);
    if (!room.closed) room.pushAll('av:producerClosed', { producerId: producer.id }, peer);
  });
  if (kind === 'audio') room.observer.addProducer({ producerId: producer.id }).catch(() => {});
  room.pushAll('av:newProducer', producerInfo(producer), peer);
  return { id: producer.id, paused: producer.paused };
}

/** `av:closeProducer`: camera off (or microphone removed). */
export function closeProducer(peer: Peer, producerId: string): Record<string, never> {
  const producer = peer.producers.get(producerId);
  if (!producer) throw notFound('Producer');
  producer.close();
  return {};
}

/** `av:consume`: receive a remote producer of the same meeting, created paused. */
export async function consume(room: Room, peer: Peer, link: PeerLink, transportId: string, producerId: string, rtpCapabilities: RtpCapabilities): Promise<AvConsumeAck> {
  const transport = peer.transports.get(transportId);
  if (!transport) throw notFound('Transport');
  if (transport.appData.direction !== 'recv') throw new AppError('invalid_state', 'Consume on a receive transport', 409);
  const found = room.producer(producerId);
  if (!found) throw notFound('Producer');
  // One's own microphone played back on a second device is an echo; never forward it.
  if (found.peer.userId === peer.userId) throw forbidden('You cannot receive your own media');
  const caps = rtpCapabilities as MsTypes.RtpCapabilities;
  let ok = false;
  try {
    ok = room.router.canConsume({ producerId, rtpCapabilities: caps });
  } catch {
    ok = false;
  }
  if (!ok) throw new AppError('cannot_consume', 'Your device cannot receive this stream', 400);
  for (const c of peer.consumers.values()) if (c.producerId === producerId) throw new AppError('conflict', 'Already receiving this stream', 409);
  limit(peer.consumers.size + peer.pending.consumers, AV_LIMITS.consumers, 'consumers');
  peer.pending.consumers++;
  let consumer: MsTypes.Consumer;
  try {
    consumer = await transport.consume({ producerId, rtpCapabilities: caps, paused: true, appData: { userId: found.peer.userId } });
  } catch (err) {
    throw new AppError('cannot_consume', `Cannot receive this stream: ${errMessage(err)}`, 400);
  } finally {
    peer.pending.consumers--;
  }
  closeIfGone(peer, link, consumer, transport);
  peer.consumers.set(consumer.id, consumer);
  consumer.observer.once('close', () => peer.consumers.delete(consumer.id));
  consumer.on('producerclose', () => {
    peer.consumers.delete(consumer.id);
    if (!peer.closed) peer.link.push(room.meetingId, 'av:consumerClosed', { consumerId: consumer.id, producerId });
  });
  return {
    id: consumer.id,
    producerId,
    kind: consumer.kind,
    rtpParameters: consumer.rtpParameters,
    userId: found.peer.userId,
    source: found.producer.appData.source as MediaSource,
    producerPaused: consumer.producerPaused,
  };
}

/**
 * The peer left, its socket went or the transport closed while mediasoup negotiated: what was just
 * created is closed again and the command fails with not_joined.
 */
function closeIfGone(peer: Peer, link: PeerLink, created: { close(): void }, transport?: MsTypes.WebRtcTransport): void {
  if (peer.closed || !link.connected() || transport?.closed) {
    created.close();
    throw new AppError('not_joined', 'Left the meeting during negotiation', 409);
  }
}

function closeTransport(peer: Peer, transport: MsTypes.WebRtcTransport) {
  if (!transport.closed) transport.close();
  peer.transports.delete(transport.id);
}

function limit(used: number, max: number, what: string) {
  if (used >= max) throw new AppError('limit_exceeded', `At most ${max} ${what} per participant`, 429);
}
