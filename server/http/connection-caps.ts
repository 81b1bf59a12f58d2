import type http from 'node:http';
import type net from 'node:net';
import { TRUST_PROXY_DEFAULT, compileTrustProxy } from './trust-proxy.js';

export { clientAddress } from './trust-proxy.js';

/**
 * Limits on long-lived connections, so one user or one address cannot exhaust file descriptors,
 * memory or the event loop (a runaway tab, a script opening 500 sockets). Tests may change them
 * before the server starts. Refusals: Socket.IO `connect_error` `rate_limited`; Yjs upgrade HTTP 503;
 * raw TCP connections beyond `tcpPerAddress` are closed at once.
 */
export const connectionLimits = {
  /** Open TCP connections per remote address (HTTP keep-alive, WebSockets, half-sent requests). 0 = no cap (behind a proxy that limits). */
  tcpPerAddress: 512,
  /** Socket.IO connections per user (every tablet, laptop and tab of one person). */
  socketsPerUser: 20,
  /** Socket.IO connections per client address. */
  socketsPerAddress: 256,
  /** Yjs connections per user (one per open document: notes, annotation layers, minutes). */
  yjsPerUser: 64,
  /** Yjs connections per client address. */
  yjsPerAddress: 512,
  /**
   * Per-address caps do not apply to loopback peers without X-Forwarded-For: a reverse proxy on the same
   * machine (it limits per client itself), benchmarks and local tools; nor does the TCP cap to the proxies
   * of ECABINET_TRUST_PROXY. Tests of the caps turn it off.
   */
  exemptLoopback: true,
};

const LOOPBACK = /^(?:127\.|::1$|::ffff:127\.)/;

/** A held slot; `release()` is idempotent. */
export interface Lease {
  release(): void;
}

/** Counts concurrent connections per user and per address under two caps. */
export class ConnectionCaps {
  private readonly perUser = new Map<number, number>();
  private readonly perAddress = new Map<string, number>();

  constructor(private readonly caps: () => { perUser: number; perAddress: number }) {}

  /** Takes a slot for `userId` from `address`, or returns null when either cap is reached. */
  acquire(userId: number, address: string): Lease | null {
    const { perUser, perAddress } = this.caps();
    const addressCapped = !(connectionLimits.exemptLoopback && LOOPBACK.test(address));
    if ((this.perUser.get(userId) ?? 0) >= perUser || (addressCapped && (this.perAddress.get(address) ?? 0) >= perAddress)) return null;
    bump(this.perUser, userId, 1);
    bump(this.perAddress, address, 1);
    let held = true;
    return {
      release: () => {
        if (!held) return;
        held = false;
        bump(this.perUser, userId, -1);
        bump(this.perAddress, address, -1);
      },
    };
  }
}

function bump<K>(m: Map<K, number>, k: K, d: number) {
  const n = (m.get(k) ?? 0) + d;
  if (n <= 0) m.delete(k);
  else m.set(k, n);
}

/**
 * Caps open TCP connections per remote address on an HTTP server: beyond `tcpPerAddress` a new
 * connection is destroyed before any byte is read. Together with the server's header and request
 * timeouts this bounds what slow clients holding half-sent requests can take.
 */
export function capTcpConnections(server: http.Server, trustProxy: string = TRUST_PROXY_DEFAULT): void {
  const open = new Map<string, number>();
  const trusted = compileTrustProxy(trustProxy);
  server.on('connection', (socket: net.Socket) => {
    const cap = connectionLimits.tcpPerAddress;
    const addr = socket.remoteAddress ?? 'unknown';
    const n = open.get(addr) ?? 0;
    // A trusted proxy carries every client's connections: it is the one that limits per client.
    if (cap > 0 && n >= cap && !(connectionLimits.exemptLoopback && (LOOPBACK.test(addr) || trusted(addr, 0)))) {
      socket.destroy();
      return;
    }
    open.set(addr, n + 1);
    socket.once('close', () => bump(open, addr, -1));
  });
}
