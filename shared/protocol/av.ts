import { z } from 'zod';
import { Id } from './common.js';
import { command } from './realtime.js';

/**
 * Audio/video signaling over the meeting's Socket.IO room (mediasoup SFU).
 *
 * Flow of a participant: `av:join` (router RTP capabilities, who is producing, floor state) →
 * `av:createTransport` ×2 (send, recv) → `av:connectTransport` when the browser's transport
 * connects → `av:produce` (microphone, camera) and `av:consume` per remote producer → `av:resume`
 * once the consumer is set up on the client. The server owns the microphones: an audio producer
 * is paused server-side unless its owner has the floor, open discussion is on, or it is the room
 * station; the chair may mute anyone. See docs/PROTOCOL.md "A/V".
 */

/** Limits of one participant's media resources (a client asking for more gets `limit_exceeded`). */
export const AV_LIMITS = {
  transports: 4,
  producers: 4,
  consumers: 300,
  /** Codecs / header extensions / encodings / fingerprints in one message. */
  codecs: 32,
  headerExtensions: 24,
  encodings: 4,
  fingerprints: 8,
} as const;

const token = (max: number) => z.string().min(1).max(max).regex(/^[\x21-\x7e]+$/, 'must be printable ASCII');
const MimeType = z.string().max(64).regex(/^(audio|video)\/[A-Za-z0-9._-]+$/, 'must be audio/* or video/*');
const PayloadType = z.number().int().min(0).max(127);
const ClockRate = z.number().int().min(1000).max(200_000);
const Channels = z.number().int().min(1).max(8);
/** Codec format parameters (`useinbandfec`, `profile-level-id`…): a small flat map of scalars. */
const CodecParameters = z
  .record(z.string().max(64), z.union([z.string().max(256), z.number().finite()]))
  .refine((o) => Object.keys(o).length <= 32, 'too many codec parameters');
const RtcpFeedback = z.object({ type: token(32), parameter: z.string().max(32).optional() });
const HeaderExtensionUri = z.string().min(1).max(200).regex(/^[\x21-\x7e]+$/);
const Ssrc = z.number().int().min(0).max(0xffffffff);

export const MediaKind = z.enum(['audio', 'video']);
export type MediaKind = z.infer<typeof MediaKind>;

/** RTP parameters of a producer (what the browser will send). Validated before mediasoup sees them. */
export const RtpParameters = z.object({
  mid: token(32).optional(),
  codecs: z
    .array(
      z.object({
        mimeType: MimeType,
        payloadType: PayloadType,
        clockRate: ClockRate,
        channels: Channels.optional(),
        parameters: CodecParameters.optional(),
        rtcpFeedback: z.array(RtcpFeedback).max(16).optional(),
      }),
    )
    .min(1)
    .max(AV_LIMITS.codecs),
  headerExtensions: z
    .array(
      z.object({
        uri: HeaderExtensionUri,
        id: z.number().int().min(1).max(255),
        encrypt: z.boolean().optional(),
        parameters: CodecParameters.optional(),
      }),
    )
    .max(AV_LIMITS.headerExtensions)
    .optional(),
  encodings: z
    .array(
      z.object({
        ssrc: Ssrc.optional(),
        rid: token(32).optional(),
        codecPayloadType: PayloadType.optional(),
        rtx: z.object({ ssrc: Ssrc }).optional(),
        dtx: z.boolean().optional(),
        scalabilityMode: token(16).optional(),
        scaleResolutionDownBy: z.number().min(1).max(64).optional(),
        maxBitrate: z.number().int().min(1000).max(50_000_000).optional(),
        maxFramerate: z.number().min(1).max(120).optional(),
        active: z.boolean().optional(),
      }),
    )
    .min(1)
    .max(AV_LIMITS.encodings)
    .optional(),
  rtcp: z.object({ cname: z.string().max(256).optional(), reducedSize: z.boolean().optional(), mux: z.boolean().optional() }).optional(),
});
export type RtpParameters = z.infer<typeof RtpParameters>;

