/**
 * npm run restore -- <backup folder> [--verify-only]
 * Verifies every checksum of the backup, then restores it into the data folder (ECABINET_DATA_DIR),
 * which must be empty or absent. Stop the server first and start it on the restored folder after.
 */
import { BackupError, refuseOnPostgres, restoreBackup, verifyBackup } from '../server/backup/backup.js';
import { loadConfig } from '../server/config.js';

const from = process.argv[2];
if (!from || from.startsWith('-')) {
  console.error('usage: npm run restore -- <backup folder> [--verify-only]   (into ECABINET_DATA_DIR, default ./data, which must be empty)');
  process.exit(2);
}
const config = loadConfig();
try {
  if (process.argv.includes('--verify-only')) {
    const m = await verifyBackup(from);
    console.log(`${from}: a complete E-Cabinet backup of ${m.createdAt}, ${m.files.length} files, every checksum matches`);
  } else {
    refuseOnPostgres(config.database);
    const m = await restoreBackup(from, config.dataDir);
    console.log(`restored the backup of ${m.createdAt} (${m.files.length} files, checksums verified) into ${config.dataDir}`);
  }
} catch (err) {
  console.error(`restore refused: ${err instanceof BackupError ? err.message : (err as Error).stack}`);
  process.exit(1);
}
