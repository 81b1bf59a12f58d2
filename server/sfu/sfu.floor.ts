import type { AvFloorState } from '../../shared/protocol/av.js';
import type { Logger } from '../log.js';
import type { Peer, Room } from './sfu.peers.js';

/** The floor as the SFU enforces it; survives router re-creation (worker death). */
class Floor {
  speakerUserId: number | null = null;
  openDiscussion = false;
  readonly chairMuted = new Set<number>();
}

/**
 * Which microphones the server lets through, per meeting (server-side `producer.pause()`, so a modified
 * client cannot be heard): an audio producer flows only when its owner is the room station, holds the
 * floor, or open discussion is on — and the chair has not muted them, and they have not muted
 * themselves. Receive-only peers (tablets in the room) cannot produce at all. Part of the SFU
 * (server/sfu/sfu.service.ts), whose rooms it reads; who may change the floor is checked there.
 */
export class FloorControl {
  private readonly floors = new Map<number, Floor>();

  constructor(
    private readonly rooms: ReadonlyMap<number, Room>,
    private readonly log: Logger,
    /** Who holds the floor now (the speakers' list), read when a meeting's A/V starts. */
    private readonly currentSpeaker: (meetingId: number) => Promise<number | null>,
  ) {}

  /** Reads a meeting's floor from the speakers' list the first time its A/V is used (before `floor`). */
  async load(meetingId: number): Promise<void> {
    if (this.floors.has(meetingId)) return;
    const speakerUserId = await this.currentSpeaker(meetingId);
    if (this.floors.has(meetingId)) return; // known meanwhile (another join, or the speakers' list moved)
    const f = new Floor();
    f.speakerUserId = speakerUserId;
    this.floors.set(meetingId, f);
  }

  /** A meeting's floor (as loaded; a new one when it was not). */
  floor(meetingId: number): Floor {
    let f = this.floors.get(meetingId);
    if (!f) this.floors.set(meetingId, (f = new Floor()));
    return f;
  }

  /** The meeting was closed: its floor is forgotten. */
  forget(meetingId: number): void {
    this.floors.delete(meetingId);
  }

  /** The microphone rule (see the class comment). */
  micOpen(meetingId: number, peer: Peer): boolean {
    if (peer.receiveOnly || peer.selfMuted) return false;
    const floor = this.floor(meetingId);
    if (floor.chairMuted.has(peer.userId)) return false;
    return peer.roomStation || floor.openDiscussion || floor.speakerUserId === peer.userId;
  }

  /** Current floor as enforced. */
  state(meetingId: number): AvFloorState {
    const floor = this.floor(meetingId);
    const room = this.rooms.get(meetingId);
    const open = new Set<number>();
    for (const p of room?.peers.values() ?? []) if (this.micOpen(meetingId, p) && [...p.producers.values()].some((pr) => pr.kind === 'audio')) open.add(p.userId);
    return { speakerUserId: floor.speakerUserId, openDiscussion: floor.openDiscussion, chairMuted: [...floor.chairMuted], openMics: [...open] };
  }

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
    await this.apply(meetingId);
  }

  /** Pauses or resumes every microphone of the meeting to match the floor, then tells everyone. */
  async apply(meetingId: number): Promise<void> {
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
    room.pushAll('av:floor', this.state(meetingId));
  }
}
