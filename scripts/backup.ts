/**
 * npm run backup -- <new folder>
 * A consistent backup of the data folder (ECABINET_DATA_DIR) while the server runs: the database
 * through SQLite's online backup, the stored files, and manifest.json with their checksums.
 */
import { BackupError, createBackup, refuseOnPostgres } from '../server/backup/backup.js';
import { loadConfig } from '../server/config.js';

const dest = process.argv[2];
if (!dest || dest.startsWith('-')) {
  console.error('usage: npm run backup -- <new backup folder>   (reads ECABINET_DATA_DIR, default ./data)');
  process.exit(2);
}
const config = loadConfig();
try {
  refuseOnPostgres(config.database);
  const r = await createBackup(config.dataDir, dest);
  const bytes = r.manifest.files.reduce((n, f) => n + f.size, 0);
  console.log(`backup of ${config.dataDir} written to ${r.dir}: ${r.manifest.files.length} files, ${(bytes / 1048576).toFixed(1)} MB, ${r.ms} ms`);
} catch (err) {
  console.error(`backup failed: ${err instanceof BackupError ? err.message : (err as Error).stack}`);
  process.exit(1);
}
