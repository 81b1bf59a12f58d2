import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { and, asc, desc, eq, inArray, isNull, ne, or } from 'drizzle-orm';
import yazl from 'yazl';
import { ARCHIVE_FORMAT, type ArchiveView } from '../../shared/protocol/archive.js';
import { audit } from '../audit/audit.repo.js';
import type { AuthUser } from '../auth/sessions.js';
import type { AppContext } from '../context.js';
import type { Store } from '../db/store.js';
import { agendaItems, attendance, auditLog, committees, documentVersions, documents, meetingParticipants, minutesSignatures, minutesVersions, users, votes } from '../db/tables.js';
import { StoredFiles } from '../files/file-store.js';
import { AppError, forbidden, invalidState, notFound } from '../http/errors.js';
import { type JobRow, enqueueJob, findJob, jobsByKeyPrefix } from '../jobs/jobs.js';
import { type MeetingAccess, isCommitteeSecretary, meetingAccess } from '../meetings/meetings.access.js';
import { voteCsv, votePdf } from '../votes/votes.export.js';
import { votesOf } from '../votes/votes.service.js';

export const ARCHIVE_JOB = 'archive.build';

/** Votes whose record is final enough to archive (drafts and open votes have none). */
const ARCHIVED_VOTE_STATES = ['closed', 'announced', 'annulled'] as const;

/**
 * The secretary of the meeting (its secretary participant, or a secretary of its committee) — not an
 * administrator as such, not the chair: the archive is the secretary's record to hand over.
 * @throws not_found (meeting not visible), forbidden (visible but not its secretary)
 */
export async function requireSecretary(store: Store, user: AuthUser, meetingId: number): Promise<MeetingAccess> {
  const a = await meetingAccess(store, user, meetingId);
  if (a.role !== 'secretary' && !(await isCommitteeSecretary(store, user.id, a.meeting.committeeId))) throw forbidden('Only the meeting’s secretary may archive it');
  return a;
}

/** Progress of the archives this app is building (job id → parts written of total). */
export type ArchiveProgress = Map<number, { done: number; total: number }>;
function progressMap(ctx: AppContext): ArchiveProgress {
  if (!ctx.archiveProgress) throw new Error('the archive module is not registered');
  return ctx.archiveProgress;
}

const archiveDir = (ctx: AppContext) => path.join(ctx.config.dataDir, 'archives');
const zipPath = (ctx: AppContext, id: number) => path.join(archiveDir(ctx), `${id}.zip`);
const infoPath = (ctx: AppContext, id: number) => path.join(archiveDir(ctx), `${id}.json`);
const keyPrefix = (meetingId: number) => `archive:${meetingId}:`;
const fileNameFor = (meetingId: number, requestedAt: string) => `luu-tru-phien-hop-${meetingId}-${requestedAt.slice(0, 10).replace(/-/g, '')}.zip`;

interface ArchiveInfo {
  size: number;
  sha256: string;
  finishedAt: string;
  /** The confidential documents the zip holds (their originals): each download is audited per document. */
  confidential?: { documentId: number; version: number }[];
}

/**
 * Queues the archive of a closed meeting for the caller, its secretary. The zip is built by the
 * `archive.build` job off the request path; poll `archiveView` for its progress.
 * @throws not_found, forbidden, invalid_state (the meeting is not closed)
 */
export async function requestArchive(ctx: AppContext, user: AuthUser, meetingId: number): Promise<ArchiveView> {
  const a = await requireSecretary(ctx.store, user, meetingId);
  if (a.meeting.status !== 'closed') throw invalidState('Only a closed meeting can be archived');
  const key = `${keyPrefix(meetingId)}${crypto.randomUUID()}`;
  await ctx.store.tx(async (q) => {
    await enqueueJob(q, { kind: ARCHIVE_JOB, key, runAt: new Date(), payload: { meetingId, requestedBy: user.id } });
    await audit(q, { actorId: user.id, action: 'meeting.archive_requested', targetType: 'meeting', targetId: meetingId });
  });
  const [job] = await jobsByKeyPrefix(ctx.store, key, 1);
  // Start at once rather than at the runner's next poll.
  void ctx.jobs.runDue().catch((err) => ctx.log.error({ err }, 'archive: job batch failed'));
  return view(ctx, job);
}

