import type { ServerModule } from '../context.js';
import { scheduleBackups } from './backup.attachment.js';

/** Scheduled backups (ECABINET_BACKUP_DIR …). */
export const backupModule: ServerModule = { name: 'backup', start: scheduleBackups };
