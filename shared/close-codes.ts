/**
 * WebSocket close codes used by E-Cabinet's realtime endpoints (the Yjs hub at `/yjs/<document>`).
 * The 4400–4499 range mirrors HTTP 4xx: a deliberate refusal that reconnecting cannot fix, so the
 * stock y-websocket `WebsocketProvider` (3.x) stops reconnecting and emits `closed`. Other codes
 * (1001 going away, 1013 try again later, 1006 abnormal) are transient: clients reconnect.
 */
export const CLOSE_CODES = {
  /** Server shutting down or restarting; reconnect. */
  goingAway: 1001,
  /** A single frame exceeded the server's maxPayload (sent by `ws` itself); do not resend it. */
  messageTooBig: 1009,
  /** This connection is too slow (send buffer full) or floods messages; reconnect later. */
  tryAgainLater: 1013,
  /** A message that is not valid y-protocols, or an update that cannot be applied. */
  invalidMessage: 4400,
  /** No valid session cookie at the upgrade, or the session ended. Sign in again. */
  unauthenticated: 4401,
  /** Signed in, but no access to this document (or access was revoked), or a foreign Origin. */
  forbidden: 4403,
  /** The document name is not one the server knows (no registered kind parses it). */
  unknownDocument: 4404,
  /** Accepting the update would grow the document past `LIMITS.yjs.docBytes`. */
  documentTooLarge: 4413,
  /**
   * The connection kept sending updates the document's rules refuse (e.g. editing someone else's
   * shared annotation); they were dropped, and after `maxRefusedUpdates` of them it is closed.
   */
  updateRefused: 4422,
} as const;

export type CloseCode = (typeof CLOSE_CODES)[keyof typeof CLOSE_CODES];

/** True for refusals that a client must not retry by reconnecting (4400–4499 and 1009). */
export function isTerminalClose(code: number): boolean {
  return (code >= 4400 && code < 4500) || code === CLOSE_CODES.messageTooBig;
}

/**
 * Several server nodes (#18): the reason of the 1013 a node that does not own a document's meeting closes
 * with. It names the owner node when one holds the lease, so the client reconnects with the owner hint
 * (`node=<id>`, shared/protocol/realtime.ts) — HAProxy's hash may point at a node that came back while
 * another keeps the meeting — as a Socket.IO client does on `not_owner`.
 */
export function notOwnerReason(ownerNode: string | null): string {
  return ownerNode ? `not the owner; owner=${ownerNode}` : 'not the owner';
}

/** The owner node a 1013 refusal named (see {@link notOwnerReason}), or null. */
export function ownerOfRefusal(reason: string): string | null {
  return /^not the owner; owner=([A-Za-z0-9_-]{1,64})$/.exec(reason)?.[1] ?? null;
}