/** One archive as its meeting's secretary may see it (authorized now). @throws not_found, forbidden */
export async function archiveView(ctx: AppContext, user: AuthUser, id: number): Promise<ArchiveView> {
  const job = await archiveJob(ctx, id);
  await requireSecretary(ctx.store, user, meetingOf(job));
  return view(ctx, job);
}

/** The meeting's archives, newest first (the last ten requests). @throws not_found, forbidden */
export async function listArchives(ctx: AppContext, user: AuthUser, meetingId: number): Promise<ArchiveView[]> {
  await requireSecretary(ctx.store, user, meetingId);
  return (await jobsByKeyPrefix(ctx.store, keyPrefix(meetingId), 10)).map((j) => view(ctx, j));
}

/**
 * The finished zip for download, authorized now; each download is audited.
 * @throws not_found, forbidden, invalid_state (not built, failed or replaced)
 */
export async function archiveFile(ctx: AppContext, user: AuthUser, id: number): Promise<{ file: string; view: ArchiveView }> {
  const job = await archiveJob(ctx, id);
  const meetingId = meetingOf(job);
  await requireSecretary(ctx.store, user, meetingId);
  const v = view(ctx, job);
  if (v.state !== 'done') throw invalidState(v.state === 'expired' ? 'A newer archive of this meeting replaced this one' : 'The archive is not ready');
  const confidential = readInfo(ctx, id)?.confidential ?? [];
  await ctx.store.tx(async () => {
    await audit(ctx.store.q, { actorId: user.id, action: 'meeting.archive_downloaded', targetType: 'meeting', targetId: meetingId, details: { archiveId: id, sha256: v.sha256 } });
    // Every access to a confidential document is audited on the document, the archive's copy too.
    for (const c of confidential) await audit(ctx.store.q, { actorId: user.id, action: 'document.confidential.archive_downloaded', targetType: 'document', targetId: c.documentId, details: { archiveId: id, version: c.version } });
  });
  return { file: zipPath(ctx, id), view: v };
}

async function archiveJob(ctx: AppContext, id: number): Promise<JobRow> {
  const job = await findJob(ctx.store.q, id);
  if (!job || job.kind !== ARCHIVE_JOB) throw notFound('Archive');
  return job;
}

function meetingOf(job: JobRow): number {
  return Number((job.payload as { meetingId?: unknown }).meetingId);
}

function view(ctx: AppContext, job: JobRow): ArchiveView {
  const meetingId = meetingOf(job);
  const info = readInfo(ctx, job.id);
  const progress = progressMap(ctx).get(job.id);
  const built = job.status === 'done';
  const state: ArchiveView['state'] =
    job.status === 'failed' || job.status === 'cancelled' ? 'failed' : built ? (info && fs.existsSync(zipPath(ctx, job.id)) ? 'done' : 'expired') : job.status === 'claimed' ? 'building' : 'queued';
  const requestedAt = new Date(job.createdAt.endsWith('Z') ? job.createdAt : `${job.createdAt}Z`).toISOString();
  return {
    id: job.id,
    meetingId,
    state,
    progress: state === 'done' ? { done: 1, total: 1 } : (progress ?? { done: 0, total: 0 }),
    requestedAt,
    finishedAt: state === 'done' ? info!.finishedAt : null,
    fileName: fileNameFor(meetingId, requestedAt),
    size: state === 'done' ? info!.size : null,
    sha256: state === 'done' ? info!.sha256 : null,
    // The runner stores the error's message; ours are written for the secretary (no paths or data).
    error: state === 'failed' ? (job.lastError ?? 'failed') : null,
  };
}

function readInfo(ctx: AppContext, id: number): ArchiveInfo | null {
  try {
    return JSON.parse(fs.readFileSync(infoPath(ctx, id), 'utf8')) as ArchiveInfo;
  } catch {
    return null;
  }
}

/** A part of the archive: its path in the zip and where its bytes come from. */
type Part = { path: string; kind: string; bytes: () => Promise<Buffer> | Buffer } | { path: string; kind: string; file: string; document?: { documentId: number; version: number } };

/**
 * The `archive.build` job: re-checks that the requester is still the meeting's secretary and the
 * meeting still closed, collects the parts, and streams them into `<dataDir>/archives/<id>.zip`
 * (written as a `.partial` file and renamed when complete, with `<id>.json` holding its size and
 * SHA-256). Yields to the event loop between parts (PDF renders and file reads are the heavy steps),
 * so sockets and requests are served while it runs. Older archives of the same meeting are removed.
 * Refusals are permanent (no retry); I/O errors are retried by the runner.
 */
