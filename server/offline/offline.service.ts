import crypto from 'node:crypto';
import { and, asc, eq } from 'drizzle-orm';
import type { DeviceList, DocumentText, OfflineManifest } from '../../shared/protocol/offline.js';
import { audit } from '../audit/audit.repo.js';
import type { AuthUser } from '../auth/sessions.js';
import { type Db, perDb, tx } from '../db/client.js';
import { devices, documentPages } from '../db/schema/index.js';
import { documentAccess } from '../documents/documents.access.js';
import { mayKeepOffline, meetingPack } from '../documents/documents.service.js';
import { notFound } from '../http/errors.js';
import { meetingAccess } from '../meetings/meetings.access.js';

/**
 * What a device may keep of a meeting for offline reading: the GET URLs the app caches, exactly as
 * its views request them, and per document whether it is included. Built from the same access rules
 * as the meeting pack, at the moment of asking, so a later restriction drops the document from the
 * next manifest and the app deletes its copy (remote wipe).
 */
export function offlineManifest(db: Db, user: AuthUser, meetingId: number): OfflineManifest {
  const { meeting } = meetingAccess(db, user, meetingId);
  const pack = meetingPack(db, user, meetingId);
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
export function documentText(db: Db, user: AuthUser, documentId: number): DocumentText {
  const a = documentAccess(db, user, documentId, { consultations: true });
  // Same policy as the file: the text of a view-only confidential document never leaves in bulk.
  if (!mayKeepOffline(a)) throw notFound('Document');
  const versionId = a.document.currentVersionId ?? -1;
  const pages = db
    .select({ page: documentPages.page, text: documentPages.text })
    .from(documentPages)
    .where(eq(documentPages.versionId, versionId))
    .orderBy(asc(documentPages.page))
    .all();
  return { documentId, versionId, pages };
}

/** Devices are named to the administrator by the first 16 hex characters of their token hash. */
const deviceId = (tokenHash: string) => tokenHash.slice(0, 16);
export const hashDeviceToken = (token: string) => crypto.createHash('sha256').update(token).digest('hex');

const deviceStatements = perDb((db) => ({
  get: db.$client.prepare<[string, number], { revoked_at: string | null; last_seen_at: string }>(
    'select revoked_at, last_seen_at from devices where token_hash = ? and user_id = ?',
  ),
  insert: db.$client.prepare<[string, number, string, string]>(
    'insert into devices (token_hash, user_id, label, last_seen_at) values (?, ?, ?, ?) on conflict do nothing',
  ),
  seen: db.$client.prepare<[string, string, number]>('update devices set last_seen_at = ? where token_hash = ? and user_id = ?'),
}));

/**
 * Records that `user` is using the device whose token hashes to `tokenHash`, and tells whether an
 * administrator revoked it. `last_seen_at` is written at most once a minute per device.
 */
export function touchDevice(db: Db, user: AuthUser, tokenHash: string, userAgent: string): 'ok' | 'revoked' {
  const s = deviceStatements(db);
  const row = s.get.get(tokenHash, user.id);
  const now = new Date().toISOString();
  if (!row) {
    s.insert.run(tokenHash, user.id, shortLabel(userAgent), now);
    return 'ok';
  }
  if (row.revoked_at) return 'revoked';
  if (Date.parse(now) - Date.parse(row.last_seen_at) > 60_000) s.seen.run(now, tokenHash, user.id);
  return 'ok';
}

function shortLabel(ua: string): string {
  const browser = /(Edg|Chrome|Chromium|Firefox|Safari)\/[\d.]+/.exec(ua)?.[0] ?? 'Browser';
  const os = /(Android [\d.]+|iPad|iPhone|Windows NT [\d.]+|Mac OS X [\d_]+|Linux)/.exec(ua)?.[0] ?? '';
  return `${browser}${os ? ` · ${os}` : ''}`.slice(0, 120);
}

/** A user's devices, newest first (administrators). */
export function listDevices(db: Db, userId: number): DeviceList {
  const rows = db.select().from(devices).where(eq(devices.userId, userId)).all();
  rows.sort((a, b) => b.lastSeenAt.localeCompare(a.lastSeenAt));
  return {
    devices: rows.map((r) => ({ id: deviceId(r.tokenHash), label: r.label, createdAt: r.createdAt, lastSeenAt: r.lastSeenAt, revokedAt: r.revokedAt })),
  };
}

/**
 * Revokes one of a user's devices (administrators): its next request ends its session and makes the
 * app wipe every offline copy it holds. Returns the revoked token hash.
 */
export function revokeDevice(db: Db, admin: AuthUser, userId: number, id: string): string {
  return tx(db, (d) => {
    const row = d
      .select()
      .from(devices)
      .where(eq(devices.userId, userId))
      .all()
      .find((r) => deviceId(r.tokenHash) === id);
    if (!row) throw notFound('Device');
    d.update(devices)
      .set({ revokedAt: row.revokedAt ?? new Date().toISOString(), revokedBy: admin.id })
      .where(and(eq(devices.tokenHash, row.tokenHash), eq(devices.userId, userId)))
      .run();
    audit(d, { actorId: admin.id, action: 'device.revoke', targetType: 'user', targetId: userId, details: { device: id } });
    return row.tokenHash;
  });
}
