import { and, eq } from 'drizzle-orm';
import type { types as MsTypes } from 'mediasoup';
import type { AuthUser } from '../auth/sessions.js';
import type { Db } from '../db/client.js';
import { roomStations, meetings } from '../db/schema/index.js';
import { AppError, forbidden, notFound } from '../http/errors.js';
import type { Logger } from '../log.js';
import { type MeetingAccess, meetingAccess } from '../meetings/meetings.access.js';
import {
  AV_LIMITS,
  type AvConsumeAck,
  type AvFloorState,
  type AvJoinAck,
  type AvPeerInfo,
  type AvProducerInfo,
  type AvPushes,
  type AvTransportAck,
  type DtlsParameters,
  type MediaKind,
  type MediaSource,
  type RtpCapabilities,
  type RtpParameters,
} from '../../shared/protocol/av.js';
import { MEDIA_CODECS, type SfuConfig } from './sfu.config.js';
import { type Mediasoup, type Worker, WorkerPool } from './workers.js';

type Router = MsTypes.Router;
type WebRtcTransport = MsTypes.WebRtcTransport;
type Producer = MsTypes.Producer;
type Consumer = MsTypes.Consumer;
type AudioLevelObserver = MsTypes.AudioLevelObserver;

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

/** A/V is available only while the meeting can be attended. */
const AV_STATUSES = new Set(['published', 'live', 'paused']);

