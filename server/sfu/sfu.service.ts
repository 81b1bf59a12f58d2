import { and, eq } from 'drizzle-orm';
import type { types as MsTypes } from 'mediasoup';
import type { Store } from '../db/store.js';
import { meetings, roomStations } from '../db/tables.js';
import { notOwner } from '../cluster/cluster.service.js';
import { AppError, forbidden, notFound } from '../http/errors.js';
import type { Logger } from '../log.js';
import { type MeetingAccess, meetingAccess } from '../meetings/meetings.access.js';
import type { AvConsumeAck, AvFloorState, AvJoinAck, AvProducerInfo, AvTransportAck, DtlsParameters, MediaKind, MediaSource, RtpCapabilities, RtpParameters } from '../../shared/protocol/av.js';
import { MEDIA_CODECS, type SfuConfig } from './sfu.config.js';
import { FloorControl, type FloorSource, MEMORY_FLOOR } from './sfu.floor.js';
import * as media from './sfu.media.js';
import { Peer, type PeerLink, Room, errMessage, producerInfo } from './sfu.peers.js';
import { type Mediasoup, type Worker, WorkerPool } from './workers.js';

export type { PeerLink } from './sfu.peers.js';

/** A/V is available only while the meeting can be attended. */
const AV_STATUSES = new Set(['published', 'live', 'paused']);

/**
 * What the SFU needs of a cluster node's meeting ownership (server/cluster's `MeetingOwnership`, issue #18): a
 * meeting's router lives only on the node that owns the meeting.
 */
export interface SfuOwnership {
  /** Takes (or holds) the meeting's lease; @returns its epoch. @throws not_owner */
  claim(meetingId: number): Promise<number>;
  /** The lease epoch while this node owns the meeting, else null. */
  epoch(meetingId: number): number | null;
}

/** Counts and ids, for /healthz, tests and benchmarks. */
export interface SfuStats {
  workers: number[];
  rooms: { meetingId: number; workerPid: number; routerId: string; users: number[]; peers: number; transports: number; producers: number; consumers: number }[];
}

/**
 * The SFU: one mediasoup router per meeting with A/V (rooms on the worker pool, recovered when a worker
 * dies), joining and leaving, and who may do what; WebRTC transports, producers and consumers are in
 * sfu.media.ts, the floor rules that decide which microphones the server lets through in sfu.floor.ts.
 */
export class Sfu {
  private readonly rooms = new Map<number, Room>();
  private readonly creating = new Map<number, Promise<Room>>();
  private readonly floor: FloorControl;
  private readonly pool: WorkerPool | null;
  private closed = false;
  /** Cluster mode: whose meetings this node may serve ({@link useOwnership}); null on a single node. */
  private ownership: SfuOwnership | null = null;

  constructor(
    private readonly store: Store,
    private readonly log: Logger,
    readonly config: SfuConfig,
    ms: Mediasoup | null,
    /** Called with a reason when the SFU becomes unusable (no worker can be spawned). */
    private readonly onDisabled: (reason: string) => void = () => {},
    /** A meeting's floor: who holds it (the speakers' list) and what the chair set, read when its A/V starts; the latter saved on change. */
    floorSource: FloorSource = MEMORY_FLOOR,
  ) {
    this.floor = new FloorControl(this.rooms, log, floorSource);
    this.pool = ms ? new WorkerPool(ms, config, log, (w) => void this.recoverWorker(w)) : null;
  }

  get enabled(): boolean {
    return this.pool !== null && !this.closed;
  }

  /**
   * Cluster mode: `av:join` takes the meeting's lease (or answers not_owner, like `meeting:join`), every other
   * command of a meeting this node does not own answers not_owner, and the server module calls
   * {@link ownerLost} when the lease goes. So a meeting's router exists only on its owner node.
   */
  useOwnership(ownership: SfuOwnership): void {
    this.ownership = ownership;
  }

  /** Cluster mode: refuses a command for a meeting another node runs (the client goes there through HAProxy). */
  private owned(meetingId: number): void {
    if (this.ownership && this.ownership.epoch(meetingId) === null) throw notOwner(meetingId, null);
  }

  // ------------------------------------------------------------------------------------------
  // Commands. Each takes the caller's link and the parsed payload; throws AppError on refusal.

  /** `av:join`: enters (or re-enters, resetting one's media) the meeting's A/V. */
  async join(link: PeerLink, access: MeetingAccess, receiveOnly: boolean): Promise<AvJoinAck> {
    const meetingId = access.meeting.id;
    if (!AV_STATUSES.has(access.meeting.status)) throw new AppError('invalid_state', 'Audio/video opens when the meeting is published', 409);
    const epoch = this.ownership ? await this.ownership.claim(meetingId) : null;
    await this.floor.load(meetingId);
    let room = await this.room(meetingId);
    // The last participant may have left (closing the router) while this join waited for it.
    if (room.closed) room = await this.room(meetingId);
    // The lease may have gone while the router was being created (after `ownerLost` ran): no router stays on a former owner.
    if (this.ownership && this.ownership.epoch(meetingId) !== epoch) {
      this.ownerLost(meetingId);
      throw notOwner(meetingId, null);
    }
    const old = room.peers.get(link.socketId);
    if (old) this.closePeer(room, old, false, true);
    if (!link.connected()) throw new AppError('not_joined', 'Disconnected', 409);
    const station = !!access.meeting.roomId && (await this.isRoomStation(link.user.id, access.meeting.roomId));
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
    return media.createTransport(room, peer, link, this.config, direction);
  }

