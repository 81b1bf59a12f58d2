import { type LayerRef, layerDocName } from '../../shared/protocol/annotations.js';
import type { AuthUser } from '../auth/sessions.js';
import { type DocumentAccess, documentAccess } from '../documents/documents.access.js';
import { type YjsDocKind, type YjsRefusal, type YjsValidateContext, docPattern } from '../yjs/yjs.registry.js';

/** Root map of a layer doc written by the server only: `<newVersionId>` → the version it was carried from. */
export const CARRY_MAP = 'carry';

type PrivateParsed = { documentId: number; userId: number };
type SharedParsed = { documentId: number; meetingId: number };

/** What a layer kind runs besides its access rule: the open step and the guard (see AnnotationLayers). */
export interface LayerHooks {
  /** Run for every admitted connection, before its first sync (`YjsDocKind.open`). */
  onOpen: (name: string) => Promise<void>;
  validate?: (ctx: YjsValidateContext) => YjsRefusal[] | null;
  /** Told what the user may do with the document at every access check that grants it (the guard reads `canManage` synchronously). */
  onAccess?: (user: AuthUser, a: DocumentAccess) => void;
}

/**
 * Private layer `annotation:<documentId>:private:<userId>`: its owner alone, and only while the owner
 * may see the document (documentAccess: published, named viewer for named/confidential, …).
 */
export function privateLayerKind({ onOpen, validate, onAccess }: LayerHooks): YjsDocKind<PrivateParsed> {
  return {
    validate,
    kind: 'annotation-private',
    parse: docPattern<'documentId' | 'userId'>('annotation:{documentId}:private:{userId}'),
    async access(user, { documentId, userId }, store) {
      if (user.id !== userId) return 'none';
      onAccess?.(user, await documentAccess(store, user, documentId));
      return 'write';
    },
    open: (_name, { documentId, userId }) => onOpen(layerDocName({ documentId, layer: 'private', userId })),
  };
}

/**
 * Shared layer `annotation:<documentId>:shared:<meetingId>`: everyone who may see the document, and
 * only in the document's own meeting. Writing is open to them, but the layer guard only accepts
 * items authored by the writer (and lets managers remove anyone's).
 */
export function sharedLayerKind({ onOpen, validate, onAccess }: LayerHooks): YjsDocKind<SharedParsed> {
  return {
    validate,
    kind: 'annotation-shared',
    parse: docPattern<'documentId' | 'meetingId'>('annotation:{documentId}:shared:{meetingId}'),
    async access(user, { documentId, meetingId }, store) {
      const a = await documentAccess(store, user, documentId);
      if (a.document.meetingId !== meetingId) return 'none';
      onAccess?.(user, a);
      return 'write';
    },
    open: (_name, { documentId, meetingId }) => onOpen(layerDocName({ documentId, layer: 'shared', meetingId })),
  };
}

/** The layer a document name stands for. @throws Error when it is not a layer doc name. */
export function parseRef(name: string): LayerRef {
  const m = /^annotation:(\d+):(private|shared):(\d+)$/.exec(name);
  if (!m) throw new Error(`not an annotation layer: ${name}`);
  return m[2] === 'private' ? { documentId: Number(m[1]), layer: 'private', userId: Number(m[3]) } : { documentId: Number(m[1]), layer: 'shared', meetingId: Number(m[3]) };
}
