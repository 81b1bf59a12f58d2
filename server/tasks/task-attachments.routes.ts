import { z } from 'zod';
import { LIMITS } from '../../shared/limits.js';
import { IdParams } from '../../shared/protocol/common.js';
import { AttachmentParams, TaskDetail } from '../../shared/protocol/tasks.js';
import type { AppContext } from '../context.js';
import { StoredFiles, fileOwner } from '../files/file-store.js';
import { reportProgressWithFiles, sendAttachment } from './task-attachments.service.js';

const { maxFiles, maxFileBytes } = LIMITS.taskAttachments;
const UPLOAD_DOC = `multipart/form-data: text fields \`comment\` (required) and \`percent\` (0-100), then up to ${maxFiles} parts \`file\` of at most ${maxFileBytes / (1024 * 1024)} MB each: PDF, PNG, JPEG, DOCX, XLSX or UTF-8 plain text, decided by content`;

/** Progress reports with attached files, and their downloads. */
export function taskAttachmentRoutes(ctx: AppContext): void {
  const { api } = ctx;
  // The content-addressed store shared with meeting documents (recovered at startup by documentRoutes).
  const store = new StoredFiles(ctx.config.dataDir, fileOwner(ctx.config));
  const tags = ['tasks'];

  api.route(
    {
      method: 'post',
      path: '/api/tasks/:id/reports',
      summary: `Report progress with a comment and attachments (owner or co-operating unit). ${UPLOAD_DOC}. Refusals: 413 payload_too_large | too_many_files, 415 unsupported_file_type, 422 invalid_file`,
      tags,
      access: 'user',
      params: IdParams,
      body: z.any(),
      bodyType: 'raw',
      rawContentType: 'multipart/form-data',
      response: TaskDetail,
    },
    ({ user, params, req, res }) => reportProgressWithFiles(ctx, store, user, params.id, req, res),
  );
  api.route(
    {
      method: 'get',
      path: '/api/tasks/:taskId/attachments/:id',
      summary: 'Download one attachment of a progress report (owner, co-operating units, meeting managers, committee secretaries and chair; others 404)',
      tags,
      access: 'user',
      params: AttachmentParams,
      responseContentType: 'application/octet-stream',
    },
    ({ user, params, req, res }) => sendAttachment(ctx, store, user, params.taskId, params.id, req, res),
  );
}
