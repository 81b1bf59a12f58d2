import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import express, { type NextFunction, type Request, type Response } from 'express';
import { pinoHttp } from 'pino-http';
import { type SessionRestriction, authenticateSession } from './auth/sessions.js';
import type { Config } from './config.js';
import type { AppContext, Health } from './context.js';
import type { Db } from './db/client.js';
import type { Store } from './db/store.js';
import { EventBus } from './events.js';
import { Api } from './http/api.js';
import { AppError, errorFunnel } from './http/errors.js';
import { buildOpenApi } from './http/openapi.js';
import { noStore, originCheck, securityHeaders } from './http/security.js';
import { JobRunner } from './jobs/jobs.js';
import type { Logger } from './log.js';
import { AppMetrics } from './metrics/metrics.js';
import { httpMetrics, metricsHandler, readyzHandler } from './metrics/metrics.routes.js';
import { MODULES } from './modules.js';
import { Notifier } from './notifications/notifier.js';
import { deviceGuard } from './offline/offline.routes.js';
import { compileTrustProxy } from './http/trust-proxy.js';
import { YjsHub } from './yjs/yjs.hub.js';

export const VERSION = '0.1.0';

export type { Health };

export interface App {
  express: express.Express;
  ctx: AppContext;
}

/** The routes a restricted session may use (server/auth/sessions.ts `SessionRestriction`). */
const ACCOUNT_ROUTES: Record<'common' | SessionRestriction, Set<string>> = {
  common: new Set(['GET /api/auth/me', 'PATCH /api/auth/me', 'POST /api/auth/logout', 'POST /api/auth/login']),
  password_change_required: new Set(['POST /api/auth/password']),
  mfa_required: new Set(['POST /api/auth/mfa']),
  mfa_enrolment_required: new Set(['POST /api/auth/mfa/enrol', 'POST /api/auth/mfa/confirm', 'POST /api/auth/password']),
};
const restrictionMessage: Record<SessionRestriction, string> = {
  password_change_required: 'Your password was reset: choose a new one first',
  mfa_required: 'Give the code from your authenticator app first',
  mfa_enrolment_required: 'Your role requires a second factor: enrol one first',
};

/**
 * Assembles the express app on `store`. Never listens (see server.ts / main.ts): tests build apps on port 0.
 * `sqlite` is the connection under a SQLite store (the Yjs store opens its own connection to that file);
 * null on PostgreSQL.
 */
export function createApp({ sqlite, store, config, log }: { sqlite: Db | null; store: Store; config: Config; log: Logger }): App {
  const notifier = new Notifier();
  const bus = new EventBus();
  const api = new Api({ settled: () => notifier.flush(), drain: () => bus.idle(), checkResponses: config.env !== 'production' });
  const ctx: AppContext = {
    store,
    config,
    log,
    api,
    notifier,
    bus,
    health: { sfu: { status: 'disabled', reason: 'not started' } },
    jobs: new JobRunner(store, log.child({ module: 'jobs' }), { afterCommit: () => notifier.flush(), leaseMs: config.jobs.leaseMs, nodeId: config.cluster.nodeId }),
    yjs: new YjsHub({ db: sqlite ?? undefined, store, config, log, bus }),
    metrics: new AppMetrics(),
    realtime: null,
    sfu: null,
  };
  // Every module registers, in the order of server/modules.ts: its Yjs kinds, then routes, job kinds, hooks.
  for (const m of MODULES) {
    for (const kind of m.yjsDocs ?? []) ctx.yjs.registerKind(kind);
    m.register?.(ctx);
  }

  const app = express();
  app.disable('x-powered-by');
  // The same rule for HTTP (req.ip: the login limiter, sessions' address) as for the upgrades (clientAddress).
  app.set('trust proxy', compileTrustProxy(config.trustProxy));
  app.set('query parser', 'simple');
  app.use(
    pinoHttp({
      logger: log,
      genReqId: (req, res) => {
        const id = crypto.randomUUID();
        res.setHeader('x-request-id', id);
        return id;
      },
      customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'info' : 'debug'),
      serializers: { req: (r: { id: string; method: string; url: string }) => ({ id: r.id, method: r.method, url: r.url.split('?')[0] }) },
    }),
  );
  app.use(httpMetrics(ctx));
  app.use(securityHeaders(config));

  app.get('/healthz', async (_req, res) => {
    let dbOk = 'ok';
    try {
      await store.ping();
    } catch {
      dbOk = 'error';
    }
    res.status(dbOk === 'ok' ? 200 : 503).json({ status: dbOk === 'ok' ? 'ok' : 'error', db: dbOk, sfu: ctx.health.sfu.status, sfuReason: ctx.health.sfu.reason, version: VERSION });
  });

  // Readiness (database writable, disk space, SFU) and Prometheus metrics (loopback or bearer token only).
  app.get('/readyz', readyzHandler(ctx));
  app.get('/metrics', metricsHandler(ctx));

  const openapi = buildOpenApi(api, VERSION);
  app.get('/api/openapi.json', (_req, res) => {
    res.json(openapi);
  });

  app.use('/api', noStore());
  // Express 5 passes a rejection of an async middleware to next(err).
  app.use('/api', async (req: Request, _res: Response, next: NextFunction) => {
    const auth = await authenticateSession(store, req.get('cookie'), config.mfaRequiredRoles);
    if (auth) {
      req.user = auth.user;
      req.sessionTokenHash = auth.tokenHash;
      // A session that still owes a password change or a second factor reaches only the account routes.
      if (auth.restriction) {
        req.sessionRestriction = auth.restriction;
        const route = `${req.method} ${req.baseUrl}${req.path}`;
        if (!ACCOUNT_ROUTES.common.has(route) && !ACCOUNT_ROUTES[auth.restriction].has(route)) {
          return next(new AppError(auth.restriction, restrictionMessage[auth.restriction], 403));
        }
      }
    }
    next();
  });
  app.use('/api', deviceGuard(ctx));
  app.use('/api', originCheck(config));
  app.use('/api', express.json({ limit: config.jsonBodyLimit, type: ['application/json', 'application/*+json'] }));
  app.use(api.router);
  app.use('/api', (_req, _res, next) => next(new AppError('not_found', 'No such API route', 404)));

  // The built web client (npm run build); index.html for client-side routes.
  if (fs.existsSync(path.join(config.clientDir, 'index.html'))) {
    app.use('/assets', express.static(path.join(config.clientDir, 'assets'), { immutable: true, maxAge: '1y', fallthrough: false }));
    app.use(
      express.static(config.clientDir, {
        index: false,
        maxAge: '1h',
        // The service worker and the web app manifest must be revalidated, or tablets keep an old app.
        setHeaders: (res, file) => {
          if (/(?:^|[\\/])(?:sw\.js|manifest\.webmanifest)$/.test(file)) res.setHeader('cache-control', 'no-cache');
        },
      }),
    );
    app.get('/{*path}', (_req, res) => {
      res.setHeader('cache-control', 'no-cache');
      res.sendFile(path.join(config.clientDir, 'index.html'));
    });
  }

  app.use(errorFunnel(log));
  return { express: app, ctx };
}
