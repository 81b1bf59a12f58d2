import { LIVE_COMMANDS } from '../../shared/protocol/live.js';
import { ownershipOf } from '../cluster/cluster.service.js';
import type { MeetingAccess } from '../meetings/meetings.access.js';
import type { SocketDomain } from '../context.js';
import type { CommandContext } from '../realtime/hub.js';
import { agendaForPush, agendaVersion, floorNow } from './live.repo.js';
import * as live from './live.service.js';

type Change = 'meeting' | 'agenda' | 'attendance' | 'speakers' | 'presenter';

/**
 * The live meeting over Socket.IO: every command validates (the wrapper), authorizes and writes in
 * one transaction (live.service), then pushes the changed parts to the meeting room. Meeting and
 * agenda changes go through ctx.bus so REST edits (agenda, meeting) reach the tablets the same way.
 */
export const liveSocket: SocketDomain = (hub, ctx) => {
  const { store, bus, log } = ctx;
  const l: live.LiveDb = ctx;

  hub.snapshot('live', (meetingId) => live.liveSnapshot(store, meetingId, hub.online(meetingId)));

  /** Authorize + one transaction + pushes of what changed (+ the floor on ctx.bus when it moved). */
  async function run<T>(c: CommandContext, meetingId: number, changes: Change[], fn: (a: MeetingAccess) => Promise<T>): Promise<T> {
    const a = await c.access(meetingId);
    const before = changes.includes('speakers') || changes.includes('agenda') || changes.includes('meeting') ? ((await floorNow(store, meetingId)) ?? null) : undefined;
    // Several server nodes (#18): the meeting's live state is written only by its owner, the lease checked
    // inside the transaction (not_owner for a node that lost it); on one node both steps do nothing.
    const own = ownershipOf(ctx);
    await own.claim(meetingId);
    const result = await c.tx(async (q) => {
      await own.fence(q, meetingId);
      return fn(a);
    });
    await inOrder(meetingId, () => publish(meetingId, changes));
    if (before !== undefined) {
      const after = await floorNow(store, meetingId);
      if (before?.id !== after?.id) {
        bus.emit('floor:changed', {
          meetingId,
          userId: after?.userId ?? null,
          requestId: after?.id ?? null,
          kind: after?.kind ?? null,
          startedAt: after?.startedAt ?? null,
          allottedSeconds: after?.allottedSeconds ?? null,
        });
      }
    }
    return result;
  }

  /**
   * A meeting's pushes, one after the other: each reads the state after the previous one was sent, so
   * the tablets never receive an older state after a newer one (the reads wait on the database).
   */
  const pushing = new Map<number, Promise<void>>();
  function inOrder(meetingId: number, push: () => Promise<void>): Promise<void> {
    const next = (pushing.get(meetingId) ?? Promise.resolve()).then(push);
    const settled = next.catch(() => undefined);
    pushing.set(meetingId, settled);
    void settled.then(() => {
      if (pushing.get(meetingId) === settled) pushing.delete(meetingId);
    });
    return next;
  }
  /** For the bus listeners: pushes in order, a failure logged (nobody awaits them). */
  function pushLater(meetingId: number, push: () => Promise<void>): void {
    inOrder(meetingId, push).catch((err: unknown) => log.error({ err, meetingId }, 'live push failed'));
  }

  async function publish(meetingId: number, changes: Change[]) {
    for (const change of changes) {
      if (change === 'meeting') bus.emit('meeting:changed', { meetingId });
      else if (change === 'agenda') {
        // The tablets first; the other subscribers (search, minutes, …) on the next turn.
        pushedHere.set(meetingId, (pushedHere.get(meetingId) ?? 0) + 1);
        await pushAgenda(meetingId);
        const version = await agendaVersion(store, meetingId);
        setImmediate(() => bus.emit('agenda:changed', { meetingId, version }));
      } else if (change === 'attendance') hub.broadcast(meetingId, 'attendance:changed', await live.loadAttendanceState(store, meetingId, hub.online(meetingId)));
      else if (change === 'speakers') await pushSpeakers(meetingId, true);
      else hub.broadcast(meetingId, 'presenter:moved', await live.presenterState(store, meetingId));
    }
  }

  const roomEmpty = (meetingId: number) => hub.online(meetingId).size === 0;

  // The list and floor last pushed per meeting: an agenda change (e.g. the next item) pushes the
  // speakers again only when the list or the floor differ — not one extra push per tablet per click.
  const lastSpeakers = new Map<number, string>();
  async function pushSpeakers(meetingId: number, always: boolean) {
    const state = await live.loadSpeakersState(store, meetingId);
    const key = JSON.stringify([state.queue, state.floor]);
    if (!always && lastSpeakers.get(meetingId) === key) return;
    lastSpeakers.set(meetingId, key);
    hub.broadcast(meetingId, 'speakers:changed', state);
  }
  async function pushAgenda(meetingId: number) {
    if (roomEmpty(meetingId)) return;
    const agenda = await agendaForPush(store, meetingId);
    if (!agenda) return;
    hub.broadcast(meetingId, 'agenda:changed', agenda);
    await pushSpeakers(meetingId, false);
  }
  /** Agenda changes this domain already pushed (per meeting), whose bus event must not push again. */
  const pushedHere = new Map<number, number>();
  // REST edits (and live commands, already pushed) announce agenda changes on the bus.
  // Prepended: the tablets hear first, slower subscribers (search indexing, minutes) run after.
  bus.prependListener('agenda:changed', ({ meetingId }) => {
    const n = pushedHere.get(meetingId) ?? 0;
    if (n > 0) {
      if (n === 1) pushedHere.delete(meetingId);
      else pushedHere.set(meetingId, n - 1);
      return;
    }
    pushLater(meetingId, () => pushAgenda(meetingId));
  });
  bus.prependListener('meeting:changed', ({ meetingId }) => {
    if (roomEmpty(meetingId)) return;
    pushLater(meetingId, async () => {
      hub.broadcast(meetingId, 'meeting:changed', await live.meetingLiveState(store, meetingId));
      hub.broadcast(meetingId, 'attendance:changed', await live.loadAttendanceState(store, meetingId, hub.online(meetingId)));
    });
  });

  const attendanceAck = (meetingId: number) => live.loadAttendanceState(store, meetingId, hub.online(meetingId));

  hub.commands(LIVE_COMMANDS, {
    'attendance:check_in': (p, c) =>
      run(c, p.meetingId, ['attendance'], async (a) => {
        await live.checkIn(l, a, c.user, p);
        return attendanceAck(p.meetingId);
      }),
    'attendance:mark_absent': (p, c) =>
      run(c, p.meetingId, ['attendance'], async (a) => {
        await live.markAbsent(l, a, c.user, p);
        return attendanceAck(p.meetingId);
      }),
    'attendance:set_proxy': (p, c) =>
      run(c, p.meetingId, ['attendance'], async (a) => {
        await live.setProxy(l, a, c.user, p);
        return attendanceAck(p.meetingId);
      }),
    'meeting:open': (p, c) =>
      run(c, p.meetingId, ['meeting', 'agenda'], async (a) => {
        await live.openMeeting(l, a, c.user, p);
        return live.meetingLiveState(store, p.meetingId);
      }),
    'meeting:pause': (p, c) => statusCommand(c, p.meetingId, 'pause'),
    'meeting:resume': (p, c) => statusCommand(c, p.meetingId, 'resume'),
    'meeting:close': (p, c) => statusCommand(c, p.meetingId, 'close'),
    'agenda:goto': (p, c) => run(c, p.meetingId, ['agenda'], async (a) => ({ currentItemId: await live.moveCurrent(l, a, c.user, { goto: p.itemId }) })),
    'agenda:next': (p, c) => run(c, p.meetingId, ['agenda'], async (a) => ({ currentItemId: await live.moveCurrent(l, a, c.user, 'next') })),
    'agenda:previous': (p, c) => run(c, p.meetingId, ['agenda'], async (a) => ({ currentItemId: await live.moveCurrent(l, a, c.user, 'previous') })),
    'agenda:mark': (p, c) =>
      run(c, p.meetingId, ['agenda'], async (a) => {
        await live.markItem(l, a, c.user, p);
        return null;
      }),
    'agenda:add_urgent': (p, c) => run(c, p.meetingId, ['agenda'], async (a) => ({ itemId: await live.addUrgentItem(l, a, c.user, p) })),
    'speaker:request': (p, c) => run(c, p.meetingId, ['speakers'], async (a) => ({ requestId: await live.requestFloor(l, a, c.user, p.kind) })),
    'speaker:withdraw': (p, c) =>
      run(c, p.meetingId, ['speakers'], async (a) => {
        await live.withdrawRequest(l, a, c.user, p.requestId);
        return null;
      }),
    'speaker:grant': (p, c) => run(c, p.meetingId, ['speakers'], (a) => live.grantFloor(l, a, c.user, p)),
    'speaker:next': (p, c) => run(c, p.meetingId, ['speakers'], (a) => live.nextSpeaker(l, a, c.user, p)),
    'speaker:end': (p, c) =>
      run(c, p.meetingId, ['speakers'], async (a) => {
        await live.endTurn(l, a, c.user);
        return null;
      }),
    'speaker:remove': (p, c) =>
      run(c, p.meetingId, ['speakers'], async (a) => {
        await live.removeRequest(l, a, c.user, p.requestId);
        return null;
      }),
    'speaker:reorder': (p, c) =>
      run(c, p.meetingId, ['speakers'], async (a) => {
        await live.reorderQueue(l, a, c.user, p.requestIds);
        return null;
      }),
    'presenter:show': (p, c) =>
      run(c, p.meetingId, ['presenter'], async (a) => {
        await live.showPage(l, a, c.user, p);
        return null;
      }),
    'presenter:stop': (p, c) =>
      run(c, p.meetingId, ['presenter'], async (a) => {
        await live.showPage(l, a, c.user, null);
        return null;
      }),
  });

  function statusCommand(c: CommandContext, meetingId: number, action: 'pause' | 'resume' | 'close') {
    return run(c, meetingId, action === 'close' ? ['meeting', 'speakers', 'presenter'] : ['meeting'], async (a) => {
      await live.changeStatus(l, a, c.user, action);
      return live.meetingLiveState(store, meetingId);
    });
  }
};
