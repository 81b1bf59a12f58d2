import { ArchiveList, ArchiveView } from '../../shared/protocol/archive.js';
import { IdParams } from '../../shared/protocol/common.js';
import type { AppContext } from '../context.js';
import { contentDisposition } from '../files/file-store.js';
import { ARCHIVE_JOB, archiveFile, archiveView, buildArchive, listArchives, requestArchive } from './archive.service.js';

/**
 * Archival packages of closed meetings, for their secretary: request one (a durable job builds the zip
 * off the request path), follow its progress, download it. Every route authorizes at the moment of use.
 */
export function archiveRoutes(ctx: AppContext): void {
  const { api } = ctx;
  const tags = ['archive'];
  ctx.archiveProgress = new Map();
  ctx.jobs.register(ARCHIVE_JOB, { mode: 'external', run: (job) => buildArchive(ctx, job) });

  api.route(
    { method: 'post', path: '/api/meetings/:id/archives', summary: 'Build the archival package of a closed meeting (its secretary)', tags, access: 'user', params: IdParams, response: ArchiveView, status: 202 },
    ({ user, params }) => requestArchive(ctx, user, params.id),
  );
  api.route(
    { method: 'get', path: '/api/meetings/:id/archives', summary: 'Archival packages of a meeting, newest first (its secretary)', tags, access: 'user', params: IdParams, response: ArchiveList },
    async ({ user, params }) => ({ archives: await listArchives(ctx, user, params.id) }),
  );
  api.route(
    { method: 'get', path: '/api/archives/:id', summary: 'One archival package: state and progress', tags, access: 'user', params: IdParams, response: ArchiveView },
    ({ user, params }) => archiveView(ctx, user, params.id),
  );
  api.route(
    { method: 'get', path: '/api/archives/:id/file', summary: 'Download a finished archival package (zip)', tags, access: 'user', params: IdParams, responseContentType: 'application/zip' },
    async ({ user, params, res }) => {
      const { file, view } = await archiveFile(ctx, user, params.id);
      res.setHeader('content-type', 'application/zip');
      res.setHeader('content-disposition', contentDisposition('attachment', view.fileName));
      res.setHeader('cache-control', 'private, no-store');
      await new Promise<void>((resolve, reject) => res.sendFile(file, { dotfiles: 'deny', headers: { 'x-content-sha256': view.sha256 ?? '' } }, (err) => (err ? reject(err) : resolve())));
    },
  );
}
