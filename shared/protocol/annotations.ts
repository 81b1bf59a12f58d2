/**
 * Annotations on meeting documents: the Yjs document model, item schemas and the REST shapes.
 *
 * Each layer is one Y.Doc on the Yjs hub:
 * - private layer of one user on one document version: `annotation:<documentId>:private:<userId>`
 *   (synced to its owner alone),
 * - shared layer of one meeting on one document version: `annotation:<documentId>:shared:<meetingId>`
 *   (synced to everyone who may see the document in that meeting).
 *
 * A layer doc holds the items of every version of the document, one Y.Map per version:
 * `doc.getMap(itemsMapName(versionId))` maps an item id to one plain JSON item (a value, not a
 * nested Y type): an edit replaces the whole item, erasing deletes the key. That keeps every change
 * one map operation, which is what Y.UndoManager undoes, what the server validates, and what merges
 * without surprises (concurrent edits of one item: last writer wins, never a half-merged item).
 * When the secretary uploads a new version, the server writes the re-anchored items into the new
 * version's map of the same doc; the old version's map stays as it was, so its owner can still view
 * the old version with the old annotations. No other root type may appear in a layer doc.
 *
 * Coordinates are always PDF user space of the page (points, origin bottom-left, unrotated), so
 * zoom, rotation and screen size never move an annotation; the viewer maps them to the screen.
 */
import { z } from 'zod';

/** Name of the Y.Map holding a layer's items on one version of the document. */
export const itemsMapName = (versionId: number) => `v${versionId}`;

/** The version id of an items map name, or null when the name is not one. */
export function parseItemsMapName(name: string): number | null {
  const m = /^v([1-9][0-9]{0,15})$/.exec(name);
  return m ? Number(m[1]) : null;
}

/** Bounds shared by the server's validation and the client's tools. */
export const ANNOTATION_LIMITS = {
  /** Items in one layer doc. */
  itemsPerLayer: 5_000,
  /** Points in one ink stroke (longer strokes are split by the client). */
  pointsPerStroke: 2_000,
  /** Rectangles drawn for one highlight (one per line fragment). */
  rectsPerHighlight: 200,
  /** Characters of a highlighted quote. */
  quote: 4_000,
  /** Characters of context kept on either side of a quote. */
  context: 64,
  /** Characters of a sticky note or a highlight's comment. */
  noteText: 4_000,
  /** Largest PDF page side we accept, in points (A0 is 3370 pt; 14400 is the PDF maximum). */
  coordinate: 14_400,
  strokeWidth: { min: 0.25, max: 48 },
  /** Largest Yjs update one client may send in one message, in bytes. */
  updateBytes: 256 * 1024,
  /** Largest total size of a layer doc's state, in bytes. */
  docBytes: 8 * 1024 * 1024,
} as const;

/** The palette offered by the tools; stored as `#rrggbb` so any value is drawable everywhere. */
export const ANNOTATION_COLORS = ['#ffd400', '#ff6b6b', '#4dabf7', '#51cf66', '#845ef7', '#212529'] as const;

