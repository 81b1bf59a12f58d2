import { z } from 'zod';
import { PathId } from './common.js';

/**
 * Offline meeting packs (docs/OFFLINE.md). The server decides what a device may keep: the manifest
 * lists the exact GET URLs the app caches for a meeting, and the documents left out with the reason.
 * The app asks for it again at every contact and deletes whatever is no longer listed (remote wipe).
 */
export const OfflineResource = z.object({
  url: z.string(),
  /** Size in bytes when known in advance (document files), for the progress bar. */
  bytes: z.number().nullable(),
});
export type OfflineResource = z.infer<typeof OfflineResource>;

export const OfflineDocument = z.object({
  documentId: z.number(),
  title: z.string(),
  versionId: z.number(),
  bytes: z.number(),
  pageCount: z.number(),
  /** `true`: its file and text are in `resources`. */
  offline: z.boolean(),
  /** Why not: a confidential document the member may only view (the secretary may allow offline copies). */
  reason: z.enum(['view_only']).nullable(),
});
export type OfflineDocument = z.infer<typeof OfflineDocument>;

export const OfflineManifest = z.object({
  meetingId: z.number(),
  title: z.string(),
  startsAt: z.string(),
  userId: z.number(),
  resources: z.array(OfflineResource),
  documents: z.array(OfflineDocument),
});
export type OfflineManifest = z.infer<typeof OfflineManifest>;

/** Every page's text of a document's current version, for find-in-document without network. */
export const DocumentText = z.object({
  documentId: z.number(),
  versionId: z.number(),
  pages: z.array(z.object({ page: z.number(), text: z.string() })),
});
export type DocumentText = z.infer<typeof DocumentText>;

/** A device of a user, as the administrator sees it. */
export const DeviceView = z.object({
  id: z.string(),
  label: z.string(),
  createdAt: z.string(),
  lastSeenAt: z.string(),
  revokedAt: z.string().nullable(),
});
export const DeviceList = z.object({ devices: z.array(DeviceView) });
export type DeviceList = z.infer<typeof DeviceList>;
export const DeviceParams = z.strictObject({ id: PathId, deviceId: z.string().regex(/^[0-9a-f]{16}$/) });

/** Header carrying the device's random token (43 base64url characters). */
export const DEVICE_HEADER = 'x-ec-device';
export const DeviceToken = z.string().regex(/^[A-Za-z0-9_-]{43}$/);
