import { Device, type types as MsTypes } from 'mediasoup-client';
import type { AvConsumeAck, AvFloorState, AvJoinAck, AvPeerInfo, AvProducerInfo, AvTransportAck, MediaSource } from '../../shared/protocol/av.js';
import { type CommandInput, type CommandResult, ROUTING_PARAM } from '../../shared/protocol/realtime.js';
import type { Commands } from '../../shared/protocol/socket-events.js';
import { CommandError, type RealtimeClient } from './socket.js';

type AvCommandName = Extract<keyof Commands, `av:${string}`>;

/** Connection quality from WebRTC statistics (round trip and packet loss of the last interval). */
export type Quality = 'good' | 'fair' | 'poor' | 'unknown';

/**
 * What the session is doing, for the UI's loading / unavailable / error states. `reconnecting`: the media
 * dropped by no choice of the user (the connection came back on another socket, the meeting moved to another
 * server node, the media server restarted) and the session is joining again by itself, with the same
 * microphone and camera.
 */
export type MediaState = 'idle' | 'joining' | 'joined' | 'reconnecting' | 'unavailable' | 'error';

/** After `av:reset owner_changed`, how long the socket has to be closed by the hub before the session asks again itself. */
const OWNER_CHANGED_REJOIN_MS = 1000;

/** Errors of a join that come from the connection or the meeting moving between server nodes: the session retries. */
const TRANSIENT = new Set(['not_owner', 'connection_lost', 'offline', 'timeout', 'not_joined']);

/** A remote participant: their media tracks and whether the server lets their microphone through. */
export interface RemotePeer extends AvPeerInfo {
  audio: MediaStreamTrack | null;
  video: MediaStreamTrack | null;
  /** Their microphone is paused on the server (no floor, muted by the chair or by themselves). */
  micClosed: boolean;
  hasMic: boolean;
  hasCam: boolean;
}

export interface JoinOptions {
  /** A tablet inside the room: listen only, never send (no echo). */
  receiveOnly: boolean;
  audioDeviceId?: string;
  videoDeviceId?: string;
  /** Send the camera as well as the microphone. */
  camera: boolean;
}

/** Simulcast layers for a camera (low 1/4, mid 1/2, full resolution); low-bandwidth receivers take the lowest. */
const SIMULCAST: MsTypes.RtpEncodingParameters[] = [
  { scaleResolutionDownBy: 4, maxBitrate: 150_000 },
  { scaleResolutionDownBy: 2, maxBitrate: 500_000 },
  { scaleResolutionDownBy: 1, maxBitrate: 1_200_000 },
];

/**
 * The meeting's audio/video through the mediasoup SFU (mediasoup-client in the browser).
 * It speaks the `av:*` commands of the realtime connection and keeps the remote participants,
 * the floor and the connection quality; components render it and listen to its `change` event.
 * The server owns the microphones: `micOpen` says whether ours is actually heard.
 */
export class MediaSession extends EventTarget {
  state: MediaState = 'idle';
  /** The error code when `state` is `unavailable` or `error`. */
  error: string | null = null;
  me: { userId: number; roomStation: boolean; receiveOnly: boolean; canChair: boolean } | null = null;
  readonly peers = new Map<number, RemotePeer>();
  floor: AvFloorState = { speakerUserId: null, openDiscussion: false, chairMuted: [], openMics: [] };
  activeSpeaker: number | null = null;
  localStream: MediaStream | null = null;
  /** Our own choice; the server may still keep the microphone closed. */
  selfMuted = false;
  cameraOn = false;
  audioOnly = false;
  lowBandwidth = false;
  quality: Quality = 'unknown';
  stats = { rttMs: null as number | null, lossPct: null as number | null };
  /** When the media came back by itself after a `reconnecting` (ms since the epoch), for the UI's "back" note. */
  reconnectedAt: number | null = null;

