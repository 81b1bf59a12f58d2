import type { AppContext, Running } from '../context.js';
import { BackupError, refuseOnPostgres, scheduledBackup } from './backup.js';

/**
 * Scheduled backups (ECABINET_BACKUP_DIR, ECABINET_BACKUP_INTERVAL_HOURS, ECABINET_BACKUP_KEEP):
 * every interval a new `ecabinet-<UTC time>` backup in the folder, then the oldest beyond `keep`
 * are removed. A failed run is logged and retried at the next interval; it never stops the server.
 * Runs in the server's process: SQLite's online backup copies pages between steps, so requests
 * keep being served (a large data folder's file copy is streamed). On PostgreSQL they are off (logged
 * at start): its database is backed up with pg_dump.
 */
export function scheduleBackups(ctx: AppContext): Running {
  const { config, log } = ctx;
  const { dir, intervalHours, keep } = config.backup;
  if (!dir || intervalHours <= 0) return { stop() {} };
  try {
    refuseOnPostgres(config.database);
  } catch (err) {
    // A configuration mistake, not a reason to stop serving: said loudly once, at start.
    log.error({ dir }, `scheduled backups are off: ${(err as BackupError).message}`);
    return { stop() {} };
  }
  let running: Promise<unknown> | null = null;
  const run = () => {
    if (running) return;
    running = scheduledBackup(config.dataDir, dir, keep)
      .then(
        (r) => log.info({ backup: r.dir, files: r.manifest.files.length, ms: r.ms }, 'scheduled backup written'),
        (err: Error) => log.error({ err: { message: err.message } }, 'scheduled backup failed'),
      )
      .finally(() => (running = null));
  };
  const timer = setInterval(run, intervalHours * 3600_000);
  timer.unref();
  log.info({ dir, intervalHours, keep }, 'scheduled backups on');
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