export const Color = z.string().regex(/^#[0-9a-f]{6}$/i, 'must be a #rrggbb colour');
const Coord = z.number().finite().min(-ANNOTATION_LIMITS.coordinate).max(ANNOTATION_LIMITS.coordinate);
const Page = z.number().int().min(1).max(100_000);
const Offset = z.number().int().min(0).max(10_000_000);
const ItemId = z.string().regex(/^[A-Za-z0-9_-]{6,64}$/, 'must be an id of 6-64 url-safe characters');
const Timestamp = z.number().int().min(0).max(8_640_000_000_000);
const NoteText = z.string().max(ANNOTATION_LIMITS.noteText);

/** An axis-aligned rectangle in PDF user space: `x,y` is the bottom-left corner. */
export const Rect = z.strictObject({ x: Coord, y: Coord, w: z.number().finite().min(0).max(ANNOTATION_LIMITS.coordinate), h: z.number().finite().min(0).max(ANNOTATION_LIMITS.coordinate) });
export type Rect = z.infer<typeof Rect>;

/**
 * Where an annotation sits in the page's extracted text: the quoted text, a little context on
 * either side (to find it again when offsets shift), its 1-based page and its offsets in that
 * page's text. This is what survives a new document version; rectangles are only for drawing.
 */
export const TextAnchor = z.strictObject({
  page: Page,
  start: Offset,
  end: Offset,
  quote: z.string().min(1).max(ANNOTATION_LIMITS.quote),
  prefix: z.string().max(ANNOTATION_LIMITS.context),
  suffix: z.string().max(ANNOTATION_LIMITS.context),
});
export type TextAnchor = z.infer<typeof TextAnchor>;

/**
 * How an annotation fared when carried to a new document version (absent on annotations made on
 * this version): `ok` found unchanged, `changed` its text or surroundings changed (shown flagged),
 * `orphaned` its text or page is gone (kept on the nearest page, flagged for its owner).
 */
export const AnchorStatus = z.enum(['ok', 'changed', 'orphaned']);
export type AnchorStatus = z.infer<typeof AnchorStatus>;

/** Set on items the server carried over from an earlier version of the document. */
export const CarriedFrom = z.strictObject({
  /** The document version the item was carried from. */
  fromVersionId: z.number().int().positive(),
  status: AnchorStatus,
  /** The quote as it was on the earlier version, when the text changed. */
  previousQuote: z.string().max(ANNOTATION_LIMITS.quote).optional(),
  previousPage: Page,
});
export type CarriedFrom = z.infer<typeof CarriedFrom>;

/** Who made a shared item: shown next to it in everyone's viewer. */
export const Author = z.strictObject({
  userId: z.number().int().positive(),
  name: z.string().min(1).max(200),
  color: Color,
});
export type Author = z.infer<typeof Author>;

const base = {
  id: ItemId,
  page: Page,
  createdAt: Timestamp,
  updatedAt: Timestamp.optional(),
  carried: CarriedFrom.optional(),
  /** Only in the shared layer: who shared it, and the id of the item in their private layer. */
  author: Author.optional(),
  sourceId: ItemId.optional(),
};

/** Highlighted text: anchored to the text, drawn with `rects`. */
export const Highlight = z.strictObject({
  ...base,
  kind: z.literal('highlight'),
  anchor: TextAnchor,
  rects: z.array(Rect).min(1).max(ANNOTATION_LIMITS.rectsPerHighlight),
  color: Color,
  comment: NoteText.optional(),
});
export type Highlight = z.infer<typeof Highlight>;

/**
 * One ink stroke: a flat list `[x0, y0, x1, y1, ...]` in PDF user space (already smoothed by the
 * pen tool), its colour and width in points. `near` is the text closest to the stroke when it was
 * drawn, used to follow that text to another page on a new version.
 */
export const Ink = z.strictObject({
  ...base,
  kind: z.literal('ink'),
  points: z
    .array(Coord)
    .min(2)
    .max(ANNOTATION_LIMITS.pointsPerStroke * 2)
    .refine((p) => p.length % 2 === 0, 'points must be x,y pairs'),
  color: Color,
  width: z.number().finite().min(ANNOTATION_LIMITS.strokeWidth.min).max(ANNOTATION_LIMITS.strokeWidth.max),
  near: TextAnchor.optional(),
});
export type Ink = z.infer<typeof Ink>;

/** A sticky note pinned at `x,y` (PDF user space). */
export const Note = z.strictObject({
  ...base,
  kind: z.literal('note'),
  x: Coord,
  y: Coord,
  text: NoteText,
  color: Color,
  near: TextAnchor.optional(),
});
export type Note = z.infer<typeof Note>;

/** Any item of a layer doc. */
export const AnnotationItem = z.discriminatedUnion('kind', [Highlight, Ink, Note]);
export type AnnotationItem = z.infer<typeof AnnotationItem>;
export type AnnotationKind = AnnotationItem['kind'];

/** The two kinds of layer. */
export type LayerRef = { documentId: number; layer: 'private'; userId: number } | { documentId: number; layer: 'shared'; meetingId: number };

const DOC_NAME = /^annotation:([1-9][0-9]{0,15}):(private|shared):([1-9][0-9]{0,15})$/;

/** The hub doc name of a layer. */
export function layerDocName(ref: LayerRef): string {
  return ref.layer === 'private' ? `annotation:${ref.documentId}:private:${ref.userId}` : `annotation:${ref.documentId}:shared:${ref.meetingId}`;
}

/** Parses a hub doc name back to its layer, or null when it is not an annotation layer name. */
export function parseLayerDocName(name: string): LayerRef | null {
  const m = DOC_NAME.exec(name);
  if (!m) return null;
  const documentId = Number(m[1]);
  const other = Number(m[3]);
  if (!Number.isSafeInteger(documentId) || !Number.isSafeInteger(other)) return null;
  return m[2] === 'private' ? { documentId, layer: 'private', userId: other } : { documentId, layer: 'shared', meetingId: other };
}

/** One row of "my annotations" (GET /api/meetings/:id/annotations/mine), from the server's projection. */
export const MyAnnotation = z.object({
  documentId: z.number(),
  documentTitle: z.string(),
  itemId: z.string(),
  kind: z.enum(['highlight', 'ink', 'note']),
  page: z.number(),
  /** The quoted text of a highlight, or the note's text; empty for ink. */
  text: z.string(),
  color: z.string(),
  status: AnchorStatus.nullable(),
  shared: z.boolean(),
  updatedAt: z.number(),
});
export type MyAnnotation = z.infer<typeof MyAnnotation>;

export const MyAnnotationsResponse = z.object({ meetingId: z.number(), annotations: z.array(MyAnnotation) });
export type MyAnnotationsResponse = z.infer<typeof MyAnnotationsResponse>;
