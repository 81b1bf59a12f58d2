import type * as Y from 'yjs';
import type { AuthUser } from '../auth/sessions.js';
import type { Store } from '../db/store.js';

/** What a user may do with one Yjs document. `read`: sync and awareness, updates dropped. */
export type YjsAccess = 'write' | 'read' | 'none';

/**
 * The fields parsed out of a document name. Conventional keys let the hub re-check access when
 * domain facts change: `meetingId` (re-checked on `meeting:changed`), `userId` (owner).
 */
export type ParsedDocName = Record<string, number | string>;

/** The meeting a document belongs to (a `meetingId` field in its parsed name), or null (a private annotation layer). */
export function meetingOfDoc(parsed: ParsedDocName): number | null {
  return typeof parsed.meetingId === 'number' ? parsed.meetingId : null;
}

/**
 * A kind of collaborative document, registered by the domain that owns it
 * (`ctx.yjs.registerKind(...)` from the domain's registration function).
 */
export interface YjsDocKind<P extends ParsedDocName = ParsedDocName> {
  /** Stable kind name, e.g. `item-notes`; also what `onChange(kind, ...)` matches. */
  kind: string;
  /** Returns the parsed fields when `name` belongs to this kind, else null. Must not throw. */
  parse(name: string): P | null;
  /**
   * Decides access for one user. Runs at the upgrade and again on every re-check (revocation),
   * so keep it to a few indexed queries. Throwing counts as `none` (e.g. `meetingAccess` → 404).
   * A pure query on the app's store: it must not load, write or create anything (that is `open`'s job).
   */
  access(user: AuthUser, parsed: P, store: Store): YjsAccess | Promise<YjsAccess>;
  /**
   * Optional step run once per admitted connection, right after `access` granted `write` or `read`
   * at the upgrade and before the WebSocket is accepted (so before sync step 1): prepares the
   * document for its reader, e.g. attaches a server-side guard or brings the content up to date
   * through `withDoc` (such writes are committed before the client's first sync). Not run on
   * re-checks. Throwing refuses the connection with 4403, as an access failure would.
   */
  open?(name: string, parsed: P): void | Promise<void>;
  /**
   * Optional pre-apply check of every client update of a `write` connection, run BEFORE the update
   * touches the live document (so before it is persisted or relayed). `ctx.structs` / `ctx.ds` are
   * the decoded update (`Y.decodeUpdate`); the hub has already checked that every struct and
   * deletion of it refers to something the document has (or the same update carries), so a
   * reference can be resolved with `Y.getItem(ctx.ydoc.store, id)` or among `ctx.structs`.
   * Return null to accept the update as it is, or refusals: the refused structs become GC
   * tombstones of the same clock range (no content; the client's later updates still integrate)
   * and the refused delete ranges are dropped. Must be synchronous, O(update), and must not
   * modify the document. A throw refuses the whole update.
   */
  validate?(ctx: YjsValidateContext<P>): YjsRefusal[] | null;
}

/** What `validate` sees of one incoming update. Read-only: never modify `ydoc`. */
export interface YjsValidateContext<P extends ParsedDocName = ParsedDocName> {
  name: string;
  parsed: P;
  /**
   * The connection's user: the very object its last `access` check received (at the upgrade, then at
   * each re-check), so a kind may keep what that check learned in a WeakMap keyed by it.
   */
  user: AuthUser;
  /** The live document, before the update. */
  ydoc: Y.Doc;
  /** The raw update (Yjs v1 encoding). */
  update: Uint8Array;
  /** Its decoded structs (Items with `parent` a root name, an ID, or null = from `origin`; GC; Skip). */
  structs: (Y.Item | Y.GC | Y.Skip)[];
  /** Its delete set. */
  ds: { clients: Map<number, { clock: number; len: number }[]> };
}

/**
 * One refused part of an update (with the reason, logged). `all` refuses everything; otherwise
 * `structs` (from `ctx.structs`) and `deletes` (clock ranges of the delete set) are dropped.
 */
export interface YjsRefusal {
  reason: string;
  all?: boolean;
  structs?: Y.Item[];
  deletes?: { client: number; clock: number; len: number }[];
}

/**
 * Builds a `parse` function from a template such as `meeting:{meetingId}:item:{itemId}:notes`:
 * every `{field}` matches a positive integer (no leading zeros) and is returned as a number.
 */
export function docPattern<K extends string>(template: string): (name: string) => Record<K, number> | null {
  const fields: string[] = [];
  const source = template
    .split(/(\{[a-zA-Z]+\})/)
    .map((part) => {
      const m = /^\{([a-zA-Z]+)\}$/.exec(part);
      if (m) {
        fields.push(m[1]);
        return '([1-9][0-9]{0,14})';
      }
      return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('');
  const re = new RegExp(`^${source}$`);
  return (name) => {
    const m = re.exec(name);
    if (!m) return null;
    const out: Record<string, number> = {};
    fields.forEach((f, i) => {
      out[f] = Number(m[i + 1]);
    });
    return out as Record<K, number>;
  };
}

/** The kinds one hub knows; the first kind whose `parse` accepts a name owns it. */
export class DocKindRegistry {
  private kinds: YjsDocKind[] = [];

  /** @throws Error when a kind with the same name is already registered. */
  register<P extends ParsedDocName>(kind: YjsDocKind<P>): void {
    if (this.kinds.some((k) => k.kind === kind.kind)) throw new Error(`Yjs doc kind ${kind.kind} registered twice`);
    this.kinds.push(kind as unknown as YjsDocKind);
  }

  has(kind: string): boolean {
    return this.kinds.some((k) => k.kind === kind);
  }

  /** The owning kind and parsed fields of a document name, or null when no kind accepts it. */
  resolve(name: string): { kind: YjsDocKind; parsed: ParsedDocName } | null {
    for (const kind of this.kinds) {
      let parsed: ParsedDocName | null = null;
      try {
        parsed = kind.parse(name);
      } catch {
        parsed = null;
      }
      if (parsed) return { kind, parsed };
    }
    return null;
  }

  /** Runs the kind's access function; a thrown error (404 from meetingAccess, …) means `none`. */
  async access(kind: YjsDocKind, user: AuthUser, parsed: ParsedDocName, store: Store): Promise<YjsAccess> {
    try {
      const a = await kind.access(user, parsed, store);
      return a === 'write' || a === 'read' ? a : 'none';
    } catch {
      return 'none';
    }
  }
}
