import type http from 'node:http';
import proxyAddr from 'proxy-addr';

/** Whether the peer `addr`, `hop` steps from this server (0 = the socket's peer), is a proxy whose X-Forwarded-For is believed. */
export type TrustProxy = (addr: string, hop: number) => boolean;

/** What `ECABINET_TRUST_PROXY` accepts; the default keeps what one process did before #18: a proxy on the same host. */
export const TRUST_PROXY_DEFAULT = 'loopback';

const compiled = new Map<string, TrustProxy>();

/**
 * `ECABINET_TRUST_PROXY` as express's `trust proxy` reads it (proxy-addr): `off` (the socket's peer is the
 * client), a hop count (`1`: the peer is a proxy, the address it forwarded is the client's), or a list of
 * addresses, CIDRs and the names `loopback`, `linklocal`, `uniquelocal` (the peers that are proxies).
 * `true`/`all` are refused: trusting every peer lets any client choose the address it is limited by.
 * @throws Error on a value proxy-addr does not understand (the server refuses to start).
 */
export function compileTrustProxy(setting: string): TrustProxy {
  const key = setting.trim();
  const hit = compiled.get(key);
  if (hit) return hit;
  let trust: TrustProxy;
  if (key === '' || key === 'off' || key === 'false' || key === '0') trust = () => false;
  else if (/^\d+$/.test(key)) {
    const hops = Number(key);
    trust = (_addr, hop) => hop < hops;
  } else if (key === 'true' || key === 'all') throw new Error('ECABINET_TRUST_PROXY: trusting every peer lets any client pick its address; give the proxies\' addresses or a hop count');
  else trust = proxyAddr.compile(key.split(',').map((s) => s.trim()).filter(Boolean));
  compiled.set(key, trust);
  return trust;
}

/**
 * The client's address: the socket's peer, or — walking X-Forwarded-For from the right while each hop is
 * a trusted proxy — the first address no trusted proxy vouches for. The same answer as express's `req.ip`
 * with the same setting, for the upgrade requests express never sees (Socket.IO, Yjs).
 */
export function clientAddress(req: http.IncomingMessage, setting: string = TRUST_PROXY_DEFAULT): string {
  const addr = proxyAddr(req, compileTrustProxy(setting));
  return addr && addr.length <= 64 ? addr : (req.socket.remoteAddress ?? 'unknown');
}
