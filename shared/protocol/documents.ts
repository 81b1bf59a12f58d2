import { z } from 'zod';
import { LIMITS } from '../limits.js';
import { Id, PathId, UrlInt, line } from './common.js';

/** Who may see a document: every participant, named participants, or named participants view-only. */
export const DocumentAccessLevel = z.enum(['all', 'named', 'confidential']);
export type DocumentAccessLevel = z.infer<typeof DocumentAccessLevel>;

/** Largest accepted PDF upload by default (the server's `documentMaxBytes` may lower or raise it). */
export const DOCUMENT_LIMITS = {
  maxBytes: 100 * 1024 * 1024,
  maxPages: 5_000,
  maxViewers: LIMITS.participantsPerMeeting,
  /** Extracted text kept per page (characters). */
  pageTextChars: 50_000,
} as const;

export const DocumentVersion = z.object({
  id: z.number(),
  version: z.number(),
  fileName: z.string(),
  size: z.number(),
  pageCount: z.number(),
  sha256: z.string(),
  uploadedBy: z.number().nullable(),
  createdAt: z.string(),
});
export type DocumentVersion = z.infer<typeof DocumentVersion>;

/** A document as its viewer sees it. `viewerIds` and `versions` beyond the current one are filled for managers. */
export const DocumentInfo = z.object({
  id: z.number(),
  meetingId: z.number(),
  agendaItemId: z.number(),
  title: z.string(),
  position: z.number(),
  access: DocumentAccessLevel,
  published: z.boolean(),
  /** The caller may download a (watermarked) copy. */
  canDownload: z.boolean(),
  /** The caller may edit, replace, reorder and remove it. */
  canManage: z.boolean(),
  /** The secretary allows offline copies of this confidential document. */
  offlineAllowed: z.boolean(),
  /** The caller may keep a copy on their device for offline reading (see docs/OFFLINE.md). */
  canKeepOffline: z.boolean(),
  current: DocumentVersion,
  versions: z.array(DocumentVersion),
  viewerIds: z.array(z.number()),
  createdAt: z.string(),
});
export type DocumentInfo = z.infer<typeof DocumentInfo>;

export const DocumentParams = z.strictObject({ id: PathId });
export const DocumentVersionParams = z.strictObject({ id: PathId, versionId: PathId });
export const DocumentPageParams = z.strictObject({ id: PathId, page: UrlInt(1, DOCUMENT_LIMITS.maxPages) });
export const ItemDocumentsParams = z.strictObject({ id: PathId, itemId: PathId });

/**
 * Multipart form fields of an upload (besides the one `file` part). Sent as text fields before
 * the file part; all optional.
 */
export const UploadFields = z.strictObject({
  title: line(LIMITS.title).optional(),
  access: DocumentAccessLevel.optional(),
  /** Comma-separated user ids for named / confidential documents. */
  viewerIds: z
    .string()
    .max(20_000)
    .regex(/^([1-9][0-9]{0,15}(,[1-9][0-9]{0,15})*)?$/, 'comma-separated ids')
    .optional(),
  published: z.enum(['true', 'false']).optional(),
});
export type UploadFields = z.infer<typeof UploadFields>;

export const UpdateDocumentBody = z.strictObject({
  title: line(LIMITS.title).optional(),
  access: DocumentAccessLevel.optional(),
  viewerIds: z.array(Id).max(DOCUMENT_LIMITS.maxViewers).optional(),
  published: z.boolean().optional(),
  /** Allow members to keep an offline copy of a confidential (view-only) document on their tablets. */
  offlineAllowed: z.boolean().optional(),
});
export type UpdateDocumentBody = z.infer<typeof UpdateDocumentBody>;

export const MoveDocumentBody = z.strictObject({
  /** New index among the item's documents (0-based; clamped to the end). */
  position: z.number().int().nonnegative(),
});
export type MoveDocumentBody = z.infer<typeof MoveDocumentBody>;

export const PageText = z.object({ documentId: z.number(), page: z.number(), text: z.string() });

/** The meeting pack: every agenda item in display order with the documents the caller may see. */
export const MeetingPack = z.object({
  meetingId: z.number(),
  items: z.array(
    z.object({
      id: z.number(),
      number: z.string(),
      title: z.string(),
      parentId: z.number().nullable(),
      documents: z.array(DocumentInfo),
    }),
  ),
});
export type MeetingPack = z.infer<typeof MeetingPack>;

/** Error codes of the document domain. */
export const DOCUMENT_ERRORS = ['not_a_pdf', 'invalid_pdf', 'pdf_encrypted', 'pdf_too_complex', 'payload_too_large', 'download_forbidden', 'upload_incomplete'] as const;

export const FindQuery = z.strictObject({ q: z.string().trim().min(1).max(200) });
/** Pages of the current version whose text contains the query as a phrase (folded), in page order. */
export const FindResults = z.object({
  query: z.string(),
  /** Folded terms the viewer should highlight in the text layer. */
  terms: z.array(z.string()),
  pages: z.array(z.object({ page: z.number(), snippet: z.array(z.object({ text: z.string(), hit: z.boolean() })) })),
});
export type FindResults = z.infer<typeof FindResults>;
