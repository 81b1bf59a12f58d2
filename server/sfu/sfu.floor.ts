import type { AvFloorState } from '../../shared/protocol/av.js';
import type { Logger } from '../log.js';
import type { Peer, Room } from './sfu.peers.js';

/** The floor as the SFU enforces it; survives router re-creation (worker death). */
class Floor {
  speakerUserId: number | null = null;
  openDiscussion = false;
  readonly chairMuted = new Set<number>();
}

/** What the chair set, as saved: open discussion and the chair's mutes. */
export interface FloorSettings {
  openDiscussion: boolean;
  chairMuted: number[];
}

/**
 * Where a meeting's floor comes from and what of it is kept: who holds the floor is the speakers' list's; what the
 * chair set is saved (server/live's live state row, fenced by the meeting's lease), so the node that runs the
 * meeting next — after a failover (#18) or a restart — enforces the same microphones.
 */
export interface FloorSource {
  load(meetingId: number): Promise<FloorSettings & { speakerUserId: number | null }>;
  save(meetingId: number, s: FloorSettings): Promise<void>;
}

/** A floor kept in this process only (an SFU made without a database, e.g. in a unit test). */
export const MEMORY_FLOOR: FloorSource = { load: async () => ({ speakerUserId: null, openDiscussion: false, chairMuted: [] }), save: async () => {} };

/**
 * Which microphones the server lets through, per meeting (server-side `producer.pause()`, so a modified
 * client cannot be heard): an audio producer flows only when its owner is the room station, holds the
 * floor, or open discussion is on — and the chair has not muted them, and they have not muted
 * themselves. Receive-only peers (tablets in the room) cannot produce at all. Part of the SFU
 * (server/sfu/sfu.service.ts), whose rooms it reads; who may change the floor is checked there.
 */
export class FloorControl {
  private readonly floors = new Map<number, Floor>();
  /** Per meeting: the last save queued (saves of one meeting one after the other, each writing the floor as it is then). */
  private readonly saving = new Map<number, Promise<void>>();

  constructor(
    private readonly rooms: ReadonlyMap<number, Room>,
    private readonly log: Logger,
    private readonly source: FloorSource,
  ) {}

  /** Reads a meeting's floor (the speakers' list, what the chair set) the first time its A/V is used (before `floor`). */
  async load(meetingId: number): Promise<void> {
    if (this.floors.has(meetingId)) return;
    const saved = await this.source.load(meetingId);
    if (this.floors.has(meetingId)) return; // known meanwhile (another join, or the speakers' list moved)
    const f = new Floor();
    f.speakerUserId = saved.speakerUserId;
    f.openDiscussion = saved.openDiscussion;
    for (const u of saved.chairMuted) f.chairMuted.add(u);
    this.floors.set(meetingId, f);
  }

  /**
   * A change of what the chair set: made here, then saved (the floor as it is when its turn comes, so the last
   * save holds every change). A save that fails (this node lost the meeting: not_owner) leaves the floor as saved.
   */
  async change(meetingId: number, mutate: (f: Floor) => void): Promise<void> {
    await this.load(meetingId);
    mutate(this.floor(meetingId));
    const run = (this.saving.get(meetingId) ?? Promise.resolve()).then(() => {
      const f = this.floor(meetingId);
      return this.source.save(meetingId, { openDiscussion: f.openDiscussion, chairMuted: [...f.chairMuted].sort((a, b) => a - b) });
    });
    const settled = run.catch(() => undefined);
    this.saving.set(meetingId, settled);
    void settled.then(() => {
      if (this.saving.get(meetingId) === settled) this.saving.delete(meetingId);
    });
    try {
      await run;
    } catch (err) {
      this.floors.delete(meetingId);
      await this.load(meetingId).catch(() => undefined);
      throw err;
    }
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
    // Loaded first: a floor made from nothing here would lose what the chair set, and then save that loss.
    await this.load(meetingId);
    const floor = this.floor(meetingId);
    floor.speakerUserId = userId;
    if (userId !== null) {
      if (floor.chairMuted.has(userId)) await this.change(meetingId, (f) => f.chairMuted.delete(userId));
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
