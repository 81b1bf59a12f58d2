import fs from 'node:fs';
import path from 'node:path';
import type { AppContext } from '../context.js';
import { probeDatabase } from './metrics.repo.js';

/** How long readiness waits for its database probe (behind other transactions) before calling the database not writable. */
const PROBE_LIMIT_MS = 5_000;

/** One check of `/readyz`: ok or not, and why not in a short sentence (no figures, no paths). */
export interface ReadyCheck {
  ok: boolean;
  reason?: string;
}

export interface Readiness {
  ready: boolean;
  checks: { db: ReadyCheck; disk: ReadyCheck; sfu: ReadyCheck & { status: 'ok' | 'disabled' } };
}

/** What the readiness checks measured last (also exported as gauges by the metrics module, metrics.attachment.ts). */
export interface ReadyFigures {
  freeBytes: number | null;
  dbProbeSeconds: number | null;
}

/**
 * Whether this process should get traffic: the database takes a write lock now (a writable
 * connection, no writer stuck holding it) and its folder and files are writable; the data folder's
 * disk has at least `config.ready.minFreeBytes` free; and the SFU, when it was running at start, still
 * is (A/V that was never configured does not make the server unready: everything else runs without it).
 * Cheap: the database probe (a write lock taken and released, server/metrics/metrics.repo.ts), a few
 * stat calls. On SQLite the probe waits its turn behind a transaction open on the store (on PostgreSQL it
 * does not: metrics.repo.ts); one answering later than `PROBE_LIMIT_MS` counts as not writable (/readyz never
 * hangs on a stuck writer).
 */
export async function readiness(ctx: AppContext, sfuExpected: boolean, figures: ReadyFigures = { freeBytes: null, dbProbeSeconds: null }): Promise<Readiness> {
  const { store, config } = ctx;
  const dbCheck: ReadyCheck = { ok: true };
  const start = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    fs.accessSync(config.dataDir, fs.constants.W_OK);
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(Object.assign(new Error('database probe timed out'), { code: 'timeout' })), PROBE_LIMIT_MS);
    });
    const probe = probeDatabase(store);
    probe.catch(() => undefined); // a probe that fails after the limit has nothing left to report
    await Promise.race([probe, late]);
  } catch (err) {
    dbCheck.ok = false;
    dbCheck.reason = `database not writable (${(err as { code?: string }).code ?? 'error'})`;
  } finally {
    clearTimeout(timer);
  }
  figures.dbProbeSeconds = (performance.now() - start) / 1000;

  const disk: ReadyCheck = { ok: true };
  try {
    const s = fs.statfsSync(path.resolve(config.dataDir));
    figures.freeBytes = Number(s.bavail) * Number(s.bsize);
    if (figures.freeBytes < config.ready.minFreeBytes) {
      disk.ok = false;
      disk.reason = 'too little free space on the data folder’s disk (ECABINET_READY_MIN_FREE_MB)';
    }
  } catch (err) {
    disk.ok = false;
    disk.reason = `cannot read the data folder’s disk (${(err as { code?: string }).code ?? 'error'})`;
  }

  const status = ctx.health.sfu.status;
  const sfu = { status, ok: !sfuExpected || status === 'ok', ...(sfuExpected && status !== 'ok' ? { reason: 'A/V stopped working since start' } : {}) };
  return { ready: dbCheck.ok && disk.ok && sfu.ok, checks: { db: dbCheck, disk, sfu } };
}
