import fs from 'node:fs';
import { avFloorSettings, loadSpeakersState, saveAvFloorSettings } from '../live/live.service.js';
import type { AppContext, Running } from '../context.js';
import { loadSfuConfig } from './sfu.config.js';
import type { FloorSource } from './sfu.floor.js';
import { Sfu } from './sfu.service.js';
import { registerAvSocket } from './sfu.socket.js';
import type { Mediasoup } from './workers.js';

/**
 * Loads mediasoup when its worker binary is present and reports why not otherwise.
 * mediasoup 3.8 reads `MEDIASOUP_WORKER_BIN` once, when its module loads, so it is set first.
 */
async function loadMediasoup(bin: string | null, enabled: boolean): Promise<{ ms: Mediasoup } | { reason: string }> {
  if (!enabled) return { reason: 'turned off (ECABINET_SFU=off)' };
  if (!bin) return { reason: 'no mediasoup worker binary (install Debian mediasoup-worker or set MEDIASOUP_WORKER_BIN)' };
  try {
    fs.accessSync(bin, fs.constants.X_OK);
  } catch {
    return { reason: `mediasoup worker binary not found or not executable: ${bin}` };
  }
  process.env.MEDIASOUP_WORKER_BIN ??= bin;
  try {
    const mod = (await import('mediasoup')) as Mediasoup & { default?: Mediasoup };
    return { ms: mod.default ?? mod };
  } catch {
    return { reason: 'the mediasoup package is not installed (optional dependency)' };
  }
}

/**
 * Starts the SFU (`ctx.sfu`; tests and benchmarks inspect routers and kill workers through it). Runs
 * after the server created the realtime hub: its signaling is a set of hub commands. Without a worker the server runs everything else and
 * /healthz reports `sfu: "disabled"` with the reason; A/V commands then answer `sfu_disabled`.
 */
export async function startSfu(ctx: AppContext): Promise<Running> {
  const log = ctx.log.child({ module: 'sfu' });
  const config = loadSfuConfig(process.env, ctx.config.env);
  const loaded = await loadMediasoup(config.workerBin, config.enabled);
  const disable = (reason: string) => {
    ctx.health.sfu = { status: 'disabled', reason };
  };
  if ('reason' in loaded) {
    disable(loaded.reason);
    log.warn({ reason: loaded.reason }, 'A/V disabled');
  } else {
    ctx.health.sfu = { status: 'ok' };
  }
  // Several nodes (#18): a meeting's router lives on its owner node and goes when the lease does.
  const own = ctx.ownership?.enabled ? ctx.ownership : null;
  const floorSource: FloorSource = {
    load: async (meetingId) => ({ speakerUserId: (await loadSpeakersState(ctx.store, meetingId)).floor?.userId ?? null, ...(await avFloorSettings(ctx.store, meetingId)) }),
    // Under the meeting's lease, like every write of its live state: a former owner saves nothing.
    save: (meetingId, s) =>
      ctx.store.tx(async (q) => {
        if (own) await own.fence(q, meetingId);
        await saveAvFloorSettings(ctx, meetingId, s);
      }),
  };
  const sfu = new Sfu(ctx.store, log, config, 'ms' in loaded ? loaded.ms : null, disable, floorSource);
  ctx.sfu = sfu;
  if (own) {
    sfu.useOwnership(own);
    own.onLost((meetingId) => sfu.ownerLost(meetingId));
  }
  const hub = ctx.realtime;
  if (hub) registerAvSocket(hub, sfu);
  else log.warn('no realtime hub attached before the SFU: A/V signaling unavailable');
  // A closed meeting drops everyone's A/V; otherwise whoever lost access to it loses their media at once.
  const onMeetingChanged = async ({ meetingId }: { meetingId: number }) => {
    try {
      if ((await sfu.meetingStatus(meetingId)) === 'closed') sfu.closeMeeting(meetingId);
      else await sfu.revokeAccess(meetingId);
    } catch (err) {
      // A listener must never throw into the emitting domain's code.
      log.error({ err, meetingId }, 'could not apply a meeting change to A/V');
    }
  };
  // The speakers' list (server/live) announces every change of the floor; the microphones follow.
  const onFloorChanged = ({ meetingId, userId }: { meetingId: number; userId: number | null }) => {
    sfu.setSpeaker(meetingId, userId).catch((err) => log.error({ err, meetingId }, 'could not apply the floor'));
  };
  ctx.bus.on('meeting:changed', onMeetingChanged);
  ctx.bus.on('floor:changed', onFloorChanged);
  return {
    stop() {
      ctx.bus.off('meeting:changed', onMeetingChanged);
      ctx.bus.off('floor:changed', onFloorChanged);
      sfu.close();
    },
  };
}
