/**
 * The only file that opens ports: reads the environment, starts E-Cabinet, prints where it runs.
 */
import { loadConfig } from './config.js';
import { createLogger } from './log.js';
import { startServer } from './server.js';

const config = loadConfig();
const log = createLogger(config.logLevel);
const running = await startServer(config, log);
log.info({ url: running.url }, 'E-Cabinet is running');
if (config.seed) {
  process.stdout.write(
    `\n  E-Cabinet: ${running.url}\n  Demo users: admin, secretary, chair, member1 … member12, guest, room1 (room station)\n  Demo password: ${config.demoPassword}\n\n`,
  );
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