/** The receiving device's capabilities (mediasoup-client `device.rtpCapabilities`). */
export const RtpCapabilities = z.object({
  codecs: z
    .array(
      z.object({
        kind: MediaKind,
        mimeType: MimeType,
        preferredPayloadType: PayloadType.optional(),
        clockRate: ClockRate,
        channels: Channels.optional(),
        parameters: CodecParameters.optional(),
        rtcpFeedback: z.array(RtcpFeedback).max(16).optional(),
      }),
    )
    .max(64)
    .optional(),
  headerExtensions: z
    .array(
      z.object({
        kind: MediaKind,
        uri: HeaderExtensionUri,
        preferredId: z.number().int().min(1).max(255),
        preferredEncrypt: z.boolean().optional(),
        direction: z.enum(['sendrecv', 'sendonly', 'recvonly', 'inactive']).optional(),
      }),
    )
    .max(48)
    .optional(),
});
export type RtpCapabilities = z.infer<typeof RtpCapabilities>;

/** DTLS parameters sent by the browser when its transport connects. */
export const DtlsParameters = z.object({
  role: z.enum(['auto', 'client', 'server']).optional(),
  fingerprints: z
    .array(
      z.object({
        algorithm: z.enum(['sha-1', 'sha-224', 'sha-256', 'sha-384', 'sha-512']),
        value: z.string().max(200).regex(/^([0-9A-Fa-f]{2}:)+[0-9A-Fa-f]{2}$/, 'must be colon-separated hex'),
      }),
    )
    .min(1)
    .max(AV_LIMITS.fingerprints),
});
export type DtlsParameters = z.infer<typeof DtlsParameters>;

/** Mediasoup object ids are UUIDs. */
const ObjectId = z.uuid();
/** What a producer carries, for layout (room camera large, microphones follow the floor). */
export const MediaSource = z.enum(['mic', 'cam']);
export type MediaSource = z.infer<typeof MediaSource>;

const M = { meetingId: Id };

/** A producer someone can consume. */
export const AvProducerInfo = z.object({
  producerId: z.string(),
  userId: z.number(),
  kind: MediaKind,
  source: MediaSource,
  /** Paused on the server (microphone closed by the floor or the chair). */
  paused: z.boolean(),
});
export type AvProducerInfo = z.infer<typeof AvProducerInfo>;

/** Who may speak right now, as the server enforces it. */
export const AvFloorState = z.object({
  /** Holder of the floor from the speakers' list, or null. */
  speakerUserId: z.number().nullable(),
  openDiscussion: z.boolean(),
  /** Participants the chair muted (until they are granted the floor again or the chair releases them). */
  chairMuted: z.array(z.number()),
  /** Participants whose microphone the server has open right now. */
  openMics: z.array(z.number()),
});
export type AvFloorState = z.infer<typeof AvFloorState>;

export const AvPeerInfo = z.object({
  userId: z.number(),
  fullName: z.string(),
  /** The smart room's PC: its camera and microphones are the room's. */
  roomStation: z.boolean(),
  /** A tablet in the room: receives only (no echo). */
  receiveOnly: z.boolean(),
});
export type AvPeerInfo = z.infer<typeof AvPeerInfo>;

const Empty = z.object({});

export const AvJoinAck = z.object({
  /** mediasoup router RTP capabilities, for `device.load()`. */
  routerRtpCapabilities: z.unknown(),
  userId: z.number(),
  roomStation: z.boolean(),
  receiveOnly: z.boolean(),
  canChair: z.boolean(),
  peers: z.array(AvPeerInfo),
  producers: z.array(AvProducerInfo),
  floor: AvFloorState,
  activeSpeakerUserId: z.number().nullable(),
});
export type AvJoinAck = z.infer<typeof AvJoinAck>;

export const AvTransportAck = z.object({
  id: z.string(),
  direction: z.enum(['send', 'recv']),
  iceParameters: z.unknown(),
  iceCandidates: z.array(z.unknown()),
  dtlsParameters: z.unknown(),
});
export type AvTransportAck = z.infer<typeof AvTransportAck>;

export const AvConsumeAck = z.object({
  id: z.string(),
  producerId: z.string(),
  kind: MediaKind,
  rtpParameters: z.unknown(),
  userId: z.number(),
  source: MediaSource,
  producerPaused: z.boolean(),
});
export type AvConsumeAck = z.infer<typeof AvConsumeAck>;

/**
 * Commands (client → server, acknowledged through the hub's wrapper). Every one names its meeting;
 * ids of transports, producers and consumers are looked up only among the caller's own resources
 * in that meeting (anything else is `not_found`).
 */
