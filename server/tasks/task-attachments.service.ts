import fs from 'node:fs';
import type { Request, Response } from 'express';
import { and, eq } from 'drizzle-orm';
import { LIMITS } from '../../shared/limits.js';
import { ProgressFields } from '../../shared/protocol/tasks.js';
import { audit } from '../audit/audit.repo.js';
import type { AuthUser } from '../auth/sessions.js';
import type { AppContext } from '../context.js';
import { taskAttachments } from '../db/tables.js';
import { AppError, notFound } from '../http/errors.js';
import { type ReceivedFile, type StoredFiles, contentDisposition, registerFileReferences } from '../files/file-store.js';
import { attachmentSniffer } from '../files/sniff.js';
import { mayReportProgress, maySeeAttachments, visibleTask } from './tasks.access.js';
import { getTask } from './tasks.board.js';
import { reportProgress } from './tasks.service.js';

// Startup recovery of the shared file store keeps the files attachments refer to.
registerFileReferences('select sha256 from task_attachments');

const { maxFiles, maxFileBytes } = LIMITS.taskAttachments;

/**
 * A progress report with a comment and 0..5 files (multipart: fields `comment`, `percent`, then
 * `file` parts). Authorized before the body is read; the event, its attachment rows and the audit
 * rows commit in one transaction, and the files move into the store only after it committed.
 * Anything refused or interrupted leaves no event and no file.
 * @throws 404 / 403 / 409 like `reportProgress`; 413 payload_too_large | too_many_files, 415
 *   unsupported_file_type, 422 invalid_file, 400 invalid_payload | upload_incomplete
 */
export async function reportProgressWithFiles(ctx: AppContext, store: StoredFiles, user: AuthUser, taskId: number, req: Request, res: Response) {
  let files: ReceivedFile[] = [];
  // Seen before the first await: express.json has already read a JSON body, and its ended stream is
  // destroyed a tick later, which `receiveFiles` would take for an interrupted upload instead of a 415.
  const multipart = !!req.is('multipart/form-data');
  try {
    await mayReportProgress(ctx.store, user, taskId);
    if (!multipart) throw new AppError('unsupported_media_type', 'Send the file as multipart/form-data with a "file" part', 415);
    const received = await store.receiveFiles(req, {
      maxFileBytes,
      maxFiles,
      minFiles: 0,
      sniffer: attachmentSniffer,
      defaultFileName: 'tep-dinh-kem',
      errors: {
        tooManyFiles: () => new AppError('too_many_files', `At most ${maxFiles} files per progress report`, 413, { maxFiles }),
        wrongPart: () => new AppError('invalid_payload', 'Send the files in parts named "file"', 400),
        noFile: () => new AppError('invalid_payload', 'Send the files in parts named "file"', 400),
      },
    });
    files = received.files;
    const fields = ProgressFields.safeParse(received.fields);
    if (!fields.success) {
      throw new AppError('invalid_payload', `Invalid form fields: ${fields.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}`, 400);
    }
    // Re-checked inside: the task or the caller's rights may have changed during the upload.
    await reportProgress(ctx, user, taskId, fields.data.comment, fields.data.percent, async (q, eventId) => {
      for (const f of files) {
        const [row] = await q
          .insert(taskAttachments)
          .values({ taskId, eventId, sha256: f.sha256, fileName: f.fileName, contentType: f.contentType, size: f.size, uploadedBy: user.id })
          .returning({ id: taskAttachments.id });
        // Never the file name: names may say what a confidential report is about.
        await audit(q, { actorId: user.id, action: 'task.attachment.upload', targetType: 'task', targetId: taskId, details: { eventId, attachmentId: row.id, sha256: f.sha256, size: f.size, contentType: f.contentType } });
      }
    });
  } catch (err) {
    for (const f of files) store.discard(f);
    throw err;
  }
  for (const f of files) store.commit(f);
  return await getTask(ctx, user, taskId);
}

/**
 * Sends one attachment as a download: `Content-Disposition: attachment` with the RFC 5987 name,
 * the sniffed type, `nosniff` and a sandboxing CSP, so nothing uploaded is ever rendered as a page
 * of ours. Those who may not see the task's attachments get 404, like a missing one.
 */
export async function sendAttachment(ctx: AppContext, store: StoredFiles, user: AuthUser, taskId: number, attachmentId: number, req: Request, res: Response): Promise<void> {
  const t = await visibleTask(ctx.store, user, taskId);
  if (!(await maySeeAttachments(ctx.store, user, t))) throw notFound('Attachment');
  const [a] = await ctx.store.q
    .select()
    .from(taskAttachments)
    .where(and(eq(taskAttachments.id, attachmentId), eq(taskAttachments.taskId, taskId)))
    .limit(1);
  if (!a) throw notFound('Attachment');
  const file = store.pathFor(a.sha256);
  await audit(ctx.store.q, { actorId: user.id, action: 'task.attachment.download', targetType: 'task', targetId: taskId, details: { attachmentId } });
  res.status(200);
  res.setHeader('content-type', a.contentType === 'text/plain' ? 'text/plain; charset=utf-8' : a.contentType);
  res.setHeader('content-length', String(a.size));
  res.setHeader('content-disposition', contentDisposition('attachment', a.fileName));
  res.setHeader('x-content-type-options', 'nosniff');
  res.setHeader('content-security-policy', "default-src 'none'; sandbox");
  res.setHeader('cache-control', 'private, no-store');
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  // Resolves when the response is done, so the route wrapper never answers on top of the stream.
  await new Promise<void>((resolve) => {
    const stream = fs.createReadStream(file, { highWaterMark: 256 * 1024 });
    stream.on('error', () => res.destroy());
    res.on('close', () => {
      stream.destroy();
      resolve();
    });
    stream.pipe(res);
  });
}
