import { IdParams } from '../../shared/protocol/common.js';
import { MinutesState, MinutesVersion, MinutesVersionParams, SignMinutesBody, minutesDocName } from '../../shared/protocol/minutes.js';
import type { AppContext } from '../context.js';
import { meetings } from '../db/tables.js';
import { eq } from 'drizzle-orm';
import { docPattern } from '../yjs/yjs.registry.js';
import { acknowledgeMinutes, finalizeMinutes, minutesDocAccess, minutesPdf, minutesState, minutesVersion, refreshGenerated, signMinutes } from './minutes.service.js';

/** Debounce of generated-section refreshes after live changes, per meeting. */
const REFRESH_MS = 1000;

/**
 * Minutes: the `minutes:<meetingId>` document kind on the Yjs hub, generated sections kept in step
 * with the live meeting, finalize → versions with PDFs, signatures, publication, acknowledgements.
 */
export function minutesRoutes(ctx: AppContext): void {
  const { api } = ctx;
  const tags = ['minutes'];
  const hub = ctx.yjs;
  hub.registerKind({
    kind: 'minutes',
    parse: docPattern<'meetingId'>('minutes:{meetingId}'),
    access: (user, { meetingId }, store) => minutesDocAccess(store, user, meetingId),
  });

  // While someone has the minutes open, keep the generated sections in step with the meeting.
  const timers = new Map<number, NodeJS.Timeout>();
  const schedule = ({ meetingId }: { meetingId: number }) => {
    if (timers.has(meetingId)) return;
    const refresh = async () => {
      if ((hub.stats().perDoc[minutesDocName(meetingId)]?.connections ?? 0) === 0) return;
      const [m] = await ctx.store.q.select({ status: meetings.status }).from(meetings).where(eq(meetings.id, meetingId)).limit(1);
      if (m && m.status !== 'draft') await refreshGenerated(ctx, meetingId);
    };
    const t = setTimeout(() => {
      timers.delete(meetingId);
      refresh().catch((err: unknown) => ctx.log.error({ err, meetingId }, 'minutes: generated refresh failed'));
    }, REFRESH_MS);
    t.unref();
    timers.set(meetingId, t);
  };
  ctx.bus.on('meeting:changed', schedule);
  ctx.bus.on('agenda:changed', schedule);
  ctx.bus.on('floor:changed', schedule);

  api.route(
    { method: 'get', path: '/api/meetings/:id/minutes', summary: 'Minutes: my rights, the Yjs document name, versions', tags, access: 'user', params: IdParams, response: MinutesState },
    ({ user, params }) => minutesState(ctx, user, params.id),
  );
  api.route(
    { method: 'post', path: '/api/meetings/:id/minutes/finalize', summary: 'Freeze the minutes as a new version and render its PDF (secretary)', tags, access: 'user', params: IdParams, response: MinutesVersion, status: 201 },
    async ({ user, params }) => {
      const v = await finalizeMinutes(ctx, user, params.id);
      return minutesVersion(ctx, user, params.id, v.version);
    },
  );
  api.route(
    { method: 'get', path: '/api/meetings/:id/minutes/versions/:version', summary: 'One frozen version with its content', tags, access: 'user', params: MinutesVersionParams, response: MinutesVersion },
    ({ user, params }) => minutesVersion(ctx, user, params.id, params.version),
  );
  api.route(
    { method: 'get', path: '/api/meetings/:id/minutes/versions/:version/pdf', heavy: true, summary: 'The PDF of a version, with the signatures so far', tags, access: 'user', params: MinutesVersionParams, responseContentType: 'application/pdf' },
    async ({ user, params, res }) => {
      const v = await minutesPdf(ctx, user, params.id, params.version);
      res.setHeader('content-disposition', `inline; filename="bien-ban-${params.id}-v${v.version}.pdf"`);
      res.setHeader('etag', `"${v.pdfHash}"`);
      res.setHeader('cache-control', 'private, no-store');
      res.type('application/pdf').send(v.pdf);
    },
  );
  api.route(
    { method: 'post', path: '/api/meetings/:id/minutes/versions/:version/sign', summary: 'Sign a version with my certificate and PIN (chair, secretary)', tags, access: 'user', params: MinutesVersionParams, body: SignMinutesBody, response: MinutesVersion },
    async ({ user, params, body }) => {
      await signMinutes(ctx, user, params.id, params.version, body.pin, body.contentHash);
      return minutesVersion(ctx, user, params.id, params.version);
    },
  );
  api.route(
    { method: 'post', path: '/api/meetings/:id/minutes/versions/:version/ack', summary: 'Acknowledge the published minutes (participants)', tags, access: 'user', params: MinutesVersionParams, response: MinutesVersion },
    async ({ user, params }) => {
      await acknowledgeMinutes(ctx, user, params.id, params.version);
      return minutesVersion(ctx, user, params.id, params.version);
    },
  );
}
