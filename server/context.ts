import type http from 'node:http';
import type { Config } from './config.js';
import type { Store } from './db/store.js';
import type { EventBus } from './events.js';
import type { Api } from './http/api.js';
import type { JobRunner } from './jobs/jobs.js';
import type { Logger } from './log.js';
import type { AppMetrics } from './metrics/metrics.js';
import type { Notifier } from './notifications/notifier.js';
import type { RealtimeHub } from './realtime/hub.js';
import type { Sfu } from './sfu/sfu.service.js';
import type { YjsHub } from './yjs/yjs.hub.js';
import type { ParsedDocName, YjsDocKind } from './yjs/yjs.registry.js';

/** Health of optional subsystems, reported by /healthz; the SFU sets its own entry. */
export interface Health {
  sfu: { status: 'ok' | 'disabled'; reason?: string };
}

/**
 * Per-app services that a module owns and other modules (or tests) call: the votes service, the annotation
 * layers… Each owner declares its entry by declaration merging in its own index.ts —
 * `declare module '../context.js' { interface DomainServices { votes?: VotesService } }` — so this file imports
 * no domain, and sets it in its `register`. Optional: an entry is absent until its owner registered.
 */
export interface DomainServices {}

/**
 * What every domain module receives, one per app (tests run several apps in one process, so nothing
 * of an app lives in module-level state): the database, config, logger, the REST registry, the
 * in-process event bus, and the app's shared services. Everything here is created by `createApp`
 * (server/app.ts) before any module registers, except the transports that need the HTTP server:
 * `realtime` is set by `startServer` before the modules start, `sfu` by the A/V module's start. An app
 * built without a server (createApp alone) keeps them null.
 *
 * The files this one imports (the services' classes) never import it back: they take the few fields
 * they need, so this file sits below every domain (test/unit/import-cycles.test.ts).
 */
export interface AppContext extends DomainServices {
  /** The database, dialect-neutral and async (server/db/store.ts): `store.q`, `store.tx`. */
  store: Store;
  config: Config;
  log: Logger;
  /** REST routes: `api.route(spec, handler)` (server/http/api.ts). */
  api: Api;
  /** In-app notifications, flushed (pushed) after each command or request settles. */
  notifier: Notifier;
  /** Committed domain facts, emitted after the transaction (server/events.ts). */
  bus: EventBus;
  health: Health;
  /** Durable jobs: domains register their kinds at registration; the jobs module starts the runner. */
  jobs: JobRunner;
  /** The Yjs document hub: kinds, hooks (`onChange`), server writes (`withDoc`). */
  yjs: YjsHub;
  /** Prometheus metrics of this app (`/metrics`). */
  metrics: AppMetrics;
  /** The Socket.IO hub, once the server started; null before (and in an app that never listens). */
  realtime: RealtimeHub | null;
  /** The SFU, once the A/V module started; null before. */
  sfu: Sfu | null;
}

/**
 * A domain's Socket.IO part: commands, snapshot parts, pushes, called once when the server's hub starts.
 * What it returns (if anything) runs when the server closes, after the hub and the HTTP server closed.
 */
export type SocketDomain = (hub: RealtimeHub, ctx: AppContext) => void | (() => void);

/** What a started module hands back; stopped in reverse module order when the server closes. */
export interface Running {
  stop(): Promise<void> | void;
}

/**
 * One domain (or subsystem) of the server: a folder under server/ whose `index.ts` exports one of these,
 * named in server/modules.ts. Every hook is optional and receives the app's context; a module keeps no
 * state of its own between hooks (several apps share one module object in tests): what `start` creates,
 * the `Running` it returns stops.
 *
 * Life of an app: `createApp` walks the list calling `yjsDocs` then `register` for each module (REST
 * routes, job kinds, Yjs hooks, bus listeners); `startServer` creates the Socket.IO hub (calling every
 * `socket`), attaches the Yjs upgrade, then `start`s the modules in order; `close` stops them in reverse,
 * then the Yjs hub, the Socket.IO hub and the HTTP server, then the `socket` teardowns, then the database.
 */
export interface ServerModule {
  readonly name: string;
  /** Yjs document kinds this module owns, registered with `ctx.yjs` (first kind whose `parse` accepts wins). */
  readonly yjsDocs?: readonly YjsDocKind<ParsedDocName>[];
  /** Called while the app is built: REST routes on `ctx.api`, job kinds on `ctx.jobs`, Yjs hooks, bus listeners. */
  register?(ctx: AppContext): void;
  /** Socket.IO commands and snapshot parts (see `SocketDomain`). */
  readonly socket?: SocketDomain;
  /** Called when the server starts, after the Socket.IO hub and the Yjs upgrade exist. */
  start?(ctx: AppContext, server: http.Server): Running | void | Promise<Running | void>;
}