export const AV_COMMANDS = {
  /** Enter the meeting's A/V. `receiveOnly`: a tablet inside the room (never sends: no echo). Re-joining resets one's media. */
  'av:join': command({ payload: z.strictObject({ ...M, receiveOnly: z.boolean().default(false) }), ack: AvJoinAck }),
  'av:createTransport': command({ payload: z.strictObject({ ...M, direction: z.enum(['send', 'recv']) }), ack: AvTransportAck }),
  'av:connectTransport': command({ payload: z.strictObject({ ...M, transportId: ObjectId, dtlsParameters: DtlsParameters }), ack: Empty }),
  /** Audio producers start paused unless the floor allows the caller to speak (`paused` in the ack). */
  'av:produce': command({
    payload: z.strictObject({ ...M, transportId: ObjectId, kind: MediaKind, source: MediaSource, rtpParameters: RtpParameters }),
    ack: z.object({ id: z.string(), paused: z.boolean() }),
  }),
  'av:closeProducer': command({ payload: z.strictObject({ ...M, producerId: ObjectId }), ack: Empty }),
  /** Consumers are created paused; `av:resume` once the client has set it up. */
  'av:consume': command({
    payload: z.strictObject({ ...M, transportId: ObjectId, producerId: ObjectId, rtpCapabilities: RtpCapabilities }),
    ack: AvConsumeAck,
  }),
  'av:resume': command({ payload: z.strictObject({ ...M, consumerId: ObjectId }), ack: Empty }),
  /** Stop receiving one stream (audio-only mode pauses video consumers). */
  'av:pause': command({ payload: z.strictObject({ ...M, consumerId: ObjectId }), ack: Empty }),
  /** Low-bandwidth mode: the simulcast layer to receive (0 lowest). */
  'av:setLayers': command({ payload: z.strictObject({ ...M, consumerId: ObjectId, spatialLayer: z.number().int().min(0).max(2) }), ack: Empty }),
  /** Self mute / unmute. Unmuting opens the microphone only when the floor allows it (`micOpen`). */
  'av:setMuted': command({ payload: z.strictObject({ ...M, muted: z.boolean() }), ack: z.object({ micOpen: z.boolean() }) }),
  'av:leave': command({ payload: z.strictObject({ ...M }), ack: Empty }),
  /** Chair: mute one participant (or release the mute with `muted: false`). */
  'av:mute': command({ payload: z.strictObject({ ...M, userId: Id, muted: z.boolean().default(true) }), ack: AvFloorState }),
  /** Chair: open discussion lets everyone who is not muted by the chair speak. */
  'av:setOpenDiscussion': command({ payload: z.strictObject({ ...M, open: z.boolean() }), ack: AvFloorState }),
};
export type AvCommands = typeof AV_COMMANDS;

/**
 * Server → client pushes, sent to the A/V participants' sockets only, in the hub's envelope
 * with `seq: null` (A/V state is re-read by `av:join`, never replayed).
 */
export const AV_PUSHES = {
  'av:newProducer': AvProducerInfo,
  'av:producerClosed': z.object({ producerId: z.string() }),
  /** A producer was paused or resumed on the server (microphone opened or closed). */
  'av:producerPaused': z.object({ producerId: z.string(), userId: z.number(), paused: z.boolean() }),
  'av:consumerClosed': z.object({ consumerId: z.string(), producerId: z.string() }),
  'av:peerJoined': AvPeerInfo,
  'av:peerLeft': z.object({ userId: z.number() }),
  'av:floor': AvFloorState,
  'av:activeSpeaker': z.object({ userId: z.number().nullable() }),
  /**
   * The media server restarted (worker died), the meeting closed, or (several nodes) this node no longer runs the
   * meeting (`owner_changed`: join the A/V again once the socket has reconnected to the meeting's new owner): drop
   * all media; re-join when `rejoin`.
   */
  'av:reset': z.object({ reason: z.enum(['worker_died', 'meeting_closed', 'left', 'access_revoked', 'owner_changed']), rejoin: z.boolean() }),
};
export type AvPushes = { [K in keyof typeof AV_PUSHES]: z.output<(typeof AV_PUSHES)[K]> };

/** Stable A/V error codes. */
export const AV_ERROR_CODES = ['sfu_disabled', 'limit_exceeded', 'not_joined', 'receive_only', 'cannot_consume', 'invalid_rtp_parameters'] as const;
