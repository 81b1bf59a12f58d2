import { minutesDocName } from '../../shared/protocol/minutes.js';
import type { AppContext, Running } from '../context.js';
import { refreshGenerated } from './minutes.service.js';

/** How often open minutes documents re-check their generated sections (votes announce no bus event). */
export const MINUTES_POLL_MS = 5_000;

/**
 * While someone has a meeting's minutes open, recomputes its generated sections every few seconds
 * (a cheap hash comparison when nothing changed), so a vote result or a new speaker shows up
 * without a reload even when the domain that changed emits no bus event.
 */
export function refreshOpenMinutes(ctx: AppContext): Running {
  const hub = ctx.yjs;
  const timer = setInterval(() => {
    for (const [name, d] of Object.entries(hub.stats().perDoc)) {
      const m = /^minutes:(\d+)$/.exec(name);
      if (!m || d.connections === 0) continue;
      const meetingId = Number(m[1]);
      if (name !== minutesDocName(meetingId)) continue;
      refreshGenerated(ctx, meetingId).catch((err: unknown) => ctx.log.warn({ err, doc: name }, 'minutes: periodic refresh failed'));
    }
  }, MINUTES_POLL_MS);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
