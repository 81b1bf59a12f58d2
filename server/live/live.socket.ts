import { LIVE_COMMANDS } from '../../shared/protocol/live.js';
import type { Db } from '../db/client.js';
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
  const { db, bus } = ctx;

  hub.snapshot('live', (meetingId) => live.liveSnapshot(db, meetingId, hub.online(meetingId)));

  /** Authorize + one transaction + pushes of what changed (+ the floor on ctx.bus when it moved). */
  async function run<T>(c: CommandContext, meetingId: number, changes: Change[], fn: (d: Db, a: MeetingAccess) => T): Promise<T> {
    const a = await c.access(meetingId);
    const before = changes.includes('speakers') || changes.includes('agenda') || changes.includes('meeting') ? (floorNow(db, meetingId) ?? null) : undefined;
    const result = await c.tx((d) => fn(d, a));
    publish(meetingId, changes);
    if (before !== undefined) {
      const after = floorNow(db, meetingId);
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

  function publish(meetingId: number, changes: Change[]) {
    for (const change of changes) {
      if (change === 'meeting') bus.emit('meeting:changed', { meetingId });
      else if (change === 'agenda') {
        // The tablets first, synchronously; the other subscribers (search, minutes, …) on the next turn.
        pushAgenda(meetingId);
        pushedHere.set(meetingId, (pushedHere.get(meetingId) ?? 0) + 1);
        const version = agendaVersion(db, meetingId);
        setImmediate(() => bus.emit('agenda:changed', { meetingId, version }));
      }
      else if (change === 'attendance') hub.broadcast(meetingId, 'attendance:changed', live.attendanceState(db, meetingId, hub.online(meetingId)));
      else if (change === 'speakers') pushSpeakers(meetingId, true);
      else hub.broadcast(meetingId, 'presenter:moved', live.presenterState(db, meetingId));
    }
  }

  const roomEmpty = (meetingId: number) => hub.online(meetingId).size === 0;

  // The list and floor last pushed per meeting: an agenda change (e.g. the next item) pushes the
  // speakers again only when the list or the floor differ — not one extra push per tablet per click.
  const lastSpeakers = new Map<number, string>();
  function pushSpeakers(meetingId: number, always: boolean) {
    const state = live.speakersState(db, meetingId);
    const key = JSON.stringify([state.queue, state.floor]);
    if (!always && lastSpeakers.get(meetingId) === key) return;
    lastSpeakers.set(meetingId, key);
    hub.broadcast(meetingId, 'speakers:changed', state);
  }
  function pushAgenda(meetingId: number) {
    if (roomEmpty(meetingId)) return;
    const agenda = agendaForPush(db, meetingId);
    if (!agenda) return;
    hub.broadcast(meetingId, 'agenda:changed', agenda);
    pushSpeakers(meetingId, false);
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
    pushAgenda(meetingId);
  });
  bus.prependListener('meeting:changed', ({ meetingId }) => {
    if (roomEmpty(meetingId)) return;
    hub.broadcast(meetingId, 'meeting:changed', live.meetingLiveState(db, meetingId));
    hub.broadcast(meetingId, 'attendance:changed', live.attendanceState(db, meetingId, hub.online(meetingId)));
  });

  const attendanceAck = (d: Db, meetingId: number) => live.attendanceState(d, meetingId, hub.online(meetingId));

  hub.commands(LIVE_COMMANDS, {
    'attendance:check_in': (p, c) =>
      run(c, p.meetingId, ['attendance'], (d, a) => {
        live.checkIn(d, a, c.user, p);
        return attendanceAck(d, p.meetingId);
      }),
    'attendance:mark_absent': (p, c) =>
      run(c, p.meetingId, ['attendance'], (d, a) => {
        live.markAbsent(d, a, c.user, p);
        return attendanceAck(d, p.meetingId);
      }),
    'attendance:set_proxy': (p, c) =>
      run(c, p.meetingId, ['attendance'], (d, a) => {
        live.setProxy(d, a, c.user, p);
        return attendanceAck(d, p.meetingId);
      }),
    'meeting:open': (p, c) =>
      run(c, p.meetingId, ['meeting', 'agenda'], (d, a) => {
        live.openMeeting(d, a, c.user, p);
        return live.meetingLiveState(d, p.meetingId);
      }),
    'meeting:pause': (p, c) => statusCommand(c, p.meetingId, 'pause'),
    'meeting:resume': (p, c) => statusCommand(c, p.meetingId, 'resume'),
    'meeting:close': (p, c) => statusCommand(c, p.meetingId, 'close'),
    'agenda:goto': (p, c) => run(c, p.meetingId, ['agenda'], (d, a) => ({ currentItemId: live.moveCurrent(d, a, c.user, { goto: p.itemId }) })),
    'agenda:next': (p, c) => run(c, p.meetingId, ['agenda'], (d, a) => ({ currentItemId: live.moveCurrent(d, a, c.user, 'next') })),
    'agenda:previous': (p, c) => run(c, p.meetingId, ['agenda'], (d, a) => ({ currentItemId: live.moveCurrent(d, a, c.user, 'previous') })),
    'agenda:mark': (p, c) =>
      run(c, p.meetingId, ['agenda'], (d, a) => {
        live.markItem(d, a, c.user, p);
        return null;
      }),
    'agenda:add_urgent': (p, c) => run(c, p.meetingId, ['agenda'], (d, a) => ({ itemId: live.addUrgentItem(d, a, c.user, p) })),
    'speaker:request': (p, c) => run(c, p.meetingId, ['speakers'], (d, a) => ({ requestId: live.requestFloor(d, a, c.user, p.kind) })),
    'speaker:withdraw': (p, c) =>
      run(c, p.meetingId, ['speakers'], (d, a) => {
        live.withdrawRequest(d, a, c.user, p.requestId);
        return null;
      }),
    'speaker:grant': (p, c) => run(c, p.meetingId, ['speakers'], (d, a) => live.grantFloor(d, a, c.user, p)),
    'speaker:next': (p, c) => run(c, p.meetingId, ['speakers'], (d, a) => live.nextSpeaker(d, a, c.user, p)),
    'speaker:end': (p, c) =>
      run(c, p.meetingId, ['speakers'], (d, a) => {
        live.endTurn(d, a, c.user);
        return null;
      }),
    'speaker:remove': (p, c) =>
      run(c, p.meetingId, ['speakers'], (d, a) => {
        live.removeRequest(d, a, c.user, p.requestId);
        return null;
      }),
    'speaker:reorder': (p, c) =>
      run(c, p.meetingId, ['speakers'], (d, a) => {
        live.reorderQueue(d, a, c.user, p.requestIds);
        return null;
      }),
    'presenter:show': (p, c) =>
      run(c, p.meetingId, ['presenter'], (d, a) => {
        live.showPage(d, a, c.user, p);
        return null;
      }),
    'presenter:stop': (p, c) =>
      run(c, p.meetingId, ['presenter'], (d, a) => {
        live.showPage(d, a, c.user, null);
        return null;
      }),
  });

  function statusCommand(c: CommandContext, meetingId: number, action: 'pause' | 'resume' | 'close') {
    return run(c, meetingId, action === 'close' ? ['meeting', 'speakers', 'presenter'] : ['meeting'], (d, a) => {
      live.changeStatus(d, a, c.user, action);
      return live.meetingLiveState(d, meetingId);
    });
  }
};
