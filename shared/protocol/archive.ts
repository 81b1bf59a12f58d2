import { z } from 'zod';
import { Id, IsoDateTime } from './common.js';

/**
 * Archival package of a closed meeting (server/archive): one zip with the minutes PDF as signed, the
 * documents as distributed, every vote's record (CSV and PDF), attendance, the meeting's audit entries
 * and a manifest with SHA-256 checksums. Built by a durable job; the secretary polls its state.
 *
 * - `queued`: waiting for the job runner · `building`: `progress.done` of `progress.total` parts written
 * - `done`: `GET /api/archives/:id/file` downloads it · `failed`: `error` says why
 * - `expired`: replaced by a newer archive of the same meeting (only the newest is kept)
 */
export const ArchiveState = z.enum(['queued', 'building', 'done', 'failed', 'expired']);
export type ArchiveState = z.infer<typeof ArchiveState>;

export const ArchiveView = z.object({
  id: Id,
  meetingId: Id,
  state: ArchiveState,
  progress: z.object({ done: z.number().int().min(0), total: z.number().int().min(0) }),
  requestedAt: IsoDateTime,
  finishedAt: IsoDateTime.nullable(),
  fileName: z.string(),
  size: z.number().int().min(0).nullable(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/).nullable(),
  error: z.string().nullable(),
});
export type ArchiveView = z.infer<typeof ArchiveView>;

export const ArchiveList = z.object({ archives: z.array(ArchiveView) });
export type ArchiveList = z.infer<typeof ArchiveList>;

/** `manifest.json` at the root of the zip. */
export const ARCHIVE_FORMAT = 'ecabinet-meeting-archive/1';
