/**
 * The only file that opens ports: reads the environment, starts E-Cabinet, prints where it runs.
 */
import { loadConfig } from './config.js';
import { createLogger } from './log.js';
import { startServer } from './server.js';

const config = loadConfig();
const log = createLogger(config.logLevel);
const running = await startServer(config, log);
log.info({ url: running.url, dataDir: config.dataDir, database: config.database.url ? 'postgres' : 'sqlite' }, 'E-Cabinet is running');
// What a newcomer needs after `npm start`: where it runs, where the data is, how to sign in, what is off.
const sfu = running.app.ctx.health.sfu;
process.stdout.write(
  [
    '',
    `  E-Cabinet: ${running.url}`,
    config.database.url
      ? `  Data:      PostgreSQL ${redactedUrl(config.database.url)}; uploaded files in ${config.dataDir}/files/ (back up both: docs/DEPLOY.md)`
      : `  Data:      ${config.dataDir} (database ecabinet.sqlite, uploaded files in files/; back it up with npm run backup)`,
    ...(config.seed === 'demo' ? ['  Demo users: admin, secretary, chair, member1 … member12, guest, room1 (room station)', `  Demo password: ${config.demoPassword}`] : []),
    `  Audio/video: ${sfu.status === 'ok' ? 'on' : `off — ${sfu.reason ?? 'disabled'} (everything else runs)`}`,
    '',
    '',
  ].join('\n'),
);

/** A database URL without its password, for printing. */
function redactedUrl(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString();
}

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    running.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}
