import crypto from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { prometheusContentType } from 'prom-client';
import type { AppContext } from '../context.js';
import { AppError } from '../http/errors.js';
import { readiness } from './readiness.js';

/**
 * Times every HTTP request into `ecabinet_http_request_duration_seconds` and counts it, labelled by the
 * matched route's pattern (`/api/meetings/:id`), never the raw URL: ids and query strings would make a
 * new time series per meeting. Requests no route matched are `static` (files of the web client) or
 * `unmatched` (404s), so a scanner probing random paths adds no series.
 */
export function httpMetrics(ctx: AppContext): RequestHandler {
  const m = ctx.metrics;
  return (req, res, next) => {
    const start = performance.now();
    let done = false;
    const record = () => {
      if (done) return;
      done = true;
      const route = req.route?.path ? `${req.baseUrl}${String(req.route.path)}` : res.statusCode === 404 ? 'unmatched' : 'static';
      const method = KNOWN_METHODS.has(req.method) ? req.method : 'OTHER';
      m.httpDuration.observe({ method, route }, (performance.now() - start) / 1000);
      m.httpRequests.inc({ method, route, status: `${Math.floor(res.statusCode / 100)}xx` });
    };
    res.once('finish', record);
    res.once('close', record);
    next();
  };
}

const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/**
 * Who may read /metrics. With `ECABINET_METRICS_TOKEN` set, every scrape must carry
 * `Authorization: Bearer <token>` (compared in constant time), else 401. Without a token only a direct
 * loopback client may (a Prometheus or node exporter on the same host), and a request carrying a
 * forwarding header is refused even from loopback: a reverse proxy on the same host would otherwise
 * hand the public a loopback address. Everyone else: 403.
 * @throws AppError unauthenticated (401) or forbidden (403)
 */
export function assertMayScrape(req: Request, token: string | null): void {
  if (token) {
    const given = /^Bearer (.+)$/.exec(req.get('authorization') ?? '')?.[1] ?? '';
    const a = crypto.createHash('sha256').update(given).digest();
    const b = crypto.createHash('sha256').update(token).digest();
    if (!given || !crypto.timingSafeEqual(a, b)) throw new AppError('unauthenticated', 'A bearer token is required for /metrics', 401);
    return;
  }
  const forwarded = req.get('x-forwarded-for') ?? req.get('forwarded') ?? req.get('x-real-ip');
  if (forwarded !== undefined || !isLoopback(req.socket.remoteAddress)) {
    throw new AppError('forbidden', '/metrics answers loopback clients only; set ECABINET_METRICS_TOKEN to scrape from elsewhere', 403);
  }
}

function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  return address === '::1' || /^(::ffff:)?127\./.test(address);
}

/** GET /metrics: Prometheus text format, this app's metrics and the process's. */
export function metricsHandler(ctx: AppContext): RequestHandler {
  const m = ctx.metrics;
  return async (req: Request, res: Response, next: NextFunction) => {
    try {
      try {
        assertMayScrape(req, ctx.config.metrics.token);
      } catch (err) {
        if (err instanceof AppError && err.status === 401) res.setHeader('www-authenticate', 'Bearer realm="metrics"');
        throw err;
      }
      const text = await m.text();
      res.setHeader('content-type', prometheusContentType);
      res.setHeader('cache-control', 'no-store');
      res.send(text);
    } catch (err) {
      next(err);
    }
  };
}

/**
 * GET /readyz: 200 `{ status: "ready", checks }` when the process should get traffic, else 503
 * `{ status: "not_ready", checks }` (database writable, free disk space, SFU as at start). Public, like
 * /healthz: load balancers call it; it names no figures, paths or versions.
 */
export function readyzHandler(ctx: AppContext): RequestHandler {
  const m = ctx.metrics;
  return (_req, res, next) => {
    readiness(ctx, m.sfuExpected, m.figures).then((r) => {
      res.setHeader('cache-control', 'no-store');
      res.status(r.ready ? 200 : 503).json({ status: r.ready ? 'ready' : 'not_ready', checks: r.checks });
    }, next);
  };
}
