import { RateLimiterMemory } from 'rate-limiter-flexible';
import type { Socket } from 'socket.io';
import type { z } from 'zod';
import type { Ack } from '../../shared/protocol/common.js';
import { CommandId, type CommandSpec } from '../../shared/protocol/realtime.js';
import { authenticateCookie } from '../auth/sessions.js';
import { AppError } from '../http/errors.js';
import type { Logger } from '../log.js';
import { meetingAccess } from '../meetings/meetings.access.js';
import { CommandReplayed, type CommandScope, commandScope, commandTx, findCommandAck, recordCommandAck } from './commands.repo.js';
import { type CommandContext, type CommandHandler, type HubContext, type RealtimeHub, type SocketData, fail, hubOptions } from './hub.types.js';

/**
 * Refusals a retry with the same commandId may get past, so they are not remembered for it. `not_owner` too: a
 * tablet whose ballot reached this node just before it took the meeting over (the owner killed, its lease not yet
 * expired) retries here once it has; remembered, that ballot was answered not_owner forever (failover drill, #18).
 */
const UNCACHED_ERRORS = new Set(['rate_limited', 'invalid_payload', 'internal', 'not_owner']);

/**
 * The one command wrapper of the hub: registration of command tables (`RealtimeHub.commands`), and
 * for every command: session re-check, per-socket rate limit, payload is an object, `commandId`,
 * zod `safeParse`, dedupe by `(user, commandId)` (in memory, and in the database for authoritative
 * commands: recorded in the transaction of their change, commands.repo.ts `commandTx`, through the
 * {@link commandScope} the handler runs in), the handler with its `CommandContext`, the error funnel.
 * `hub` is the hub handlers see.
 */
