import { io, type Socket } from 'socket.io-client';
import type { Ack } from '../../shared/protocol/common.js';
import {
  type CommandInput,
  type CommandResult,
  type JoinMeetingAck,
  PROTOCOL_VERSION,
  type Push,
  OWNER_HINT_PARAM,
  ROUTING_PARAM,
  SOCKET_PATH,
} from '../../shared/protocol/realtime.js';
import { type C2S, COMMANDS, type CommandName, type Commands, type PushName, type Pushes, type S2C } from '../../shared/protocol/socket-events.js';
import type { z } from 'zod';

/** A command that failed: the server's stable `code`, or `offline` / `connection_lost` / `timeout` on the client side. */
export class CommandError extends Error {
  constructor(
    readonly code: string,
    message: string,
    /** The server's `details` (e.g. `not_owner`'s `{ nodeId }`), if any. */
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'CommandError';
  }
}

export type SocketState = 'connecting' | 'online' | 'offline';

/** How long a non-idempotent command waits for its acknowledgement before failing with `timeout`. */
export const ACK_TIMEOUT_MS = 15_000;

/** A new command id: unique per command, reused for its retries. */
export const newCommandId = (): string =>
  typeof crypto !== 'undefined' && 'randomUUID' in crypto ? crypto.randomUUID() : `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 12)}`;

interface Pending {
  event: string;
  payload: Record<string, unknown>;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}

/**
 * Window (and RealtimeClient) event `ec-meeting-revoked`, detail `{ meetingId }`: the server says the
 * signed-in user may no longer see that meeting (`meeting:access_revoked`). The app shell leaves its
 * views, the offline store drops its copy, collaborative documents of the meeting close.
 */
export const MEETING_REVOKED = 'ec-meeting-revoked';

/**
 * The one Socket.IO connection of the app (provide it via @lit/context; views never open sockets).
 * - Connects with the session cookie (same origin, credentials) and the protocol version.
 * - `command(event, payload)` sends a command with a fresh `commandId` and resolves with the ack's
 *   `data` or rejects with a {@link CommandError}. Commands marked `idempotent` in the protocol
 *   table wait through a disconnection and are resent with the same `commandId` (the server applies
 *   them once); every other command is refused while offline (`offline`) and, if the connection drops
 *   before its ack, rejects with `connection_lost` — it is never replayed behind the user's back.
 * - `meeting(id)` joins a meeting room and keeps it joined across reconnects; see {@link MeetingChannel}.
 * - `state` and the `state` event tell the UI "online" / "offline — reconnecting".
 * - `now()` is the server's clock (offset measured with `clock:sync`), for timers.
 */
export class RealtimeClient extends EventTarget {
  readonly socket: Socket<S2C, C2S>;
  state: SocketState = 'connecting';
  /** serverTime − localTime, in ms. */
  clockOffset = 0;
  /** Why the server refused the connection (`unauthenticated`, `protocol_mismatch`, `csrf`), if it did. */
  refused: string | null = null;
  #waiting: Pending[] = [];
  #inflight = new Set<Pending>();
  /** Open meeting channels, newest last: the newest one's meeting is the connection's routing key. */
  #channels: MeetingChannel[] = [];
  #closed = false;

