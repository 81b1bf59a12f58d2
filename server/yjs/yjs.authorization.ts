import type http from 'node:http';
import { CLOSE_CODES } from '../../shared/close-codes.js';
import { YjsDocName } from '../../shared/protocol/yjs.js';
import { type AuthUser, authenticateCookie } from '../auth/sessions.js';
import type { Config } from '../config.js';
import type { Store } from '../db/store.js';
import { originAllowed } from '../http/security.js';
import type { Connections, HubState } from './yjs.conn.js';
import type { DocKindRegistry, ParsedDocName, YjsDocKind } from './yjs.registry.js';

/** Filter of `recheck`: every given field must match the connection. */
export interface RecheckFilter {
  docName?: string;
  userId?: number;
  meetingId?: number;
  kind?: string;
}

/** The verdict on an upgrade request: admitted (who, which document, which level) or refused with a close code. */
export type Admission =
  | { ok: true; user: AuthUser; tokenHash: string; cookie: string; name: string; kind: YjsDocKind; parsed: ParsedDocName; level: 'write' | 'read' }
  | { ok: false; code: number; reason: string };

/**
 * Who may open and write which document, decided at the moment of use: at the upgrade (Origin,
 * session cookie, document name, the kind's `access`), again on every re-check (revocation: after
 * domain facts change and every `recheckIntervalMs`), and when a session ends.
 */
export class YjsAuthorization {
  constructor(
    private readonly state: HubState,
    private readonly conns: Connections,
    private readonly registry: DocKindRegistry,
    private readonly store: Store,
    private readonly config: Config,
  ) {}

  /**
   * Decides an HTTP upgrade for `/yjs/<document>`: Origin (absent allowed: non-browser clients),
   * session cookie, document name, access. A pure query: it changes nothing.
   */
  async admit(req: http.IncomingMessage): Promise<Admission> {
    const refuse = (code: number, reason: string): Admission => ({ ok: false, code, reason });
    const origin = req.headers.origin;
    if (origin && !originAllowed(origin, req.headers.host, this.config)) return refuse(CLOSE_CODES.forbidden, 'origin not allowed');
    const cookie = req.headers.cookie ?? '';
    const auth = await authenticateCookie(this.store, cookie, this.config.mfaRequiredRoles);
    if (!auth) return refuse(CLOSE_CODES.unauthenticated, 'sign in first');
    let name: string;
    try {
      name = decodeURIComponent(new URL(req.url ?? '', 'http://x').pathname.slice('/yjs/'.length));
    } catch {
      return refuse(CLOSE_CODES.unknownDocument, 'unknown document');
    }
    const resolved = YjsDocName.safeParse(name).success ? this.registry.resolve(name) : null;
    if (!resolved) return refuse(CLOSE_CODES.unknownDocument, 'unknown document');
    const level = await this.registry.access(resolved.kind, auth.user, resolved.parsed, this.store);
    if (level === 'none') return refuse(CLOSE_CODES.forbidden, 'no access');
    return { ok: true, user: auth.user, tokenHash: auth.tokenHash, cookie, name, kind: resolved.kind, parsed: resolved.parsed, level };
  }

  /** See `YjsHub.recheck`. Returns how many connections were closed. */
  async recheck(filter: RecheckFilter = {}): Promise<number> {
    let closedCount = 0;
    for (const d of [...this.state.docs.values()]) {
      if (filter.docName !== undefined && d.name !== filter.docName) continue;
      if (filter.kind !== undefined && d.kind.kind !== filter.kind) continue;
      if (filter.meetingId !== undefined && d.parsed.meetingId !== filter.meetingId) continue;
      for (const c of [...d.conns]) {
        if (filter.userId !== undefined && c.user.id !== filter.userId) continue;
        if (c.closed) continue;
        const auth = await authenticateCookie(this.store, c.cookie, this.config.mfaRequiredRoles);
        if (c.closed) continue;
        if (!auth || auth.user.id !== c.user.id) {
          this.conns.close(c, CLOSE_CODES.unauthenticated, 'session ended');
          closedCount++;
          continue;
        }
        const level = await this.registry.access(d.kind, auth.user, d.parsed, this.store);
        if (c.closed) continue;
        // The user object the access check got (YjsValidateContext.user), with the level it decided.
        c.user = auth.user;
        if (level === 'none') {
          this.conns.close(c, CLOSE_CODES.forbidden, 'access revoked');
          closedCount++;
        } else c.level = level;
      }
    }
    return closedCount;
  }

  /**
   * A session ended (`session:ended`): a logout closes that session's connections; a deactivation
   * or password reset, all of the user's. All with 4401.
   */
  sessionEnded(e: { tokenHash: string } | { userId: number }): void {
    if ('userId' in e) this.conns.closeUser(e.userId, CLOSE_CODES.unauthenticated);
    else
      for (const d of this.state.docs.values())
        for (const c of [...d.conns]) if (c.tokenHash === e.tokenHash) this.conns.close(c, CLOSE_CODES.unauthenticated, 'signed out');
  }
}