  #device: Device | null = null;
  #send: MsTypes.Transport | null = null;
  #recv: MsTypes.Transport | null = null;
  #mic: MsTypes.Producer | null = null;
  #cam: MsTypes.Producer | null = null;
  #consumers = new Map<string, MsTypes.Consumer>();
  #consumerUser = new Map<string, number>();
  #options: JoinOptions | null = null;
  #unsubs: (() => void)[] = [];
  #timer: ReturnType<typeof setInterval> | null = null;
  #lastLoss = { lost: 0, received: 0 };
  #joinSeq = 0;
  /** Producers announced before the receive transport existed. */
  #early: AvProducerInfo[] = [];
  /** The router capabilities the device was loaded with (a device loads once; another router may differ). */
  #deviceCaps = '';
  /** Wait before the next reroute after `not_owner` (0: at once; doubles to 5 s; reset by a successful join). */
  #rerouteDelay = 0;
  #rerouteTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    readonly client: RealtimeClient,
    readonly meetingId: number,
  ) {
    super();
    const on = <K extends Parameters<RealtimeClient['on']>[0]>(event: K, fn: (data: never) => void) =>
      this.#unsubs.push(
        client.on(event, (push) => {
          if (push.meetingId === this.meetingId && (this.state === 'joined' || this.state === 'joining' || this.state === 'reconnecting')) fn(push.data as never);
        }),
      );
    on('av:newProducer', (p: AvProducerInfo) => void this.#consume(p));
    on('av:producerClosed', ({ producerId }: { producerId: string }) => this.#dropProducer(producerId));
    on('av:consumerClosed', ({ consumerId }: { consumerId: string }) => this.#dropConsumer(consumerId));
    on('av:producerPaused', ({ producerId, userId, paused }: { producerId: string; userId: number; paused: boolean }) => {
      const peer = this.peers.get(userId);
      if (peer) peer.micClosed = paused;
      if (producerId === this.#mic?.id) this.#changed();
      this.#changed();
    });
    on('av:peerJoined', (p: AvPeerInfo) => {
      if (p.userId !== this.me?.userId && !this.peers.has(p.userId)) this.peers.set(p.userId, emptyPeer(p));
      this.#changed();
    });
    on('av:peerLeft', ({ userId }: { userId: number }) => {
      this.peers.delete(userId);
      this.#changed();
    });
    on('av:floor', (f: AvFloorState) => {
      this.floor = f;
      this.#changed();
    });
    on('av:activeSpeaker', ({ userId }: { userId: number | null }) => {
      this.activeSpeaker = userId;
      this.#changed();
    });
    on('av:reset', ({ reason, rejoin }: { reason: string; rejoin: boolean }) => {
      if (!rejoin || !this.#options) {
        this.#teardown();
        return void this.#set('idle');
      }
      // The meeting moved to another server node: the hub closes the sockets in the meeting's room, and the
      // reconnection (to the new owner) joins again. A socket that is not in the room (this page's own, which never
      // sent meeting:join) stays open: its join a moment later is answered not_owner, naming the owner to go to.
      // Anything else (a restarted media worker) joins again at once.
      if (reason === 'owner_changed') {
        this.#teardown(true);
        this.#set('reconnecting');
        clearTimeout(this.#rerouteTimer);
        const seq = this.#joinSeq;
        this.#rerouteTimer = setTimeout(() => {
          // Only if nothing joined meanwhile (a reconnection's `connect` did, or is doing).
          if (seq === this.#joinSeq && this.state === 'reconnecting' && this.client.socket.connected) void this.#rejoin();
        }, OWNER_CHANGED_REJOIN_MS);
      } else void this.#rejoin();
    });
    // After a reconnect the server has dropped our media (a new socket, maybe on another server node): join again.
    const onConnect = () => {
      if ((this.state === 'joined' || this.state === 'error' || this.state === 'reconnecting') && this.#options) void this.#rejoin();
    };
    client.socket.on('connect', onConnect);
    this.#unsubs.push(() => client.socket.off('connect', onConnect));
    // The server drops a socket's media with the socket: say so at once, keep our tracks for the re-join.
    const onDisconnect = () => {
      if (this.state !== 'joined' || !this.#options) return;
      this.#joinSeq++;
      this.#teardown(true);
      this.#set('reconnecting');
    };
    client.socket.on('disconnect', onDisconnect);
    this.#unsubs.push(() => client.socket.off('disconnect', onDisconnect));
    // Several server nodes: the A/V page's own connection is routed by its meeting, so HAProxy sends it to the
    // node running the meeting (the one that holds its router). A connection a meeting view routes already is kept.
    if (!client.socket.connected && client.routedMeeting === null) {
      client.socket.io.opts.query = { ...(client.socket.io.opts.query as Record<string, string> | undefined), [ROUTING_PARAM]: String(meetingId) };
    }
  }

  /** Whether the server currently lets our microphone through. */
  get micOpen(): boolean {
    return !!this.#mic && !!this.me && this.floor.openMics.includes(this.me.userId);
  }

  /** Enters the meeting's A/V: loads the device, opens transports, sends and receives. */
  async join(options: JoinOptions): Promise<void> {
    return this.#join(options, false);
  }

  /**
   * Joins again after the media dropped (reconnect, meeting moved to another node, worker restart): the
   * microphone and camera tracks we had are sent again as they are (no new permission prompt, mute kept).
   */
  #rejoin(): Promise<void> {
    this.#teardown(true);
    return this.#join(this.#options!, true);
  }

  async #join(options: JoinOptions, again: boolean): Promise<void> {
    const seq = ++this.#joinSeq;
    clearTimeout(this.#rerouteTimer);
    this.#options = options;
    this.#set(again ? 'reconnecting' : 'joining');
    try {
      const joined: AvJoinAck = await this.#cmd('av:join', { meetingId: this.meetingId, receiveOnly: options.receiveOnly });
      if (seq !== this.#joinSeq) return;
      this.#rerouteDelay = 0;
      this.me = { userId: joined.userId, roomStation: joined.roomStation, receiveOnly: joined.receiveOnly, canChair: joined.canChair };
      this.floor = joined.floor;
      this.activeSpeaker = joined.activeSpeakerUserId;
      this.peers.clear();
      for (const p of joined.peers) if (p.userId !== joined.userId) this.peers.set(p.userId, emptyPeer(p));
      // Another node's router may offer other payload types: a device is loaded once, so a new one then.
      const caps = JSON.stringify(joined.routerRtpCapabilities);
      if (!this.#device || caps !== this.#deviceCaps) {
        const device = new Device();
        await device.load({ routerRtpCapabilities: joined.routerRtpCapabilities as MsTypes.RtpCapabilities });
        this.#device = device;
        this.#deviceCaps = caps;
      }
      this.#recv = await this.#transport('recv');
      if (!options.receiveOnly) {
        this.#send = await this.#transport('send');
        await this.#startLocal(options, again);
      }
      if (seq !== this.#joinSeq) return;
      if (again) this.reconnectedAt = Date.now();
      this.#set('joined');
      for (const p of [...joined.producers, ...this.#early.splice(0)]) void this.#consume(p);
      this.#timer ??= setInterval(() => void this.#measure(), 2000);
    } catch (e) {
      if (seq !== this.#joinSeq) return;
      const code = e instanceof CommandError ? e.code : e instanceof DOMException ? e.name : 'internal';
      if (TRANSIENT.has(code) && (again || code === 'not_owner')) {
        // Not the user's problem: keep the tracks, say "reconnecting", and join again on the next connection.
        this.#teardown(true);
        this.#set('reconnecting');
        if (code === 'not_owner') this.#reroute((e as CommandError).details);
        // Still connected (an answer timed out): try again; otherwise the reconnection's `connect` does.
        else if (this.client.socket.connected) this.#rerouteTimer = setTimeout(() => this.state === 'reconnecting' && void this.#rejoin(), 2000);
        return;
      }
      this.#teardown();
      this.error = code;
      this.#set(this.error === 'sfu_disabled' || this.error === 'NotAllowedError' || this.error === 'NotFoundError' ? 'unavailable' : 'error');
    }
  }

  /**
   * The node we are connected to does not run the meeting (it moved after a node failed, or the lease was not
   * free yet): reconnect routed by the meeting, to the owner it named, backing off while the meeting settles on
   * its new node. The reconnection's `connect` joins again.
   */
  #reroute(details: unknown): void {
    const owner = (details as { nodeId?: unknown } | undefined)?.nodeId;
    const delay = this.#rerouteDelay;
    this.#rerouteDelay = Math.min(5000, Math.max(250, delay * 2));
    clearTimeout(this.#rerouteTimer);
    this.#rerouteTimer = setTimeout(() => {
      if (this.state === 'reconnecting') this.client.reroute(this.meetingId, typeof owner === 'string' ? owner : null);
    }, delay);
  }

  /** Leaves the A/V (the rest of the meeting goes on). */
  async leave(): Promise<void> {
    this.#joinSeq++;
    clearTimeout(this.#rerouteTimer);
    this.#options = null;
    try {
      if (this.state === 'joined') await this.#cmd('av:leave', { meetingId: this.meetingId });
    } catch {
      /* leaving anyway */
    }
    this.#teardown();
    this.#set('idle');
  }

  /** Self mute / unmute (the server opens the microphone only when the floor allows it). */
  async setMuted(muted: boolean): Promise<void> {
    this.selfMuted = muted;
    if (this.#mic) {
      if (muted) this.#mic.pause();
      else this.#mic.resume();
    }
    this.#changed();
    await this.#cmd('av:setMuted', { meetingId: this.meetingId, muted });
  }

  /** Camera on / off. */
  async setCamera(on: boolean, deviceId?: string): Promise<void> {
    if (!this.#send) return;
    if (!on) {
      if (this.#cam) {
        const id = this.#cam.id;
        this.#cam.close();
        this.#cam = null;
        this.localStream?.getVideoTracks().forEach((t) => {
          t.stop();
          this.localStream?.removeTrack(t);
        });
        await this.#cmd('av:closeProducer', { meetingId: this.meetingId, producerId: id }).catch(() => {});
      }
      this.cameraOn = false;
      this.#changed();
      return;
    }
    if (this.#cam) return;
    const stream = await navigator.mediaDevices.getUserMedia({ video: deviceId ? { deviceId: { exact: deviceId } } : { width: 640, height: 480 } });
    const track = stream.getVideoTracks()[0];
    (this.localStream ??= new MediaStream()).addTrack(track);
    await this.#produceCamera(track);
  }

  /** Switches the microphone to another input device. */
  async switchMicrophone(deviceId: string): Promise<void> {
    if (!this.#mic) return;
    const stream = await navigator.mediaDevices.getUserMedia({ audio: { deviceId: { exact: deviceId }, echoCancellation: true, noiseSuppression: true } });
    const track = stream.getAudioTracks()[0];
    this.localStream?.getAudioTracks().forEach((t) => {
      t.stop();
      this.localStream?.removeTrack(t);
    });
    this.localStream?.addTrack(track);
    await this.#mic.replaceTrack({ track });
    this.#changed();
  }

  /** Audio only: stop receiving video (and sending ours) on a weak connection. */
  async setAudioOnly(on: boolean): Promise<void> {
    this.audioOnly = on;
    for (const [id, c] of this.#consumers) {
      if (c.kind !== 'video') continue;
      await this.#cmd(on ? 'av:pause' : 'av:resume', { meetingId: this.meetingId, consumerId: id }).catch(() => {});
      this.#attach(c, on ? null : c.track);
    }
    if (on && this.cameraOn) await this.setCamera(false);
    this.#changed();
  }

  /** Low bandwidth: receive the lowest simulcast layer and send only our lowest. */
  async setLowBandwidth(on: boolean): Promise<void> {
    this.lowBandwidth = on;
    for (const [id, c] of this.#consumers) {
      if (c.kind === 'video') await this.#cmd('av:setLayers', { meetingId: this.meetingId, consumerId: id, spatialLayer: on ? 0 : 2 }).catch(() => {});
    }
    await this.#cam?.setMaxSpatialLayer(on ? 0 : 2).catch(() => {});
    this.#changed();
  }

  /** Chair: mute or release one participant. */
  async chairMute(userId: number, muted: boolean): Promise<void> {
    this.floor = await this.#cmd('av:mute', { meetingId: this.meetingId, userId, muted });
    this.#changed();
  }

  /** Chair: open or close the discussion (everyone may speak). */
  async setOpenDiscussion(open: boolean): Promise<void> {
    this.floor = await this.#cmd('av:setOpenDiscussion', { meetingId: this.meetingId, open });
    this.#changed();
  }

  /** Inbound audio bytes per remote user (diagnostics and tests: "is X heard here?"). */
  async inboundAudioBytes(): Promise<Record<number, number>> {
    const out: Record<number, number> = {};
    for (const [id, c] of this.#consumers) {
      if (c.kind !== 'audio') continue;
      const stats = await c.getStats();
      let bytes = 0;
      stats.forEach((s: { type: string; bytesReceived?: number }) => {
        if (s.type === 'inbound-rtp') bytes += s.bytesReceived ?? 0;
      });
      const user = this.#consumerUser.get(id);
      if (user !== undefined) out[user] = (out[user] ?? 0) + bytes;
    }
    return out;
  }

  /** Decoded remote video frames so far (diagnostics and the join-time benchmark). */
  async inboundVideoFrames(): Promise<number> {
    let frames = 0;
    for (const c of this.#consumers.values()) {
      if (c.kind !== 'video') continue;
      (await c.getStats()).forEach((s: { type: string; framesDecoded?: number }) => {
        if (s.type === 'inbound-rtp') frames += s.framesDecoded ?? 0;
      });
    }
    return frames;
  }

  dispose(): void {
    this.#joinSeq++;
    clearTimeout(this.#rerouteTimer);
    this.#teardown();
    for (const u of this.#unsubs.splice(0)) u();
  }

  // ------------------------------------------------------------------------------------------

  async #cmd<K extends AvCommandName>(event: K, payload: CommandInput<Commands[K]>): Promise<CommandResult<Commands[K]>> {
    // The hub limits commands per second; joining a large meeting may briefly exceed it.
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.client.command(event, payload);
      } catch (e) {
        if (!(e instanceof CommandError) || e.code !== 'rate_limited' || attempt >= 6) throw e;
        await new Promise((r) => setTimeout(r, 250 * (attempt + 1)));
      }
    }
  }

  async #transport(direction: 'send' | 'recv'): Promise<MsTypes.Transport> {
    const t: AvTransportAck = await this.#cmd('av:createTransport', { meetingId: this.meetingId, direction });
    const options = { id: t.id, iceParameters: t.iceParameters, iceCandidates: t.iceCandidates, dtlsParameters: t.dtlsParameters } as MsTypes.TransportOptions;
    const transport = direction === 'send' ? this.#device!.createSendTransport(options) : this.#device!.createRecvTransport(options);
    transport.on('connect', ({ dtlsParameters }, callback, errback) => {
      this.#cmd('av:connectTransport', { meetingId: this.meetingId, transportId: transport.id, dtlsParameters: dtlsParameters as never })
        .then(() => callback())
        .catch(errback);
    });
    if (direction === 'send') {
      transport.on('produce', ({ kind, rtpParameters, appData }, callback, errback) => {
        this.#cmd('av:produce', {
          meetingId: this.meetingId,
          transportId: transport.id,
          kind,
          source: appData.source as MediaSource,
          rtpParameters: rtpParameters as never,
        })
          .then(({ id }) => callback({ id }))
          .catch(errback);
      });
    }
    transport.on('connectionstatechange', (s) => {
      if (s === 'failed') {
        this.quality = 'poor';
        this.#changed();
      }
    });
    return transport;
  }

  /**
   * Sends the microphone (and the camera when chosen). `again` (a re-join): the tracks still live in
   * `localStream` are sent as they are, the camera only if it was on, and the server is told our self-mute.
   */
  async #startLocal(options: JoinOptions, again: boolean): Promise<void> {
    const kept = again ? this.localStream : null;
    const keptMic = kept?.getAudioTracks().find((t) => t.readyState === 'live');
    const keptCam = kept?.getVideoTracks().find((t) => t.readyState === 'live');
    if (!keptMic) {
      const stream = await navigator.mediaDevices.getUserMedia({
        audio: { ...(options.audioDeviceId ? { deviceId: { exact: options.audioDeviceId } } : {}), echoCancellation: true, noiseSuppression: true, autoGainControl: true },
      });
      const track = stream.getAudioTracks()[0];
      if (kept) kept.addTrack(track);
      else this.localStream = stream;
    }
    const mic = keptMic ?? this.localStream!.getAudioTracks().at(-1)!;
    // A paused producer disabled the track; the new one starts from our own choice.
    mic.enabled = !this.selfMuted;
    // The tracks are ours (`localStream`), not the producers': they outlive a re-join.
    this.#mic = await this.#send!.produce({ track: mic, stopTracks: false, codecOptions: { opusFec: true, opusDtx: true }, appData: { source: 'mic' } });
    if (this.selfMuted) {
      this.#mic.pause();
      if (again) await this.#cmd('av:setMuted', { meetingId: this.meetingId, muted: true });
    }
    if (keptCam) await this.#produceCamera(keptCam);
    else if (!again && options.camera && !this.audioOnly) await this.setCamera(true, options.videoDeviceId);
  }

  async #produceCamera(track: MediaStreamTrack): Promise<void> {
    this.#cam = await this.#send!.produce({ track, stopTracks: false, encodings: SIMULCAST, codecOptions: { videoGoogleStartBitrate: 600 }, appData: { source: 'cam' } });
    if (this.lowBandwidth) await this.#cam.setMaxSpatialLayer(0).catch(() => {});
    this.cameraOn = true;
    this.#changed();
  }

  async #consume(p: AvProducerInfo): Promise<void> {
    if (p.userId === this.me?.userId) return;
    if (!this.#recv || !this.#device) return void this.#early.push(p);
    const peer = this.peers.get(p.userId);
    if (peer) {
      if (p.kind === 'audio') {
        peer.hasMic = true;
        peer.micClosed = p.paused;
      } else peer.hasCam = true;
    }
    let c: AvConsumeAck;
    try {
      c = await this.#cmd('av:consume', {
        meetingId: this.meetingId,
        transportId: this.#recv.id,
        producerId: p.producerId,
        rtpCapabilities: this.#device.rtpCapabilities as never,
      });
    } catch {
      return; // the producer went away meanwhile, or this device cannot decode it
    }
    const consumer = await this.#recv.consume({ id: c.id, producerId: c.producerId, kind: c.kind, rtpParameters: c.rtpParameters as MsTypes.RtpParameters });
    this.#consumers.set(consumer.id, consumer);
    this.#consumerUser.set(consumer.id, c.userId);
    const video = consumer.kind === 'video';
    if (!(video && this.audioOnly)) {
      await this.#cmd('av:resume', { meetingId: this.meetingId, consumerId: consumer.id }).catch(() => {});
      if (video && this.lowBandwidth) await this.#cmd('av:setLayers', { meetingId: this.meetingId, consumerId: consumer.id, spatialLayer: 0 }).catch(() => {});
    }
    this.#attach(consumer, video && this.audioOnly ? null : consumer.track);
  }

  #attach(consumer: MsTypes.Consumer, track: MediaStreamTrack | null) {
    const userId = this.#consumerUser.get(consumer.id);
    const peer = userId === undefined ? undefined : this.peers.get(userId);
    if (!peer) return;
    if (consumer.kind === 'audio') {
      peer.audio = track;
      peer.hasMic = true;
    } else {
      peer.video = track;
      peer.hasCam = true;
    }
    this.#changed();
  }

  #dropProducer(producerId: string) {
    for (const [id, c] of this.#consumers) if (c.producerId === producerId) this.#dropConsumer(id);
  }

  #dropConsumer(consumerId: string) {
    const c = this.#consumers.get(consumerId);
    if (!c) return;
    c.close();
    this.#consumers.delete(consumerId);
    const peer = this.peers.get(this.#consumerUser.get(consumerId) ?? -1);
    this.#consumerUser.delete(consumerId);
    if (peer) {
      if (c.kind === 'audio') {
        peer.audio = null;
        peer.hasMic = false;
      } else {
        peer.video = null;
        peer.hasCam = false;
      }
    }
    this.#changed();
  }

  async #measure(): Promise<void> {
    const t = this.#recv ?? this.#send;
    if (!t || this.state !== 'joined') return;
    try {
      const report = await t.getStats();
      let rtt: number | null = null;
      let lost = 0;
      let received = 0;
      report.forEach((s: { type: string; state?: string; nominated?: boolean; currentRoundTripTime?: number; packetsLost?: number; packetsReceived?: number }) => {
        if (s.type === 'candidate-pair' && s.state === 'succeeded' && s.currentRoundTripTime !== undefined) rtt = s.currentRoundTripTime * 1000;
        if (s.type === 'inbound-rtp') {
          lost += s.packetsLost ?? 0;
          received += s.packetsReceived ?? 0;
        }
      });
      const dLost = Math.max(0, lost - this.#lastLoss.lost);
      const dRecv = Math.max(0, received - this.#lastLoss.received);
      this.#lastLoss = { lost, received };
      const loss = dLost + dRecv > 0 ? (100 * dLost) / (dLost + dRecv) : 0;
      this.stats = { rttMs: rtt === null ? null : Math.round(rtt), lossPct: Math.round(loss * 10) / 10 };
      const r = rtt ?? 0;
      this.quality = r < 150 && loss < 2 ? 'good' : r < 400 && loss < 8 ? 'fair' : 'poor';
      this.#changed();
    } catch {
      /* transport closing */
    }
  }

  /** Drops the media; `keepLocal` (a re-join follows): our microphone and camera tracks stay open in `localStream`. */
  #teardown(keepLocal = false) {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    for (const c of this.#consumers.values()) c.close();
    this.#consumers.clear();
    this.#consumerUser.clear();
    this.#early.length = 0;
    this.#mic?.close();
    this.#cam?.close();
    this.#mic = this.#cam = null;
    this.#send?.close();
    this.#recv?.close();
    this.#send = this.#recv = null;
    if (!keepLocal) {
      this.localStream?.getTracks().forEach((t) => t.stop());
      this.localStream = null;
      this.#device = null;
    }
    this.cameraOn = false;
    this.peers.clear();
    this.me = null;
    this.quality = 'unknown';
    this.#lastLoss = { lost: 0, received: 0 };
  }

  #set(state: MediaState) {
    this.state = state;
    if (state === 'joining' || state === 'joined' || state === 'idle') this.error = null;
    this.#changed();
  }

  #changed() {
    this.dispatchEvent(new Event('change'));
  }
}

function emptyPeer(p: AvPeerInfo): RemotePeer {
  return { ...p, audio: null, video: null, micClosed: true, hasMic: false, hasCam: false };
}
