import type { AttendanceEntry, LiveSnapshot } from '../../shared/protocol/live.js';
import type { CommandInput, CommandResult, MeetingAccessInfo } from '../../shared/protocol/realtime.js';
import type { CommandName, Commands } from '../../shared/protocol/socket-events.js';
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { type MeetingChannel, type RealtimeClient, type SocketState, sharedRealtime } from './socket.js';

/** Commands of the live domain that take the meeting id (the session adds it). */
type LiveCommand = Extract<CommandName, `attendance:${string}` | `meeting:${'open' | 'pause' | 'resume' | 'close'}` | `agenda:${string}` | `speaker:${string}` | `presenter:${string}`>;
type WithoutMeeting<K extends CommandName> = Omit<CommandInput<Commands[K]>, 'meetingId'>;

/**
 * The live state of one meeting on this tablet: the join snapshot, kept current by the meeting's
 * pushes (each applied once, in order; a gap or a server restart takes a fresh snapshot). Views read
 * `state` and re-render on the `change` event; they send commands through `command()`.
 */
export class LiveSession extends EventTarget {
  state: LiveSnapshot | null = null;
  access: MeetingAccessInfo | null = null;
  userId: number | null = null;
  /** Why the meeting could not be joined (`not_found`, …), or null. */
  joinError: string | null = null;
  #channel: MeetingChannel;
  #offState: () => void;

  constructor(
    readonly client: RealtimeClient,
    readonly meetingId: number,
  ) {
    super();
    this.#channel = client
      .meeting(meetingId)
      .onSnapshot((ack) => {
        this.state = ack.snapshot.live as LiveSnapshot;
        this.access = ack.access;
        this.userId = ack.userId;
        this.joinError = null;
        this.#changed();
      })
      .onPush((event, data) => this.#apply(event, data))
      .onError((e) => {
        this.joinError = e.code;
        this.#changed();
      });
    const onState = () => this.#changed();
    client.addEventListener('state', onState);
    this.#offState = () => client.removeEventListener('state', onState);
  }

  /** 'online' / 'offline' / 'connecting': the "offline — reconnecting" banner. */
  get connection(): SocketState {
    return this.client.state;
  }

  /** My attendance entry, if I am a participant. */
  get me(): AttendanceEntry | undefined {
    return this.state?.attendance.attendance.find((a) => a.userId === this.userId);
  }

  /** Sends a live command for this meeting; rejects with a CommandError. */
  command<K extends LiveCommand>(event: K, payload: WithoutMeeting<K>): Promise<CommandResult<Commands[K]>> {
    return this.client.command(event, { ...payload, meetingId: this.meetingId } as CommandInput<Commands[K]>);
  }

  close(): void {
    this.#offState();
    this.#channel.close();
  }

  #apply(event: string, data: unknown): void {
    const s = this.state;
    if (!s) return;
    switch (event) {
      case 'meeting:changed':
        s.meeting = data as LiveSnapshot['meeting'];
        break;
      case 'agenda:changed':
        s.agenda = data as LiveSnapshot['agenda'];
        // The server re-sends the speakers only when the list or floor changed; keep the item in step.
        s.speakers = { ...s.speakers, agendaItemId: s.agenda.items.find((i) => i.status === 'current')?.id ?? null };
        break;
      case 'attendance:changed':
        s.attendance = data as LiveSnapshot['attendance'];
        break;
      case 'speakers:changed':
        s.speakers = data as LiveSnapshot['speakers'];
        break;
      case 'presenter:moved':
        s.presenter = data as LiveSnapshot['presenter'];
        break;
      case 'presence:changed': {
        const { changes } = data as { changes: { userId: number; online: boolean }[] };
        for (const { userId, online } of changes) {
          const e = s.attendance.attendance.find((a) => a.userId === userId);
          if (e) e.online = online;
        }
        break;
      }
      default:
        return;
    }
    this.state = { ...s };
    this.#changed();
  }

  #changed(): void {
    this.dispatchEvent(new Event('change'));
  }
}

/**
 * The live session of a view, one way for every live view (member, chair console, room display):
 * opened when the view connects (for the meeting `meetingId()` names then), closed when it
 * disconnects, and every change of the session calls `onChange` (by default: render again).
 */
export class LiveSessionController implements ReactiveController {
  /** The open session while the view is connected, else null. */
  session: LiveSession | null = null;
  #onChange = () => this.onChange();

  constructor(
    private readonly host: ReactiveControllerHost,
    private readonly meetingId: () => number,
    private readonly onChange: () => void = () => host.requestUpdate(),
  ) {
    host.addController(this);
  }

  hostConnected(): void {
    this.session = new LiveSession(sharedRealtime(), this.meetingId());
    this.session.addEventListener('change', this.#onChange);
    this.host.requestUpdate();
  }

  hostDisconnected(): void {
    this.session?.removeEventListener('change', this.#onChange);
    this.session?.close();
    this.session = null;
  }
}
