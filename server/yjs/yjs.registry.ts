import type { AuthUser } from '../auth/sessions.js';
import type { Db } from '../db/client.js';

/** What a user may do with one Yjs document. `read`: sync and awareness, updates dropped. */
export type YjsAccess = 'write' | 'read' | 'none';

/**
 * The fields parsed out of a document name. Conventional keys let the hub re-check access when
 * domain facts change: `meetingId` (re-checked on `meeting:changed`), `userId` (owner).
 */
export type ParsedDocName = Record<string, number | string>;

/**
 * A kind of collaborative document, registered by the domain that owns it
 * (`yjsHub(ctx).registerKind(...)` from the domain's registration function).
 */
export interface YjsDocKind<P extends ParsedDocName = ParsedDocName> {
  /** Stable kind name, e.g. `item-notes`; also what `onChange(kind, ...)` matches. */
  kind: string;
  /** Returns the parsed fields when `name` belongs to this kind, else null. Must not throw. */
  parse(name: string): P | null;
  /**
   * Decides access for one user. Runs at the upgrade and again on every re-check (revocation),
   * so keep it to a few indexed queries. Throwing counts as `none` (e.g. `meetingAccess` → 404).
   */
  access(user: AuthUser, parsed: P, db: Db): YjsAccess;
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
  access(kind: YjsDocKind, user: AuthUser, parsed: ParsedDocName, db: Db): YjsAccess {
    try {
      const a = kind.access(user, parsed, db);
      return a === 'write' || a === 'read' ? a : 'none';
    } catch {
      return 'none';
    }
  }
}
