import type { types as MsTypes } from 'mediasoup';
import type { AuthUser } from '../auth/sessions.js';
import { AppError } from '../http/errors.js';
import type { AvPeerInfo, AvProducerInfo, AvPushes, MediaSource } from '../../shared/protocol/av.js';
import type { Worker } from './workers.js';

/*
 * What the SFU keeps per meeting (a Room, with its router on one worker) and per participant's socket
 * (a Peer, with its transports, producers and consumers), and the small helpers every part of the SFU
 * (server/sfu/sfu.service.ts, sfu.media.ts, sfu.floor.ts) shares.
 */

/**
 * One participant's connection as the SFU sees it: who, which socket, and how to push to it.
 * The Socket.IO adapter (sfu.socket.ts) builds it; the service never touches a socket.
 */
export interface PeerLink {
  socketId: string;
  user: AuthUser;
  push<E extends keyof AvPushes>(meetingId: number, event: E, data: AvPushes[E]): void;
  /** False once the socket has gone (a command finishing after a disconnect must undo its work). */
  connected(): boolean;
}

/** One socket in a meeting's A/V. */
export class Peer {
  readonly transports = new Map<string, MsTypes.WebRtcTransport>();
  readonly producers = new Map<string, MsTypes.Producer>();
  readonly consumers = new Map<string, MsTypes.Consumer>();
  /** Requests in flight, counted against the limits so a burst cannot overshoot them. */
  readonly pending = { transports: 0, producers: 0, consumers: 0 };
  selfMuted = false;
  closed = false;
  constructor(
    readonly link: PeerLink,
    readonly roomStation: boolean,
    readonly receiveOnly: boolean,
  ) {}
  get userId() {
    return this.link.user.id;
  }
  info(): AvPeerInfo {
    return { userId: this.userId, fullName: this.link.user.fullName, roomStation: this.roomStation, receiveOnly: this.receiveOnly };
  }
}

/** A meeting's A/V: its router on one worker, the audio level observer, the peers. */
export class Room {
  readonly peers = new Map<string, Peer>();
  activeSpeaker: number | null = null;
  closed = false;
  constructor(
    readonly meetingId: number,
    readonly worker: Worker,
    readonly router: MsTypes.Router,
    readonly observer: MsTypes.AudioLevelObserver,
  ) {}
  producer(producerId: string): { peer: Peer; producer: MsTypes.Producer } | undefined {
    for (const peer of this.peers.values()) {
      const producer = peer.producers.get(producerId);
      if (producer) return { peer, producer };
    }
    return undefined;
  }
  pushAll<E extends keyof AvPushes>(event: E, data: AvPushes[E], except?: Peer) {
    for (const p of this.peers.values()) if (p !== except) p.link.push(this.meetingId, event, data);
  }
}

export function producerInfo(p: MsTypes.Producer): AvProducerInfo {
  return { producerId: p.id, userId: p.appData.userId as number, kind: p.kind, source: p.appData.source as MediaSource, paused: p.paused };
}

export function receiveOnlyError() {
  return new AppError('receive_only', 'This device joined to listen only', 403);
}

/** A mediasoup error message, bounded (it never contains secrets, but may echo client input). */
export function errMessage(err: unknown): string {
  return String((err as Error)?.message ?? err).slice(0, 200);
}