export async function buildArchive(ctx: AppContext, job: JobRow): Promise<void> {
  const { store } = ctx;
  const meetingId = meetingOf(job);
  const requestedBy = Number((job.payload as { requestedBy?: unknown }).requestedBy);
  const progress = progressMap(ctx);
  try {
    const user = await loadUser(store, requestedBy);
    let a: MeetingAccess;
    try {
      if (!user) throw forbidden('The requester no longer has an active account');
      a = await requireSecretary(store, user, meetingId);
      if (a.meeting.status !== 'closed') throw invalidState('The meeting is no longer closed');
    } catch (err) {
      throw Object.assign(new Error(err instanceof AppError ? err.message : 'Not allowed'), { permanent: true });
    }
    const parts = await collectParts(ctx, user!, a);
    const p = { done: 0, total: parts.length + 2 };
    progress.set(job.id, p);
    fs.mkdirSync(archiveDir(ctx), { recursive: true });
    const final = zipPath(ctx, job.id);
    const partial = `${final}.partial`;
    const zip = new yazl.ZipFile();
    const out = fs.createWriteStream(partial);
    const hash = crypto.createHash('sha256');
    let size = 0;
    zip.outputStream.on('data', (chunk: Buffer) => {
      hash.update(chunk);
      size += chunk.length;
    });
    const written = new Promise<void>((resolve, reject) => {
      out.on('close', resolve);
      out.on('error', reject);
      zip.outputStream.on('error', reject);
    });
    zip.outputStream.pipe(out);
    const mtime = new Date();
    const manifest: { path: string; kind: string; size: number; sha256: string }[] = [];
    for (const part of parts) {
      await new Promise((r) => setImmediate(r));
      if ('file' in part) {
        const { sha256, size: n } = await hashFile(part.file);
        zip.addFile(part.file, part.path, { mtime, compress: false });
        manifest.push({ path: part.path, kind: part.kind, size: n, sha256 });
      } else {
        const bytes = await part.bytes();
        zip.addBuffer(bytes, part.path, { mtime, compress: !part.path.endsWith('.pdf') });
        manifest.push({ path: part.path, kind: part.kind, size: bytes.length, sha256: sha256Of(bytes) });
      }
      p.done++;
    }
    const m = a!.meeting;
    const [committee] = await store.q.select({ name: committees.name }).from(committees).where(eq(committees.id, m.committeeId)).limit(1);
    const manifestJson = Buffer.from(
      JSON.stringify(
        {
          format: ARCHIVE_FORMAT,
          createdAt: mtime.toISOString(),
          createdBy: { id: user!.id, fullName: user!.fullName },
          meeting: { id: m.id, title: m.title, committee: committee?.name ?? null, startsAt: m.startsAt, endsAt: m.endsAt, status: m.status },
          checksums: 'SHA-256 of every file below; SHA256SUMS has the same in `sha256sum -c` format',
          files: manifest,
        },
        null,
        2,
      ),
    );
    zip.addBuffer(manifestJson, 'manifest.json', { mtime });
    p.done++;
    const sums = [...manifest, { path: 'manifest.json', sha256: sha256Of(manifestJson) }].map((f) => `${f.sha256}  ${f.path}`).join('\n') + '\n';
    zip.addBuffer(Buffer.from(sums), 'SHA256SUMS', { mtime });
    p.done++;
    zip.end();
    await written;
    const fd = fs.openSync(partial, 'r');
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    const confidential = parts.flatMap((part) => (part.kind === 'document-confidential' && 'file' in part && part.document ? [part.document] : []));
    const info: ArchiveInfo = { size, sha256: hash.digest('hex'), finishedAt: new Date().toISOString(), confidential };
    fs.writeFileSync(infoPath(ctx, job.id), JSON.stringify(info));
    fs.renameSync(partial, final);
    await audit(store.q, { actorId: user!.id, action: 'meeting.archived', targetType: 'meeting', targetId: meetingId, details: { archiveId: job.id, sha256: info.sha256, size: info.size, files: manifest.length } });
    // Only the newest archive of a meeting is kept: an older one is a stale copy of the same record.
    for (const older of await jobsByKeyPrefix(store, keyPrefix(meetingId), 100)) {
      if (older.id === job.id) continue;
      fs.rmSync(zipPath(ctx, older.id), { force: true });
      fs.rmSync(`${zipPath(ctx, older.id)}.partial`, { force: true });
    }
    ctx.metrics.archives.inc({ outcome: 'done' });
  } catch (err) {
    fs.rmSync(`${zipPath(ctx, job.id)}.partial`, { force: true });
    ctx.metrics.archives.inc({ outcome: 'failed' });
    throw err;
  } finally {
    progress.delete(job.id);
  }
}