  /** `url`: another origin (tests); `extraHeaders`: e.g. the cookie for a non-browser client (tests, bench). */
  constructor(opts: { url?: string; transports?: string[]; extraHeaders?: Record<string, string> } = {}) {
    super();
    const options = {
      path: SOCKET_PATH,
      withCredentials: true,
      transports: opts.transports ?? ['websocket', 'polling'],
      auth: { protocolVersion: PROTOCOL_VERSION },
      reconnectionDelay: 500,
      reconnectionDelayMax: 5000,
      // Connects on the next microtask, once the view that created the client has opened its meeting
      // channel: the first handshake then already carries `meeting=<id>` (see `route`).
      autoConnect: false,
      ...(opts.extraHeaders ? { extraHeaders: opts.extraHeaders } : {}),
    };
    this.socket = (opts.url ? io(opts.url, options) : io(options)) as Socket<S2C, C2S>;
    queueMicrotask(() => {
      if (!this.#closed) this.socket.connect();
    });
    this.socket.on('connect', () => {
      this.refused = null;
      this.#setState('online');
      void this.syncClock();
      const queued = this.#waiting.splice(0);
      for (const p of queued) this.#send(p);
    });
    this.socket.on('disconnect', (reason) => {
      this.#setState('offline');
      for (const p of [...this.#inflight]) {
        this.#inflight.delete(p);
        if (isIdempotent(p.event)) this.#waiting.push(p);
        else p.reject(new CommandError('connection_lost', 'The connection dropped before the server answered'));
      }
      // A server-side disconnect (session ended) does not reconnect by itself.
      if (reason === 'io server disconnect') this.socket.connect();
    });
    // The browser knows the network is gone before the socket does (a half-open connection can linger
    // for a ping timeout, 45 s): drop the transport at once, so commands fail with `offline` / 
    // `connection_lost` instead of waiting, and socket.io reconnects when the network is back.
    if (typeof window !== 'undefined') {
      window.addEventListener('offline', () => {
        if (this.socket.connected) this.socket.io.engine?.close();
      });
    }
    // The server took this user's access to a meeting away (removed from its participants): one app-wide
    // event, so every open view, offline copy and collaborative document of that meeting can let go of it.
    (this.socket as unknown as Socket).on('meeting:access_revoked', (push: Push<{ meetingId: number }>) => {
      const meetingId = push?.data?.meetingId;
      if (typeof meetingId !== 'number') return;
      this.dispatchEvent(new CustomEvent(MEETING_REVOKED, { detail: { meetingId } }));
      if (typeof window !== 'undefined') window.dispatchEvent(new CustomEvent(MEETING_REVOKED, { detail: { meetingId } }));
    });
    this.socket.on('connect_error', (err: Error & { data?: { code?: string } }) => {
      this.refused = err.data?.code ?? null;
      this.#setState('offline');
      // Refusals are not transient: socket.io stops retrying after a middleware error; a network error retries.
      if (this.refused) this.dispatchEvent(new CustomEvent('refused', { detail: this.refused }));
    });
  }

  /** The server's current time in ms since the epoch. */
  now(): number {
    return Date.now() + this.clockOffset;
  }

  /** Measures the server clock offset (best of three round trips). */
  async syncClock(): Promise<void> {
    let best = Infinity;
    for (let i = 0; i < 3; i++) {
      const sent = Date.now();
      try {
        const { serverTime } = await this.command('clock:sync', {});
        const received = Date.now();
        if (received - sent < best) {
          best = received - sent;
          this.clockOffset = serverTime - (sent + received) / 2;
        }
      } catch {
        return;
      }
    }
    this.dispatchEvent(new Event('clock'));
  }

  /** Sends a command; resolves with the ack's data, rejects with a CommandError. */
  command<K extends CommandName>(event: K, payload: CommandInput<Commands[K]>): Promise<CommandResult<Commands[K]>> {
    return new Promise((resolve, reject) => {
      const p: Pending = {
        event,
        payload: { ...(payload as Record<string, unknown>), commandId: (payload as { commandId?: string }).commandId ?? newCommandId() },
        resolve: resolve as (v: unknown) => void,
        reject,
      };
      // navigator.onLine === false: the tablet has no network even if the socket has not noticed yet.
      const online = typeof navigator === 'undefined' || navigator.onLine !== false;
      if (this.socket.connected && online) this.#send(p);
      else if (isIdempotent(event)) this.#waiting.push(p);
      else reject(new CommandError('offline', 'Offline: the command was not sent'));
    });
  }

  /** Listens to a server push; returns the unsubscribe function. */
  on<K extends PushName>(event: K, fn: (push: Push<z.output<Pushes[K]>>) => void): () => void {
    const handler = fn as never;
    (this.socket as unknown as Socket).on(event, handler);
    return () => (this.socket as unknown as Socket).off(event, handler);
  }

  /** Joins a meeting room and keeps it joined (resync after every reconnect and on any gap). */
  meeting(meetingId: number): MeetingChannel {
    return new MeetingChannel(this, meetingId);
  }

  close(): void {
    this.#closed = true;
    this.socket.close();
  }

  /**
   * The meeting the connection is routed by (`meeting=<id>` in the handshake; with several nodes HAProxy
   * sends it to the node serving that meeting), or null. It applies from the next (re)connection; a node
   * that does not serve a joined meeting answers `not_owner`, and the channel calls {@link reroute}.
   */
  get routedMeeting(): number | null {
    const q = this.socket.io.opts.query as Record<string, string> | undefined;
    const v = q?.[ROUTING_PARAM];
    return v ? Number(v) : null;
  }

  /** Called by MeetingChannel: the newest open channel's meeting routes the next connection. */
  attach(channel: MeetingChannel): void {
    this.#channels.push(channel);
    this.#route();
  }

  detach(channel: MeetingChannel): void {
    this.#channels = this.#channels.filter((c) => c !== channel);
    this.#route();
  }

  /**
   * The connected node does not serve `meetingId` (it answered `not_owner`, e.g. after a node failed and
   * HAProxy moved the meeting): reconnect routed by that meeting, so the handshake reaches its node.
   */
  reroute(meetingId: number, ownerNode: string | null = null): void {
    this.#setQuery(meetingId, ownerNode);
    if (this.#closed) return;
    this.socket.disconnect();
    this.socket.connect();
  }

  #route(): void {
    // A page with no meeting keeps the last routing key: the connection it has is as good as any.
    const newest = this.#channels.at(-1);
    if (newest) this.#setQuery(newest.meetingId);
  }

  /**
   * `node=<id>`: the owner a `not_owner` named. HAProxy sends the connection there when that node is up (the
   * hash may point elsewhere, e.g. at a node that came back while another holds the meeting's lease), else it
   * hashes as usual. Dropped when the routing meeting changes.
   */
  #setQuery(meetingId: number, ownerNode: string | null = null): void {
    const query: Record<string, string> = { ...(this.socket.io.opts.query as Record<string, string> | undefined) };
    const same = query[ROUTING_PARAM] === String(meetingId);
    query[ROUTING_PARAM] = String(meetingId);
    if (ownerNode) query[OWNER_HINT_PARAM] = ownerNode;
    else if (!same) delete query[OWNER_HINT_PARAM];
    this.socket.io.opts.query = query;
  }

  #send(p: Pending): void {
    this.#inflight.add(p);
    // A command that is not idempotent never waits forever on a connection that silently died: after
    // ACK_TIMEOUT_MS it fails with `timeout` (the server may or may not have applied it; the UI says so
    // and the caller's retry carries the same commandId, which the server answers without applying twice).
    const timer = isIdempotent(p.event)
      ? null
      : setTimeout(() => {
          if (this.#inflight.delete(p)) p.reject(new CommandError('timeout', 'The server did not answer in time'));
        }, ACK_TIMEOUT_MS);
    (this.socket as unknown as Socket).emit(p.event, p.payload, (ack: Ack<unknown>) => {
      if (timer) clearTimeout(timer);
      if (!this.#inflight.delete(p)) return;
      if (ack.ok) p.resolve(ack.data);
      else p.reject(new CommandError(ack.error.code, ack.error.message, ack.error.details));
    });
  }

  #setState(s: SocketState): void {
    if (s === this.state) return;
    this.state = s;
    this.dispatchEvent(new Event('state'));
  }
}

const isIdempotent = (event: string) => !!(COMMANDS as Record<string, { idempotent?: boolean }>)[event]?.idempotent;

/**
 * One joined meeting room. Keeps the last `epoch`/`seq`; a push with the next `seq` is delivered
 * to `onPush`, an older one (already in the snapshot) is dropped, and a gap or a new epoch (server
 * restart) triggers a re-join whose full snapshot goes to `onSnapshot` — so a tablet that was away
 * for seconds or minutes ends up with the current state, with no duplicates.
 */
export class MeetingChannel {
  epoch = '';
  seq = 0;
  joined: JoinMeetingAck | null = null;
  #unsubs: (() => void)[] = [];
  #joining: Promise<void> | null = null;
  #onSnapshot: ((ack: JoinMeetingAck) => void)[] = [];
  #onPush: ((event: string, data: unknown) => void)[] = [];
  #onError: ((e: CommandError) => void)[] = [];
  #closed = false;
  #buffer: [string, Push<unknown>][] = [];
  /** Wait before the next reroute after `not_owner` (0: at once; doubles to 5 s; reset by a successful join). */
  #rerouteDelay = 0;
  #rerouteTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    readonly client: RealtimeClient,
    readonly meetingId: number,
  ) {
    const onConnect = () => void this.resync();
    client.socket.on('connect', onConnect);
    this.#unsubs.push(() => client.socket.off('connect', onConnect));
    const onAny = (event: string, push: Push<unknown>) => {
      if (!push || push.meetingId !== meetingId || push.seq == null) return;
      // While joining, a push may overtake the join's ack: keep it and apply it after the snapshot if newer.
      if (this.#joining) return void this.#buffer.push([event, push]);
      if (this.joined) this.#apply(event, push);
    };
    (client.socket as unknown as Socket).onAny(onAny);
    this.#unsubs.push(() => (client.socket as unknown as Socket).offAny(onAny));
    // Access revoked: the server already took this socket out of the room; never re-join it.
    const onRevoked = (e: Event) => {
      if ((e as CustomEvent<{ meetingId: number }>).detail.meetingId !== meetingId) return;
      this.#closed = true;
      this.joined = null;
      for (const u of this.#unsubs) u();
    };
    client.addEventListener(MEETING_REVOKED, onRevoked);
    this.#unsubs.push(() => client.removeEventListener(MEETING_REVOKED, onRevoked));
    client.attach(this);
    this.#unsubs.push(() => client.detach(this));
    if (client.socket.connected) void this.resync();
  }

  /** Called with the full state on join and after every resync. */
  onSnapshot(fn: (ack: JoinMeetingAck) => void): this {
    this.#onSnapshot.push(fn);
    if (this.joined) fn(this.joined);
    return this;
  }

  /** Called with every push of this meeting, in order, exactly once. */
  onPush(fn: (event: string, data: unknown) => void): this {
    this.#onPush.push(fn);
    return this;
  }

  /** Called when joining fails (e.g. `not_found`). */
  onError(fn: (e: CommandError) => void): this {
    this.#onError.push(fn);
    return this;
  }

  /** (Re-)joins the room and takes the full snapshot. */
  resync(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#joining ??= this.#join();
    return this.#joining;
  }

  async #join(): Promise<void> {
    let ack: JoinMeetingAck;
    try {
      ack = await this.client.command('meeting:join', { meetingId: this.meetingId });
    } catch (e) {
      this.#joining = null;
      this.#buffer.length = 0;
      const err = e instanceof CommandError ? e : new CommandError('internal', String(e));
      // Several nodes: this one does not serve the meeting (it moved, or the connection was routed by another
      // meeting). Reconnect routed by this one, backing off while the meeting finds its new node; the
      // reconnection's `connect` joins again. Not an error for the view: it shows "reconnecting".
      if (err.code === 'not_owner' && !this.#closed) {
        const delay = this.#rerouteDelay;
        this.#rerouteDelay = Math.min(5000, Math.max(250, delay * 2));
        const owner = (err.details as { nodeId?: unknown } | undefined)?.nodeId;
        this.#rerouteTimer = setTimeout(() => {
          if (!this.#closed) this.client.reroute(this.meetingId, typeof owner === 'string' ? owner : null);
        }, delay);
        return;
      }
      for (const fn of this.#onError) fn(err);
      return;
    }
    this.#rerouteDelay = 0;
    this.joined = ack;
    this.epoch = ack.epoch;
    this.seq = ack.seq;
    this.#joining = null;
    for (const fn of this.#onSnapshot) fn(ack);
    for (const [event, push] of this.#buffer.splice(0)) this.#apply(event, push);
  }

  #apply(event: string, push: Push<unknown>): void {
    if (push.seq == null || push.seq <= this.seq && push.epoch === this.epoch) return;
    if (push.epoch !== this.epoch || push.seq > this.seq + 1) return void this.resync();
    this.seq = push.seq;
    for (const fn of this.#onPush) fn(event, push.data);
  }

  /** True once the server revoked the user's access to this meeting (or `close()` was called). */
  get closed(): boolean {
    return this.#closed;
  }

  /** Leaves the room and stops listening. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#rerouteTimer);
    for (const u of this.#unsubs) u();
    if (this.client.socket.connected) void this.client.command('meeting:leave', { meetingId: this.meetingId }).catch(() => {});
  }
}

let shared: RealtimeClient | null = null;

/**
 * The app's one Socket.IO connection (created on first use, same origin). Views and services share
 * it instead of opening their own, so a tablet has one socket and one presence per meeting.
 */
export function sharedRealtime(): RealtimeClient {
  // A connection refused for an ended session (sign-out elsewhere, deactivation) stays down; after the
  // next sign-in the app gets a fresh one.
  if (shared?.refused && !shared.socket.connected) {
    shared.close();
    shared = null;
  }
  shared ??= new RealtimeClient();
  return shared;
}

// Signing out closes the connection at once: a shared tablet keeps no socket of the previous user.
if (typeof window !== 'undefined') {
  window.addEventListener('ec-logout', () => {
    shared?.close();
    shared = null;
  });
}
