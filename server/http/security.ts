import type { NextFunction, Request, Response } from 'express';
import helmet from 'helmet';
import type { Config } from '../config.js';
import { AppError } from './errors.js';

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The origin this request was addressed to, as a browser on the same site would send it. */
export function expectedOrigin(req: { protocol: string; get(name: string): string | undefined }): string {
  return `${req.protocol}://${req.get('host')}`;
}

/**
 * True when a browser `Origin` header is acceptable for this host: the same origin, or one of the
 * configured extra origins. Used for REST writes, the Socket.IO handshake and the Yjs upgrade.
 */
export function originAllowed(origin: string, host: string | undefined, config: Config): boolean {
  if (config.allowedOrigins.includes(origin)) return true;
  try {
    return !!host && new URL(origin).host === host;
  } catch {
    return false;
  }
}

/**
 * CSRF defence for cookie-authenticated writes: a strict Origin check. Browsers always send
 * `Origin` on cross-site and same-site POST/PATCH/DELETE; a write whose Origin (or, failing that,
 * Referer) is not ours is refused with 403 `csrf`. SameSite=strict cookies are the second layer.
 */
export function originCheck(config: Config) {
  return (req: Request, _res: Response, next: NextFunction) => {
    if (SAFE.has(req.method)) return next();
    let origin = req.get('origin');
    if (!origin) {
      const referer = req.get('referer');
      try {
        origin = referer ? new URL(referer).origin : undefined;
      } catch {
        origin = undefined;
      }
    }
    if (!origin || !originAllowed(origin, req.get('host'), config)) {
      return next(new AppError('csrf', 'Cross-site request refused (missing or foreign Origin)', 403));
    }
    next();
  };
}

/** A Host header that can be put in a CSP source expression as is (no spaces, quotes or `;`). */
const SAFE_HOST = /^(?:[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$/;

/**
 * The WebSocket origins of this app for CSP `connect-src`: `ws://` and `wss://` of the host the request
 * was addressed to (Socket.IO and Yjs live on the same origin), and of the configured extra origins.
 * Never a bare `ws:` / `wss:` (which would allow connections to any host). `'self'` alone is not enough:
 * older Safari versions do not match WebSocket URLs against it.
 */
export function wsSources(host: string | undefined, config: Config): string[] {
  const out = new Set<string>();
  if (host && SAFE_HOST.test(host)) for (const scheme of ['ws', 'wss']) out.add(`${scheme}://${host}`);
  for (const origin of config.allowedOrigins) {
    try {
      const u = new URL(origin);
      if (SAFE_HOST.test(u.host)) for (const scheme of ['ws', 'wss']) out.add(`${scheme}://${u.host}`);
    } catch {
      /* not a URL: ignored (config validation reports it elsewhere) */
    }
  }
  return [...out];
}

/**
 * `Cache-Control: no-store` on every API response (authenticated data, document bytes, errors): nothing
 * private may stay in a shared or browser HTTP cache after a logout. Routes may only make it stricter.
 * The offline app keeps what it needs in its own store, not in the HTTP cache.
 */
export function noStore() {
  return (_req: Request, res: Response, next: NextFunction) => {
    res.setHeader('cache-control', 'no-store');
    next();
  };
}

/**
 * Security headers. The CSP allows only what the client needs: our own scripts, workers (pdf.js,
 * also from blob:), styles (Lit adopts stylesheets; inline style attributes for layout), images
 * and fonts from self/data/blob, and connections to our own origin only (REST, Socket.IO, Yjs:
 * `'self'` plus this origin's `ws://` / `wss://`).
 */
export function securityHeaders(config: Config) {
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        workerSrc: ["'self'", 'blob:'],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:', 'blob:'],
        fontSrc: ["'self'", 'data:'],
        connectSrc: ["'self'", (req) => wsSources((req as { headers: { host?: string } }).headers.host, config).join(' ')],
        mediaSrc: ["'self'", 'blob:'],
        objectSrc: ["'none'"],
        frameAncestors: ["'none'"],
        baseUri: ["'self'"],
        formAction: ["'self'"],
      },
    },
    strictTransportSecurity: config.env === 'production',
    crossOriginEmbedderPolicy: false,
  });
}