class Peer {
  readonly transports = new Map<string, WebRtcTransport>();
  readonly producers = new Map<string, Producer>();
  readonly consumers = new Map<string, Consumer>();
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

class Room {
  readonly peers = new Map<string, Peer>();
  activeSpeaker: number | null = null;
  closed = false;
  constructor(
    readonly meetingId: number,
    readonly worker: Worker,
    readonly router: Router,
    readonly observer: AudioLevelObserver,
  ) {}
  producer(producerId: string): { peer: Peer; producer: Producer } | undefined {
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

/** The floor as the SFU enforces it; survives router re-creation (worker death). */
class Floor {
  speakerUserId: number | null = null;
  openDiscussion = false;
  readonly chairMuted = new Set<number>();
}

/** Counts and ids, for /healthz, tests and benchmarks. */
export interface SfuStats {
  workers: number[];
  rooms: { meetingId: number; workerPid: number; routerId: string; users: number[]; peers: number; transports: number; producers: number; consumers: number }[];
}

/**
 * The SFU: one mediasoup router per meeting with A/V, WebRTC transports per participant, and the
 * floor rules that decide which microphones the server lets through.
 *
 * Microphone rule (server-side `producer.pause()`, so a modified client cannot be heard): an audio
 * producer flows only when its owner is the room station, holds the floor, or open discussion is
 * on — and the chair has not muted them, and they have not muted themselves. Receive-only peers
 * (tablets in the room) cannot produce at all.
 */
export class Sfu {
  private readonly rooms = new Map<number, Room>();
  private readonly creating = new Map<number, Promise<Room>>();
  private readonly floors = new Map<number, Floor>();
  private readonly pool: WorkerPool | null;
  private closed = false;

  constructor(
    private readonly db: Db,
    private readonly log: Logger,
    readonly config: SfuConfig,
    ms: Mediasoup | null,
    /** Called with a reason when the SFU becomes unusable (no worker can be spawned). */
    private readonly onDisabled: (reason: string) => void = () => {},
    /** Who holds the floor now (the speakers' list), read when a meeting's A/V starts. */
    private readonly currentSpeaker: (meetingId: number) => number | null = () => null,
  ) {
    this.pool = ms ? new WorkerPool(ms, config, log, (w) => void this.recoverWorker(w)) : null;
  }

  get enabled(): boolean {
    return this.pool !== null && !this.closed;
  }

  // ------------------------------------------------------------------------------------------
  // Commands. Each takes the caller's link and the parsed payload; throws AppError on refusal.

  /** `av:join`: enters (or re-enters, resetting one's media) the meeting's A/V. */
  async join(link: PeerLink, access: MeetingAccess, receiveOnly: boolean): Promise<AvJoinAck> {
    const meetingId = access.meeting.id;
    if (!AV_STATUSES.has(access.meeting.status)) throw new AppError('invalid_state', 'Audio/video opens when the meeting is published', 409);
    let room = await this.room(meetingId);
    // The last participant may have left (closing the router) while this join waited for it.
    if (room.closed) room = await this.room(meetingId);
    const old = room.peers.get(link.socketId);
    if (old) this.closePeer(room, old, false, true);
    if (!link.connected()) throw new AppError('not_joined', 'Disconnected', 409);
    const station = !!access.meeting.roomId && this.isRoomStation(link.user.id, access.meeting.roomId);
    const peer = new Peer(link, station, receiveOnly);
    room.peers.set(link.socketId, peer);
    room.pushAll('av:peerJoined', peer.info(), peer);
    const producers: AvProducerInfo[] = [];
    for (const p of room.peers.values()) if (p.userId !== peer.userId) for (const pr of p.producers.values()) producers.push(producerInfo(pr));
    return {
      routerRtpCapabilities: room.router.rtpCapabilities,
      userId: link.user.id,
      roomStation: station,
      receiveOnly,
      canChair: access.canChair,
      peers: [...room.peers.values()].filter((p) => p !== peer).map((p) => p.info()),
      producers,
      floor: this.floorState(meetingId),
      activeSpeakerUserId: room.activeSpeaker,
    };
  }

  /** `av:createTransport`: a WebRTC transport for sending or receiving. */
  async createTransport(link: PeerLink, meetingId: number, direction: 'send' | 'recv'): Promise<AvTransportAck> {
    const { room, peer } = this.peer(link, meetingId);
    if (direction === 'send' && peer.receiveOnly) throw receiveOnlyError();
    limit(peer.transports.size + peer.pending.transports, AV_LIMITS.transports, 'transports');
    peer.pending.transports++;
    let transport: WebRtcTransport;
    try {
      transport = await room.router.createWebRtcTransport({
        listenIps: [{ ip: this.config.listenIp, announcedIp: this.config.announcedIp }],
        enableUdp: true,
        enableTcp: this.config.enableTcp,
        preferUdp: true,
        initialAvailableOutgoingBitrate: 600_000,
        appData: { direction, userId: peer.userId },
      });
    } finally {
      peer.pending.transports--;
    }
    if (peer.closed || !link.connected()) {
      transport.close();
      throw new AppError('not_joined', 'Left the meeting during negotiation', 409);
    }
    peer.transports.set(transport.id, transport);
    transport.on('dtlsstatechange', (state) => {
      if (state === 'failed' || state === 'closed') this.closeTransport(peer, transport);
    });
    transport.observer.once('close', () => peer.transports.delete(transport.id));
    return { id: transport.id, direction, iceParameters: transport.iceParameters, iceCandidates: transport.iceCandidates, dtlsParameters: transport.dtlsParameters };
  }

  /** `av:connectTransport`: the browser's DTLS parameters. */
  async connectTransport(link: PeerLink, meetingId: number, transportId: string, dtlsParameters: DtlsParameters): Promise<Record<string, never>> {
    const { peer } = this.peer(link, meetingId);
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
  async produce(link: PeerLink, meetingId: number, transportId: string, kind: MediaKind, source: MediaSource, rtpParameters: RtpParameters) {
    const { room, peer } = this.peer(link, meetingId);
    if (peer.receiveOnly) throw receiveOnlyError();
    const transport = peer.transports.get(transportId);
    if (!transport) throw notFound('Transport');
    if (transport.appData.direction !== 'send') throw new AppError('invalid_state', 'Produce on a send transport', 409);
    if ((source === 'mic') !== (kind === 'audio')) throw new AppError('invalid_payload', 'A microphone sends audio, a camera video', 400);
    for (const p of peer.producers.values()) if (p.appData.source === source) throw new AppError('conflict', `Already sending a ${source}`, 409);
    limit(peer.producers.size + peer.pending.producers, AV_LIMITS.producers, 'producers');
    peer.pending.producers++;
    let producer: Producer;
    try {
      producer = await transport.produce({
        kind,
        rtpParameters: rtpParameters as MsTypes.RtpParameters,
        // Never let a microphone through for even one packet before the floor rule says so.
        paused: kind === 'audio' ? !this.micOpen(meetingId, peer) : false,
        appData: { userId: peer.userId, source },
      });
    } catch (err) {
      throw new AppError('invalid_rtp_parameters', `RTP parameters refused: ${errMessage(err)}`, 400);
    } finally {
      peer.pending.producers--;
    }
    if (peer.closed || !link.connected() || transport.closed) {
      producer.close();
      throw new AppError('not_joined', 'Left the meeting during negotiation', 409);
    }
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
  closeProducer(link: PeerLink, meetingId: number, producerId: string): Record<string, never> {
    const { peer } = this.peer(link, meetingId);
    const producer = peer.producers.get(producerId);
    if (!producer) throw notFound('Producer');
    producer.close();
    return {};
  }

  /** `av:consume`: receive a remote producer of the same meeting, created paused. */
  async consume(link: PeerLink, meetingId: number, transportId: string, producerId: string, rtpCapabilities: RtpCapabilities): Promise<AvConsumeAck> {
    const { room, peer } = this.peer(link, meetingId);
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
    let consumer: Consumer;
    try {
      consumer = await transport.consume({ producerId, rtpCapabilities: caps, paused: true, appData: { userId: found.peer.userId } });
    } catch (err) {
      throw new AppError('cannot_consume', `Cannot receive this stream: ${errMessage(err)}`, 400);
    } finally {
      peer.pending.consumers--;
    }
    if (peer.closed || !link.connected() || transport.closed) {
      consumer.close();
      throw new AppError('not_joined', 'Left the meeting during negotiation', 409);
    }
    peer.consumers.set(consumer.id, consumer);
    consumer.observer.once('close', () => peer.consumers.delete(consumer.id));
    consumer.on('producerclose', () => {
      peer.consumers.delete(consumer.id);
      if (!peer.closed) peer.link.push(meetingId, 'av:consumerClosed', { consumerId: consumer.id, producerId });
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

  /** `av:resume` / `av:pause` of one of the caller's consumers. */
  async setConsumerPaused(link: PeerLink, meetingId: number, consumerId: string, paused: boolean): Promise<Record<string, never>> {
    const consumer = this.consumer(link, meetingId, consumerId);
    if (paused) await consumer.pause();
    else await consumer.resume();
    return {};
  }

  /** `av:setLayers`: the simulcast layer to receive (low-bandwidth mode). */
  async setLayers(link: PeerLink, meetingId: number, consumerId: string, spatialLayer: number): Promise<Record<string, never>> {
    const consumer = this.consumer(link, meetingId, consumerId);
    if (consumer.type === 'simulcast' || consumer.type === 'svc') await consumer.setPreferredLayers({ spatialLayer });
    return {};
  }

  /** `av:setMuted`: self mute. Unmuting takes effect only when the floor allows the caller to speak. */
  async setMuted(link: PeerLink, meetingId: number, muted: boolean): Promise<{ micOpen: boolean }> {
    const { peer } = this.peer(link, meetingId);
    peer.selfMuted = muted;
    await this.applyFloor(meetingId);
    return { micOpen: this.micOpen(meetingId, peer) };
  }

  /** `av:leave`. */
  leave(link: PeerLink, meetingId: number): Record<string, never> {
    const { room, peer } = this.peer(link, meetingId);
    this.closePeer(room, peer, true);
    return {};
  }

  /** `av:mute` (chair): mute or release one participant's microphone. */
  async chairMute(access: MeetingAccess, userId: number, muted: boolean): Promise<AvFloorState> {
    if (!access.canChair) throw forbidden('Only the chair may mute participants');
    const floor = this.floor(access.meeting.id);
    if (muted) floor.chairMuted.add(userId);
    else floor.chairMuted.delete(userId);
    await this.applyFloor(access.meeting.id);
    return this.floorState(access.meeting.id);
  }

  /** `av:setOpenDiscussion` (chair). */
  async setOpenDiscussion(access: MeetingAccess, open: boolean): Promise<AvFloorState> {
    if (!access.canChair) throw forbidden('Only the chair may open the discussion');
    this.floor(access.meeting.id).openDiscussion = open;
    await this.applyFloor(access.meeting.id);
    return this.floorState(access.meeting.id);
  }

  // ------------------------------------------------------------------------------------------
  // Events from the rest of the server.

  /**
   * The speakers' list gave the floor to `userId` (or ended it: null). Granting the floor opens
   * that person's microphone wherever they are (it also lifts a chair mute and their self-mute).
   */
  async setSpeaker(meetingId: number, userId: number | null): Promise<void> {
    const floor = this.floor(meetingId);
    floor.speakerUserId = userId;
    if (userId !== null) {
      floor.chairMuted.delete(userId);
      for (const p of this.rooms.get(meetingId)?.peers.values() ?? []) if (p.userId === userId) p.selfMuted = false;
    }
    await this.applyFloor(meetingId);
  }

  /** A socket went away: release everything it held, in every meeting. */
  disconnect(socketId: string): void {
    for (const room of this.rooms.values()) {
      const peer = room.peers.get(socketId);
      if (peer) this.closePeer(room, peer, false);
    }
  }

  /**
   * Access to the meeting may have changed (participants removed, the meeting unpublished): every
   * peer whose user may no longer see the meeting (`meetingAccess`, checked now) is told
   * `av:reset { reason: 'access_revoked' }` and loses its transports at once — with them its
   * producers and consumers, and the consumers others had of its producers (mediasoup cascades) — on
   * every socket of that user. Returns how many peers were closed.
   */
  revokeAccess(meetingId: number): number {
    const room = this.rooms.get(meetingId);
    if (!room) return 0;
    const allowed = new Map<number, boolean>();
    let closed = 0;
    for (const peer of [...room.peers.values()]) {
      let ok = allowed.get(peer.userId);
      if (ok === undefined) {
        try {
          meetingAccess(this.db, peer.link.user, meetingId);
          ok = true;
        } catch {
          ok = false;
        }
        allowed.set(peer.userId, ok);
      }
      if (ok) continue;
      peer.link.push(meetingId, 'av:reset', { reason: 'access_revoked', rejoin: false });
      this.closePeer(room, peer, false);
      closed++;
    }
    if (closed) this.log.info({ meetingId, peers: closed }, 'A/V closed for participants who lost access');
    return closed;
  }

  /** The meeting was closed: tell its participants and release its router. */
  closeMeeting(meetingId: number): void {
    const room = this.rooms.get(meetingId);
    this.floors.delete(meetingId);
    if (!room) return;
    room.pushAll('av:reset', { reason: 'meeting_closed', rejoin: false });
    this.closeRoom(room);
  }

  /** Current floor as enforced. */
  floorState(meetingId: number): AvFloorState {
    const floor = this.floor(meetingId);
    const room = this.rooms.get(meetingId);
    const open = new Set<number>();
    for (const p of room?.peers.values() ?? []) if (this.micOpen(meetingId, p) && [...p.producers.values()].some((pr) => pr.kind === 'audio')) open.add(p.userId);
    return { speakerUserId: floor.speakerUserId, openDiscussion: floor.openDiscussion, chairMuted: [...floor.chairMuted], openMics: [...open] };
  }

  stats(): SfuStats {
    return {
      workers: this.pool?.list().map((w) => w.pid) ?? [],
      rooms: [...this.rooms.values()].map((r) => {
        const peers = [...r.peers.values()];
        const sum = (f: (p: Peer) => number) => peers.reduce((n, p) => n + f(p), 0);
        return {
          meetingId: r.meetingId,
          workerPid: r.worker.pid,
          routerId: r.router.id,
          users: [...new Set(peers.map((p) => p.userId))],
          peers: peers.length,
          transports: sum((p) => p.transports.size),
          producers: sum((p) => p.producers.size),
          consumers: sum((p) => p.consumers.size),
        };
      }),
    };
  }

  /** The mediasoup router of a meeting (tests and benchmarks inspect it with `dump()`). */
  router(meetingId: number): Router | undefined {
    return this.rooms.get(meetingId)?.router;
  }

  /** Workers in the pool (tests kill one to check recovery). */
  workers(): Worker[] {
    return this.pool?.list() ?? [];
  }

  close(): void {
    this.closed = true;
    for (const room of [...this.rooms.values()]) this.closeRoom(room);
    this.pool?.close();
  }

  // ------------------------------------------------------------------------------------------

  private floor(meetingId: number): Floor {
    let f = this.floors.get(meetingId);
    if (!f) {
      this.floors.set(meetingId, (f = new Floor()));
      f.speakerUserId = this.currentSpeaker(meetingId);
    }
    return f;
  }

  /** The microphone rule (see the class comment). */
  private micOpen(meetingId: number, peer: Peer): boolean {
    if (peer.receiveOnly || peer.selfMuted) return false;
    const floor = this.floor(meetingId);
    if (floor.chairMuted.has(peer.userId)) return false;
    return peer.roomStation || floor.openDiscussion || floor.speakerUserId === peer.userId;
  }

  /** Pauses or resumes every microphone of the meeting to match the floor, then tells everyone. */
  private async applyFloor(meetingId: number): Promise<void> {
    const room = this.rooms.get(meetingId);
    if (!room) return;
    const changes: Promise<void>[] = [];
    for (const peer of room.peers.values()) {
      const open = this.micOpen(meetingId, peer);
      for (const producer of peer.producers.values()) {
        if (producer.kind !== 'audio' || producer.closed || producer.paused === !open) continue;
        changes.push(
          (open ? producer.resume() : producer.pause()).then(
            () => room.pushAll('av:producerPaused', { producerId: producer.id, userId: peer.userId, paused: !open }),
            (err) => this.log.warn({ err, meetingId }, 'could not apply the floor to a producer'),
          ),
        );
      }
    }
    await Promise.all(changes);
    room.pushAll('av:floor', this.floorState(meetingId));
  }

  private isRoomStation(userId: number, roomId: number): boolean {
    return !!this.db
      .select({ u: roomStations.userId })
      .from(roomStations)
      .where(and(eq(roomStations.userId, userId), eq(roomStations.roomId, roomId)))
      .get();
  }

  private peer(link: PeerLink, meetingId: number): { room: Room; peer: Peer } {
    const room = this.rooms.get(meetingId);
    const peer = room?.peers.get(link.socketId);
    if (!room || !peer) throw new AppError('not_joined', 'Join the meeting’s audio/video first', 409);
    return { room, peer };
  }

  private consumer(link: PeerLink, meetingId: number, consumerId: string): Consumer {
    const consumer = this.peer(link, meetingId).peer.consumers.get(consumerId);
    if (!consumer) throw notFound('Consumer');
    return consumer;
  }

  /** The meeting's room, creating its router on a worker of the pool when needed. */
  private room(meetingId: number): Promise<Room> {
    if (!this.pool || this.closed) return Promise.reject(new AppError('sfu_disabled', 'Audio/video is not available on this server', 503));
    const existing = this.rooms.get(meetingId);
    if (existing) return Promise.resolve(existing);
    let p = this.creating.get(meetingId);
    if (!p) {
      p = this.createRoom(meetingId).finally(() => this.creating.delete(meetingId));
      this.creating.set(meetingId, p);
    }
    return p;
  }

  private async createRoom(meetingId: number): Promise<Room> {
    const pool = this.pool!;
    let worker: Worker;
    try {
      worker = await pool.acquire();
    } catch (err) {
      this.log.error({ err }, 'cannot start a mediasoup worker');
      this.onDisabled(`cannot start the mediasoup worker: ${errMessage(err)}`);
      throw new AppError('sfu_disabled', 'Audio/video is not available on this server', 503);
    }
    try {
      const router = await worker.createRouter({ mediaCodecs: MEDIA_CODECS });
      const observer = await router.createAudioLevelObserver({ maxEntries: 1, threshold: -65, interval: 500 });
      const room = new Room(meetingId, worker, router, observer);
      observer.on('volumes', (volumes) => {
        const userId = (volumes[0]?.producer.appData.userId as number | undefined) ?? null;
        if (userId !== room.activeSpeaker) {
          room.activeSpeaker = userId;
          room.pushAll('av:activeSpeaker', { userId });
        }
      });
      observer.on('silence', () => {
        if (room.activeSpeaker !== null) {
          room.activeSpeaker = null;
          room.pushAll('av:activeSpeaker', { userId: null });
        }
      });
      this.rooms.set(meetingId, room);
      return room;
    } catch (err) {
      pool.release(worker);
      throw err;
    }
  }

  private closeTransport(peer: Peer, transport: WebRtcTransport) {
    if (!transport.closed) transport.close();
    peer.transports.delete(transport.id);
  }

  /**
   * Closes one participant's media; their producers' consumers close with them (mediasoup cascades).
   * The router goes when the last participant does, unless `keepRoom` (a re-join replaces the peer).
   */
  private closePeer(room: Room, peer: Peer, tellSelf: boolean, keepRoom = false) {
    peer.closed = true;
    room.peers.delete(peer.link.socketId);
    for (const t of [...peer.transports.values()]) t.close();
    peer.transports.clear();
    if (tellSelf) peer.link.push(room.meetingId, 'av:reset', { reason: 'left', rejoin: false });
    if (![...room.peers.values()].some((p) => p.userId === peer.userId)) room.pushAll('av:peerLeft', { userId: peer.userId });
    if (room.peers.size === 0 && !keepRoom) this.closeRoom(room);
    else room.pushAll('av:floor', this.floorState(room.meetingId));
  }

  private closeRoom(room: Room) {
    if (room.closed) return;
    room.closed = true;
    if (this.rooms.get(room.meetingId) === room) this.rooms.delete(room.meetingId);
    for (const p of room.peers.values()) p.closed = true;
    room.peers.clear();
    room.router.close();
    this.pool?.release(room.worker);
  }

  /**
   * A worker died: its routers, transports, producers and consumers are gone. Every affected
   * meeting gets a new router on a live (or new) worker, and its participants are told to re-join;
   * the floor state is kept.
   */
  private async recoverWorker(worker: Worker) {
    const affected = [...this.rooms.values()].filter((r) => r.worker === worker);
    for (const room of affected) {
      room.closed = true;
      this.rooms.delete(room.meetingId);
      const peers = [...room.peers.values()];
      room.peers.clear();
      for (const p of peers) p.closed = true;
      try {
        await this.room(room.meetingId);
      } catch (err) {
        this.log.error({ err, meetingId: room.meetingId }, 'could not re-create the router after a worker died');
      }
      for (const p of peers) p.link.push(room.meetingId, 'av:reset', { reason: 'worker_died', rejoin: true });
      this.log.warn({ meetingId: room.meetingId, peers: peers.length }, 'meeting A/V recovered on a new worker');
    }
  }

  /** Reads the meeting's status (for the bus subscription). */
  meetingStatus(meetingId: number): string | undefined {
    return this.db.select({ s: meetings.status }).from(meetings).where(eq(meetings.id, meetingId)).get()?.s;
  }
}

function producerInfo(p: Producer): AvProducerInfo {
  return { producerId: p.id, userId: p.appData.userId as number, kind: p.kind, source: p.appData.source as MediaSource, paused: p.paused };
}

function limit(used: number, max: number, what: string) {
  if (used >= max) throw new AppError('limit_exceeded', `At most ${max} ${what} per participant`, 429);
}

function receiveOnlyError() {
  return new AppError('receive_only', 'This device joined to listen only', 403);
}

/** A mediasoup error message, bounded (it never contains secrets, but may echo client input). */
function errMessage(err: unknown): string {
  return String((err as Error)?.message ?? err).slice(0, 200);
}