async function loadUser(store: Store, id: number): Promise<AuthUser | null> {
  const [u] = await store.q
    .select({ id: users.id, username: users.username, fullName: users.fullName, title: users.title, unit: users.unit, systemRole: users.systemRole, locale: users.locale, active: users.active })
    .from(users)
    .where(eq(users.id, id))
    .limit(1);
  if (!u || !u.active) return null;
  const { active: _active, ...user } = u;
  return user;
}

/**
 * What goes into the archive, in order. Reuses the exporters the app already serves: the minutes PDF
 * as stored (with its signatures), the vote record CSV (`voteCsv`) and PDF (`votePdf`) of
 * `GET /api/votes/:id/export.*`, and the document files as uploaded (the current version of every
 * published document: what the participants received).
 */
async function collectParts(ctx: AppContext, user: AuthUser, a: MeetingAccess): Promise<Part[]> {
  const { store } = ctx;
  const meetingId = a.meeting.id;
  const parts: Part[] = [];

  // Minutes: the newest version that is not superseded (signed when signed).
  const [minutes] = await store.q
    .select()
    .from(minutesVersions)
    .where(and(eq(minutesVersions.meetingId, meetingId), ne(minutesVersions.status, 'superseded')))
    .orderBy(desc(minutesVersions.version))
    .limit(1);
  if (minutes) {
    parts.push({ path: `bien-ban/bien-ban-v${minutes.version}-${minutes.status}.pdf`, kind: 'minutes', bytes: () => minutes.pdf });
    const sigs = await store.q.select().from(minutesSignatures).where(eq(minutesSignatures.versionId, minutes.id));
    parts.push({
      path: 'bien-ban/chu-ky.json',
      kind: 'minutes-signatures',
      bytes: () => Buffer.from(JSON.stringify({ version: minutes.version, number: minutes.number, status: minutes.status, publishedAt: minutes.publishedAt, signatures: sigs.map((s) => ({ role: s.role, userId: s.userId, certSubject: s.certSubject, signedAt: s.signedAt })) }, null, 2)),
    });
  }

  // Documents as distributed: the current version of every published, not removed document.
  const files = new StoredFiles(ctx.config.dataDir);
  const items = await store.q.select({ id: agendaItems.id, title: agendaItems.title, position: agendaItems.position, parentId: agendaItems.parentId }).from(agendaItems).where(eq(agendaItems.meetingId, meetingId)).orderBy(asc(agendaItems.parentId), asc(agendaItems.position));
  const itemIndex = new Map(items.map((it, i) => [it.id, i + 1]));
  const docs = await store.q
    .select({ id: documents.id, title: documents.title, itemId: documents.agendaItemId, access: documents.access, sha256: documentVersions.sha256, fileName: documentVersions.fileName, version: documentVersions.version })
    .from(documents)
    .innerJoin(documentVersions, eq(documentVersions.id, documents.currentVersionId))
    .where(and(eq(documents.meetingId, meetingId), isNull(documents.removedAt), eq(documents.published, true)))
    .orderBy(asc(documents.agendaItemId), asc(documents.position));
  for (const d of docs) {
    parts.push({ path: `tai-lieu/${String(itemIndex.get(d.itemId) ?? 0).padStart(2, '0')}-${d.id}-v${d.version}-${safeName(d.fileName)}`, kind: d.access === 'confidential' ? 'document-confidential' : 'document', file: files.pathFor(d.sha256), document: { documentId: d.id, version: d.version } });
  }

  // Vote records: CSV and PDF of every vote that reached a result.
  const svc = votesOf(ctx);
  const voteRows = await store.q
    .select({ id: votes.id })
    .from(votes)
    .where(and(eq(votes.meetingId, meetingId), inArray(votes.state, [...ARCHIVED_VOTE_STATES])))
    .orderBy(asc(votes.id));
  for (const { id } of voteRows) {
    parts.push({ path: `bieu-quyet/bieu-quyet-${id}.csv`, kind: 'vote-csv', bytes: async () => Buffer.from(await voteCsv(ctx.store, await svc.get(user, id)), 'utf8') });
    parts.push({ path: `bieu-quyet/bieu-quyet-${id}.pdf`, kind: 'vote-pdf', bytes: async () => votePdf(ctx, await svc.get(user, id)) });
  }

  parts.push({ path: 'diem-danh.csv', kind: 'attendance', bytes: async () => Buffer.from(await attendanceCsv(store, meetingId), 'utf8') });
  parts.push({ path: 'nhat-ky.json', kind: 'audit', bytes: async () => Buffer.from(JSON.stringify(await auditEntries(store, meetingId, items.map((i) => i.id), docs.map((d) => d.id)), null, 2)) });
  return parts;
}

