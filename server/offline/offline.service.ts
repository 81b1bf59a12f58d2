import crypto from 'node:crypto';
import { and, asc, eq } from 'drizzle-orm';
import type { DeviceList, DocumentText, OfflineManifest } from '../../shared/protocol/offline.js';
import { audit } from '../audit/audit.repo.js';
import type { AuthUser } from '../auth/sessions.js';
import type { AppContext } from '../context.js';
import { devices, documentPages } from '../db/tables.js';
import { documentAccess } from '../documents/documents.access.js';
import { loadMeetingPack, mayKeepOffline } from '../documents/documents.service.js';
import { notFound } from '../http/errors.js';
import { meetingAccess } from '../meetings/meetings.access.js';
import { deviceSeen } from './offline.repo.js';

/** What the offline domain uses of the app: the store. */
type Ctx = Pick<AppContext, 'store'>;

/**
 * What a device may keep of a meeting for offline reading: the GET URLs the app caches, exactly as
 * its views request them, and per document whether it is included. Built from the same access rules
 * as the meeting pack, at the moment of asking, so a later restriction drops the document from the
 * next manifest and the app deletes its copy (remote wipe).
 */
export async function offlineManifest(ctx: Ctx, user: AuthUser, meetingId: number): Promise<OfflineManifest> {
  const { meeting } = await meetingAccess(ctx.store, user, meetingId);
  const pack = await loadMeetingPack(ctx, user, meetingId);
  const base = `/api/meetings/${meetingId}`;
  const resources: OfflineManifest['resources'] = [
    { url: base, bytes: null },
    { url: `${base}/agenda`, bytes: null },
    { url: `${base}/documents`, bytes: null },
  ];
  const docs: OfflineManifest['documents'] = [];
  for (const item of pack.items) {
    for (const d of item.documents) {
      const keep = d.canKeepOffline;
      docs.push({
        documentId: d.id,
        title: d.title,
        versionId: d.current.id,
        bytes: d.current.size,
        pageCount: d.current.pageCount,
        offline: keep,
        reason: keep ? null : 'view_only',
      });
      if (!keep) continue;
      resources.push(
        { url: `/api/documents/${d.id}`, bytes: null },
        { url: `/api/documents/${d.id}/file`, bytes: d.current.size },
        { url: `/api/documents/${d.id}/text`, bytes: null },
      );
    }
  }
  return { meetingId, title: meeting.title, startsAt: meeting.startsAt, userId: user.id, resources, documents: docs };
}

/** Every page's text of the current version, only for a reader who may keep the document offline. */
export async function documentText(ctx: Ctx, user: AuthUser, documentId: number): Promise<DocumentText> {
  const a = await documentAccess(ctx.store, user, documentId, { consultations: true });
  // Same policy as the file: the text of a view-only confidential document never leaves in bulk.
  if (!mayKeepOffline(a)) throw notFound('Document');
  const versionId = a.document.currentVersionId ?? -1;
  const pages = await ctx.store.q
    .select({ page: documentPages.page, text: documentPages.text })
    .from(documentPages)
    .where(eq(documentPages.versionId, versionId))
    .orderBy(asc(documentPages.page));
  return { documentId, versionId, pages };
}

/** Devices are named to the administrator by the first 16 hex characters of their token hash. */
const deviceId = (tokenHash: string) => tokenHash.slice(0, 16);
export const hashDeviceToken = (token: string) => crypto.createHash('sha256').update(token).digest('hex');

/**
 * Records that `user` is using the device whose token hashes to `tokenHash`, and tells whether an
 * administrator revoked it. `last_seen_at` is written at most once a minute per device.
 */
export async function touchDevice(ctx: Pick<AppContext, 'store'>, user: AuthUser, tokenHash: string, userAgent: string): Promise<'ok' | 'revoked'> {
  return deviceSeen(ctx.store, { tokenHash, userId: user.id, label: shortLabel(userAgent), now: new Date() });
}

function shortLabel(ua: string): string {
  const browser = /(Edg|Chrome|Chromium|Firefox|Safari)\/[\d.]+/.exec(ua)?.[0] ?? 'Browser';
  const os = /(Android [\d.]+|iPad|iPhone|Windows NT [\d.]+|Mac OS X [\d_]+|Linux)/.exec(ua)?.[0] ?? '';
  return `${browser}${os ? ` · ${os}` : ''}`.slice(0, 120);
}

/** A user's devices, newest first (administrators). */
export async function listDevices(ctx: Pick<AppContext, 'store'>, userId: number): Promise<DeviceList> {
  const rows = await ctx.store.q.select().from(devices).where(eq(devices.userId, userId));
  rows.sort((a, b) => b.lastSeenAt.localeCompare(a.lastSeenAt));
  return {
    devices: rows.map((r) => ({ id: deviceId(r.tokenHash), label: r.label, createdAt: r.createdAt, lastSeenAt: r.lastSeenAt, revokedAt: r.revokedAt })),
  };
}

/**
 * Revokes one of a user's devices (administrators): its next request ends its session and makes the
 * app wipe every offline copy it holds. Returns the revoked token hash.
 */
export async function revokeDevice(ctx: Ctx, admin: AuthUser, userId: number, id: string): Promise<string> {
  return ctx.store.tx(async (q) => {
    const row = (await q.select().from(devices).where(eq(devices.userId, userId))).find((r) => deviceId(r.tokenHash) === id);
    if (!row) throw notFound('Device');
    await q
      .update(devices)
      .set({ revokedAt: row.revokedAt ?? new Date().toISOString(), revokedBy: admin.id })
      .where(and(eq(devices.tokenHash, row.tokenHash), eq(devices.userId, userId)));
    await audit(q, { actorId: admin.id, action: 'device.revoke', targetType: 'user', targetId: userId, details: { device: id } });
    return row.tokenHash;
  });
}