export function createCommands(ctx: HubContext, log: Logger, hub: () => RealtimeHub) {
  const { config } = ctx;
  const limiter = new RateLimiterMemory({ points: hubOptions.ratePoints, duration: hubOptions.rateWindowSeconds });
  const registered: [string, (socket: Socket, args: unknown[]) => Promise<void>][] = [];
  const known = new Set<string>();
  const memAcks = new Map<string, Promise<Ack<unknown>>>();
  // Fault injection for the crash tests (test/integration/commands-durable*.test.ts), honoured only under
  // NODE_ENV=test: the process kills itself (SIGKILL) once a command of this event with an id has run its
  // handler — its effect committed — and before anything else is recorded or the client is answered.
  const crashAfterEffect = config.env === 'test' ? process.env.ECABINET_TEST_CRASH_AFTER_COMMAND : undefined;

  /** The one wrapper every command goes through. */
  async function dispatch(event: string, spec: CommandSpec, handler: CommandHandler<CommandSpec>, socket: Socket, args: unknown[], checksOwnRetry: boolean) {
    const last = args.at(-1);
    const respond = typeof last === 'function' ? (last as (a: Ack<unknown>) => void) : () => {};
    const raw = typeof last === 'function' ? args.slice(0, -1)[0] : args[0];
    const sd = socket.data as SocketData;
    const { user } = sd;
    // Created on first use: most commands log nothing, and a child logger per command is not free.
    let childLog: Logger | undefined;
    const slog = () => (childLog ??= log.child({ socketId: socket.id, userId: user.id, event }));

    // The handshake's session may have ended since (logout, expiry, deactivation): check it again now and then.
    if (Date.now() - sd.checkedAt >= hubOptions.sessionRecheckMs) {
      const live = await authenticateCookie(ctx.store, sd.cookie, config.mfaRequiredRoles).catch((err: unknown) => {
        slog().error({ err }, 'session re-check failed');
        return 'failed' as const;
      });
      if (live === 'failed') return respond(fail('internal', 'Server error'));
      if (!live) {
        respond(fail('unauthenticated', 'Your session has ended; sign in again'));
        socket.disconnect(true);
        return;
      }
      sd.checkedAt = Date.now();
    }

    try {
      await limiter.consume(socket.id);
    } catch {
      slog().warn('socket rate limited');
      return respond(fail('rate_limited', 'Too many commands; slow down'));
    }

    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return respond(fail('invalid_payload', 'The payload must be an object'));
    const { commandId: rawId, ...body } = raw as Record<string, unknown>;
    let commandId: string | undefined;
    if (rawId !== undefined) {
      const id = CommandId.safeParse(rawId);
      if (!id.success) return respond(fail('invalid_payload', 'commandId: must be 8–64 URL-safe characters'));
      commandId = id.data;
    }
    const parsed = spec.payload.safeParse(body);
    if (!parsed.success) return respond(fail('invalid_payload', describe(parsed.error)));

    const key = commandId ? `${user.id}:${commandId}` : null;
    if (key) {
      const pending = memAcks.get(key);
      if (pending) return respond(await pending);
      if (spec.authoritative && !checksOwnRetry) {
        const stored = await findCommandAck(ctx.store, user.id, commandId!);
        if (stored) return respond(stored as Ack<unknown>);
      }
    }

    // An authoritative command with an id records it with its effect (commands.repo.ts `commandTx`): the
    // handler's transaction, found through this scope, commits the acknowledgement with what it acknowledges.
    const scope: CommandScope | undefined = spec.authoritative && commandId ? { userId: user.id, commandId, event, state: 'open' } : undefined;
    const c: CommandContext = {
      user,
      socket,
      get log() {
        return slog();
      },
      ctx,
      hub: hub(),
      access: (meetingId) => meetingAccess(ctx.store, user, meetingId),
      takeAck() {
        if (!scope || scope.state !== 'open') return undefined;
        scope.state = 'taken';
        return { userId: user.id, commandId: scope.commandId, event };
      },
      tx: (fn) => commandTx(ctx.store, fn, (result) => result),
    };
    const run = (async (): Promise<Ack<unknown>> => {
      try {
        const data = await (scope ? commandScope.run(scope, () => handler(parsed.data, c)) : handler(parsed.data, c));
        if (scope && crashAfterEffect === event) process.kill(process.pid, 'SIGKILL');
        const ack: Ack<unknown> = { ok: true, data: data ?? null };
        // Nothing written (a no-op like pulling an item already pulled): its acknowledgement alone is recorded,
        // and a retry that comes before it runs the command again, which again changes nothing.
        if (scope?.state === 'open') return (await recordCommandAck(ctx.store, scope, ack)) as Ack<unknown>;
        return ack;
      } catch (err) {
        if (err instanceof CommandReplayed) return err.ack as Ack<unknown>;
        if (err instanceof AppError) {
          // Refused now, but answered before (a handler that checks its own retry: the ballot batch), or a run of
          // the same command elsewhere committed between our look-up and the handler's checks (the vote is now
          // closed — by that very command): the recorded acknowledgement is the answer, not the refusal.
          const stored = scope ? await findCommandAck(ctx.store, user.id, scope.commandId) : undefined;
          if (stored) return stored as Ack<unknown>;
          slog().info({ code: err.code }, 'command refused');
          return fail(err.code, err.message, err.details);
        }
        slog().error({ err }, 'command failed');
        return fail('internal', 'Internal error');
      } finally {
        if (scope) scope.state = 'done';
      }
    })();
    if (key) remember(key, run);
    const ack = await run;
    if (key && !ack.ok && UNCACHED_ERRORS.has(ack.error.code)) memAcks.delete(key);
    respond(ack);
  }

  function remember(key: string, p: Promise<Ack<unknown>>) {
    memAcks.set(key, p);
    if (memAcks.size > hubOptions.memoryAckCache) memAcks.delete(memAcks.keys().next().value!);
  }

  return {
    commands: ((table, handlers, opts) => {
      const selfChecked = new Set<string>(opts?.checksOwnRetry ?? []);
      for (const [event, spec] of Object.entries(table)) {
        const handler = handlers[event as keyof typeof handlers] as CommandHandler<CommandSpec> | undefined;
        if (!handler) throw new Error(`no handler for socket command ${event}`);
        if (registered.some(([e]) => e === event)) throw new Error(`socket command ${event} registered twice`);
        registered.push([event, (socket, args) => dispatch(event, spec, handler, socket, args, selfChecked.has(event))]);
        known.add(event);
      }
    }) as RealtimeHub['commands'],
    /** Listens for every registered command on a new socket; an unknown event with an ack gets `unknown_event`. */
    attach(socket: Socket) {
      for (const [event, fn] of registered) {
        socket.on(event, (...args: unknown[]) => {
          // A database that fails before the handler's own error funnel (the command-id look-up, the session
          // re-check) answers `internal` instead of leaving an unhandled rejection that would end the process.
          fn(socket, args).catch((err: unknown) => {
            log.error({ err, event, socketId: socket.id }, 'command failed before its handler');
            const ack = args.at(-1);
            if (typeof ack === 'function') ack(fail('internal', 'Internal error'));
          });
        });
      }
      // An event nobody registered gets a clear answer instead of a client-side timeout.
      socket.onAny((event: string, ...args: unknown[]) => {
        const ack = args.at(-1);
        if (!known.has(event) && typeof ack === 'function') ack(fail('unknown_event', `No such command: ${String(event).slice(0, 64)}`));
      });
    },
    /** Forgets a disconnected socket's rate-limit bucket. */
    forget(socketId: string) {
      limiter.delete(socketId).catch(() => {});
    },
  };
}

function describe(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => `${i.path.join('.') || '(payload)'}: ${i.message}`)
    .join('; ');
}
