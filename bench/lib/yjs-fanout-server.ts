/**
 * Child process of the Yjs fan-out bench: runs ONE server under test, away from the load
 * generator, and reports its port over IPC.
 *   hub   — the whole E-Cabinet server (auth at upgrade, SQLite persistence), fresh data dir.
 *   stock — y-websocket 2.1.0's classic server utilities (setupWSConnection) on a bare ws server.
 */
import fs from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { WebSocketServer } from 'ws';

const mode = process.argv[2];

// 'cpu' → { cpu: process.cpuUsage() }: the parent reports the server's CPU time per update.
process.on('message', (m) => {
  if (m === 'cpu') process.send!({ cpu: process.cpuUsage() });
});

if (mode === 'hub') {
  const { loadConfig } = await import('../../server/config.js');
  const { createLogger } = await import('../../server/log.js');
  const { startServer } = await import('../../server/server.js');
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ecabinet-bench-yjs-'));
  const config = loadConfig({ NODE_ENV: 'test', ECABINET_DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', ECABINET_DEMO_PASSWORD: process.env.BENCH_PASSWORD ?? 'ecabinet-demo' }, { loginLimits: { perAccount: 1000, perIp: 100_000 } });
  const running = await startServer(config, createLogger('silent'));
  process.send!({ port: running.port });
  process.on('disconnect', () => {
    running.close().finally(() => {
      fs.rmSync(dataDir, { recursive: true, force: true });
      process.exit(0);
    });
  });
} else if (mode === 'stock') {
  const require = createRequire(import.meta.url);
  const { setupWSConnection } = require('y-websocket-2/bin/utils') as { setupWSConnection: (conn: unknown, req: http.IncomingMessage, opts: { docName: string }) => void };
  const server = http.createServer((_req, res) => res.end('ok'));
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    const docName = decodeURIComponent((req.url ?? '').replace(/^\/yjs\//, '').split('?')[0]);
    wss.handleUpgrade(req, socket, head, (ws) => setupWSConnection(ws, req, { docName }));
  });
  server.listen(0, '127.0.0.1', () => process.send!({ port: (server.address() as { port: number }).port }));
  process.on('disconnect', () => process.exit(0));
} else {
  throw new Error('usage: yjs-fanout-server.ts hub|stock');
}
