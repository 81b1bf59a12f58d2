import fs from 'node:fs';
import path from 'node:path';
import type { AppContext } from '../context.js';

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
 * Synchronous and cheap: a BEGIN IMMEDIATE/ROLLBACK, a few stat calls.
 */
export function readiness(ctx: AppContext, sfuExpected: boolean, figures: ReadyFigures = { freeBytes: null, dbProbeSeconds: null }): Readiness {
  const { db, config } = ctx;
  const dbCheck: ReadyCheck = { ok: true };
  const start = performance.now();
  try {
    fs.accessSync(config.dataDir, fs.constants.W_OK);
    const file = db.$client.name;
    if (file && file !== ':memory:') {
      fs.accessSync(file, fs.constants.W_OK);
      if (fs.existsSync(`${file}-wal`)) fs.accessSync(`${file}-wal`, fs.constants.W_OK);
    }
    // Every transaction of this process is synchronous, so none is open while this handler runs.
    db.$client.prepare('BEGIN IMMEDIATE').run();
    db.$client.prepare('ROLLBACK').run();
  } catch (err) {
    dbCheck.ok = false;
    dbCheck.reason = `database not writable (${(err as { code?: string }).code ?? 'error'})`;
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
