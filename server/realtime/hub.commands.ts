import { RateLimiterMemory } from 'rate-limiter-flexible';
import type { Socket } from 'socket.io';
import type { z } from 'zod';
import type { Ack } from '../../shared/protocol/common.js';
import { CommandId, type CommandSpec } from '../../shared/protocol/realtime.js';
import { authenticateCookie } from '../auth/sessions.js';
import { AppError } from '../http/errors.js';
import type { Logger } from '../log.js';
import { meetingAccess } from '../meetings/meetings.access.js';
import { findCommandAck, saveCommandAck } from './commands.repo.js';
import { type CommandContext, type CommandHandler, type HubContext, type RealtimeHub, type SocketData, fail, hubOptions } from './hub.types.js';

const UNCACHED_ERRORS = new Set(['rate_limited', 'invalid_payload', 'internal']);

/**
 * The one command wrapper of the hub: registration of command tables (`RealtimeHub.commands`), and
 * for every command: session re-check, per-socket rate limit, payload is an object, `commandId`,
 * zod `safeParse`, dedupe by `(user, commandId)` (in memory, and in the database for authoritative
 * commands), the handler with its `CommandContext`, the error funnel. `hub` is the hub handlers see.
 */
export function createCommands(ctx: HubContext, log: Logger, hub: () => RealtimeHub) {
  const { config } = ctx;
  const limiter = new RateLimiterMemory({ points: hubOptions.ratePoints, duration: hubOptions.rateWindowSeconds });
  const registered: [string, (socket: Socket, args: unknown[]) => Promise<void>][] = [];
  const known = new Set<string>();
  const memAcks = new Map<string, Promise<Ack<unknown>>>();

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

    /** The acknowledgement is (or will be) committed with the command's own writes: nothing to record after it. */
    let recorded = false;
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
        if (!spec.authoritative || !commandId) return undefined;
        recorded = true;
        return { userId: user.id, commandId, event };
      },
      tx(fn) {
        return ctx.store.tx(async (q) => {
          const result = await fn(q);
          if (spec.authoritative && commandId) {
            await saveCommandAck(ctx.store, user.id, commandId, event, { ok: true, data: result ?? null });
            recorded = true;
          }
          return result;
        });
      },
    };
    const run = (async (): Promise<Ack<unknown>> => {
      try {
        const data = await handler(parsed.data, c);
        const ack: Ack<unknown> = { ok: true, data: data ?? null };
        if (spec.authoritative && commandId && !recorded) await saveCommandAck(ctx.store, user.id, commandId, event, ack);
        return ack;
      } catch (err) {
        if (err instanceof AppError) {
          if (checksOwnRetry && spec.authoritative && commandId) {
            // Refused now (the vote closed since, say), but answered before: the retry gets that answer.
            const stored = await findCommandAck(ctx.store, user.id, commandId);
            if (stored) return stored as Ack<unknown>;
          }
          slog().info({ code: err.code }, 'command refused');
          return fail(err.code, err.message, err.details);
        }
        slog().error({ err }, 'command failed');
        return fail('internal', 'Internal error');
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