/** A file name safe in a zip on every system: no folders, no control or reserved characters. */
function safeName(name: string): string {
  return name.replace(/[\\/:*?"<>|\u0000-\u001f]/g, '_').slice(0, 120) || 'document.pdf';
}

/** One CSV field, quoted when needed; a leading = + - @ is neutralised (as in votes.export.ts). */
function field(v: unknown): string {
  let s = v == null ? '' : String(v);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Attendance: every participant with role, voting right and what was recorded (UTF-8 with BOM). */
async function attendanceCsv(store: Store, meetingId: number): Promise<string> {
  const rows = await store.q
    .select({ userId: meetingParticipants.userId, fullName: users.fullName, unit: users.unit, role: meetingParticipants.role, canVote: meetingParticipants.canVote })
    .from(meetingParticipants)
    .innerJoin(users, eq(users.id, meetingParticipants.userId))
    .where(eq(meetingParticipants.meetingId, meetingId))
    .orderBy(asc(users.fullName));
  const att = new Map((await store.q.select().from(attendance).where(eq(attendance.meetingId, meetingId))).map((r) => [r.userId, r]));
  const names = new Map((await store.q.select({ id: users.id, fullName: users.fullName }).from(users).where(inArray(users.id, [...att.values()].flatMap((r) => [r.proxyHolderId ?? 0, r.recordedBy])))).map((u) => [u.id, u.fullName]));
  const lines = [['user_id', 'full_name', 'unit', 'role', 'can_vote', 'attendance', 'reason', 'proxy_kind', 'proxy_holder', 'recorded_by', 'updated_at']];
  for (const r of rows) {
    const x = att.get(r.userId);
    lines.push([r.userId, r.fullName, r.unit, r.role, r.canVote, x?.status ?? 'unknown', x?.reason, x?.proxyKind, x?.proxyHolderId ? names.get(x.proxyHolderId) : '', x ? names.get(x.recordedBy) : '', x?.updatedAt].map(field));
  }
  return '\ufeff' + lines.map((l) => l.join(',')).join('\r\n') + '\r\n';
}

/**
 * The audit entries of the meeting: on the meeting itself, its agenda items, documents and votes,
 * with their hash-chain fields (`prevHash`, `hash`) so they can be checked against the live log.
 */
async function auditEntries(store: Store, meetingId: number, itemIds: number[], documentIds: number[]) {
  const voteIds = (await store.q.select({ id: votes.id }).from(votes).where(eq(votes.meetingId, meetingId))).map((v) => v.id);
  const target = (type: string, ids: number[]) => (ids.length ? and(eq(auditLog.targetType, type), inArray(auditLog.targetId, ids.map(String))) : undefined);
  const where = or(target('meeting', [meetingId]), target('agenda_item', itemIds), target('document', documentIds), target('vote', voteIds));
  return store.q.select().from(auditLog).where(where).orderBy(asc(auditLog.id));
}

function sha256Of(b: Buffer): string {
  return crypto.createHash('sha256').update(b).digest('hex');
}

function hashFile(file: string): Promise<{ sha256: string; size: number }> {
  return new Promise((resolve, reject) => {
    const h = crypto.createHash('sha256');
    let size = 0;
    fs.createReadStream(file)
      .on('data', (c) => {
        h.update(c as Buffer);
        size += (c as Buffer).length;
      })
      .on('error', reject)
      .on('end', () => resolve({ sha256: h.digest('hex'), size }));
  });
}
