import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { type App, createApp } from './app.js';
import type { Config } from './config.js';
import type { Db } from './db/client.js';
import { noSqliteDb, openDatabase } from './db/open.js';
import type { Store } from './db/store.js';
import { type Logger, createLogger } from './log.js';
import type { Running } from './context.js';
import { capTcpConnections } from './http/connection-caps.js';
import { announceNode } from './http/node-identity.js';
import { MODULES } from './modules.js';
import { createHub } from './realtime/hub.js';
import { seedDemo } from './seed/seed.js';
import { attachYjs } from './yjs/yjs.attachment.js';

/** HTTP server timeouts (ms); tests may shorten them before starting a server. */
export const serverTimeouts = { headersMs: 15_000, requestMs: 300_000, keepAliveMs: 5_000 };

export interface RunningServer {
  app: App;
  http: http.Server;
  /** The SQLite connection (tests inspecting the file); on PostgreSQL a stand-in that throws on use. */
  db: Db;
  store: Store;
  url: string;
  port: number;
  close(): Promise<void>;
}

/**
 * Opens the database (migrating it), seeds demo data when allowed and the database is empty,
 * builds the app, attaches realtime subsystems and listens. `port: 0` picks a free port (tests).
 */
export async function startServer(config: Config, log: Logger = createLogger(config.logLevel)): Promise<RunningServer> {
  const database = await openDatabase(config, log);
  const { store } = database;
  let app: App;
  try {
    if (config.seed !== 'none') await seedDemo(store, config, log, config.seed);
    app = createApp({ sqlite: database.sqlite, store, config, log });
  } catch (err) {
    await database.close();
    throw err;
  }
  // Timeouts are enforced by a periodic sweep (Node's default: every 30 s); every 2 s keeps them close to their values.
  const server = http.createServer({ connectionsCheckingInterval: 2_000 }, app.express);
  // Slow clients: the headers must arrive within 15 s and the whole request (body included: a 100 MB
  // upload on slow Wi-Fi) within 5 min, else the connection is closed; idle keep-alive connections
  // after 5 s. Downloads are not limited by these (they bound receiving the request only).
  server.headersTimeout = serverTimeouts.headersMs;
  server.requestTimeout = serverTimeouts.requestMs;
  server.keepAliveTimeout = serverTimeouts.keepAliveMs;
  capTcpConnections(server, config.trustProxy);
  // The transports on the HTTP server: the Socket.IO hub (every module's `socket` part, in order) and
  // the Yjs upgrade. Then the modules start, in order; `close` undoes all of it in reverse.
  const { ctx } = app;
  const socketTeardowns: (() => void)[] = [];
  const realtime = createHub(ctx, server, MODULES.filter((m) => m.socket).map((m) => (hub) => {
    const teardown = m.socket!(hub, ctx);
    if (teardown) socketTeardowns.push(teardown);
  }));
  ctx.realtime = realtime;
  if (config.cluster.nodeId) announceNode(server, realtime.io, config.cluster.nodeId);
  const yjs = attachYjs(ctx, server);
  const started: Running[] = [];
  for (const m of MODULES) {
    const running = await m.start?.(ctx, server);
    if (running) started.push(running);
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // A 1,000-tablet assembly reconnects at once after a Wi-Fi blip: a deep accept queue (the kernel caps
    // it at somaxconn) instead of Node's 511, so bursts are queued rather than SYNs dropped and retried 1 s later.
    server.listen({ port: config.port, host: config.host, backlog: 4096 }, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const host = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
  let closed: Promise<void> | null = null;
  return {
    app,
    http: server,
    db: database.sqlite ?? noSqliteDb(),
    store,
    port,
    url: `http://${host}:${port}`,
    close() {
      closed ??= (async () => {
        for (const running of started.reverse()) await running.stop();
        await yjs.close();
        await realtime.close();
        server.closeAllConnections();
        await new Promise<void>((r) => server.close(() => r()));
        // What the Socket.IO parts tied to the server's life (vote timers, the last ballot batch, listeners).
        for (const teardown of socketTeardowns) teardown();
        await database.close();
      })();
      return closed;
    },
  };
}