  /** `av:connectTransport`: the browser's DTLS parameters. */
  async connectTransport(link: PeerLink, meetingId: number, transportId: string, dtlsParameters: DtlsParameters): Promise<Record<string, never>> {
    return media.connectTransport(this.peer(link, meetingId).peer, transportId, dtlsParameters);
  }

  /** `av:produce`: the caller's microphone or camera. Audio starts paused unless the floor allows it. */
  async produce(link: PeerLink, meetingId: number, transportId: string, kind: MediaKind, source: MediaSource, rtpParameters: RtpParameters) {
    const { room, peer } = this.peer(link, meetingId);
    return media.produce(room, peer, link, this.floor, transportId, kind, source, rtpParameters);
  }

  /** `av:closeProducer`: camera off (or microphone removed). */
  closeProducer(link: PeerLink, meetingId: number, producerId: string): Record<string, never> {
    return media.closeProducer(this.peer(link, meetingId).peer, producerId);
  }

  /** `av:consume`: receive a remote producer of the same meeting, created paused. */
  async consume(link: PeerLink, meetingId: number, transportId: string, producerId: string, rtpCapabilities: RtpCapabilities): Promise<AvConsumeAck> {
    const { room, peer } = this.peer(link, meetingId);
    return media.consume(room, peer, link, transportId, producerId, rtpCapabilities);
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
    await this.floor.apply(meetingId);
    return { micOpen: this.floor.micOpen(meetingId, peer) };
  }

  /** `av:leave`. */
  leave(link: PeerLink, meetingId: number): Record<string, never> {
    const { room, peer } = this.peer(link, meetingId);
    this.closePeer(room, peer, true);
    return {};
  }

  /** `av:mute` (chair): mute or release one participant's microphone. */
  async chairMute(access: MeetingAccess, userId: number, muted: boolean): Promise<AvFloorState> {
    this.owned(access.meeting.id);
    if (!access.canChair) throw forbidden('Only the chair may mute participants');
    await this.floor.change(access.meeting.id, (floor) => {
      if (muted) floor.chairMuted.add(userId);
      else floor.chairMuted.delete(userId);
    });
    await this.floor.apply(access.meeting.id);
    return this.floorState(access.meeting.id);
  }

  /** `av:setOpenDiscussion` (chair). */
  async setOpenDiscussion(access: MeetingAccess, open: boolean): Promise<AvFloorState> {
    this.owned(access.meeting.id);
    if (!access.canChair) throw forbidden('Only the chair may open the discussion');
    await this.floor.change(access.meeting.id, (floor) => {
      floor.openDiscussion = open;
    });
    await this.floor.apply(access.meeting.id);
    return this.floorState(access.meeting.id);
  }

  // ------------------------------------------------------------------------------------------
  // Events from the rest of the server.

  /**
   * The speakers' list gave the floor to `userId` (or ended it: null). Granting the floor opens
   * that person's microphone wherever they are (it also lifts a chair mute and their self-mute).
   */
  setSpeaker(meetingId: number, userId: number | null): Promise<void> {
    return this.floor.setSpeaker(meetingId, userId);
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
  async revokeAccess(meetingId: number): Promise<number> {
    const room = this.rooms.get(meetingId);
    if (!room) return 0;
    const allowed = new Map<number, boolean>();
    let closed = 0;
    for (const peer of [...room.peers.values()]) {
      let ok = allowed.get(peer.userId);
      if (ok === undefined) {
        try {
          await meetingAccess(this.store, peer.link.user, meetingId);
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
    this.floor.forget(meetingId);
    if (!room) return;
    room.pushAll('av:reset', { reason: 'meeting_closed', rejoin: false });
    this.closeRoom(room);
  }

  /**
   * Cluster mode: this node stopped owning the meeting (lease lost or given up). Its router goes at once, with
   * every transport, producer and consumer; the peers are told `av:reset { reason: 'owner_changed', rejoin: true }`
   * (their sockets here are closed by the hub a moment later), and their clients join the A/V again on the new
   * owner once their socket reconnects there. The next owner reads the floor again: the speakers' list, and what the chair set (saved).
   */
  ownerLost(meetingId: number): void {
    this.floor.forget(meetingId);
    const room = this.rooms.get(meetingId);
    if (!room) return;
    room.pushAll('av:reset', { reason: 'owner_changed', rejoin: true });
    this.log.info({ meetingId, peers: room.peers.size }, 'meeting A/V closed: this node no longer owns the meeting');
    this.closeRoom(room);
  }

  /** Current floor as enforced. */
  floorState(meetingId: number): AvFloorState {
    return this.floor.state(meetingId);
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
  router(meetingId: number): MsTypes.Router | undefined {
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

  private async isRoomStation(userId: number, roomId: number): Promise<boolean> {
    const rows = await this.store.q
      .select({ u: roomStations.userId })
      .from(roomStations)
      .where(and(eq(roomStations.userId, userId), eq(roomStations.roomId, roomId)))
      .limit(1);
    return rows.length > 0;
  }

  private peer(link: PeerLink, meetingId: number): { room: Room; peer: Peer } {
    this.owned(meetingId);
    const room = this.rooms.get(meetingId);
    const peer = room?.peers.get(link.socketId);
    if (!room || !peer) throw new AppError('not_joined', 'Join the meeting’s audio/video first', 409);
    return { room, peer };
  }

  private consumer(link: PeerLink, meetingId: number, consumerId: string): MsTypes.Consumer {
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
  async meetingStatus(meetingId: number): Promise<string | undefined> {
    const [row] = await this.store.q.select({ s: meetings.status }).from(meetings).where(eq(meetings.id, meetingId)).limit(1);
    return row?.s;
  }
}
