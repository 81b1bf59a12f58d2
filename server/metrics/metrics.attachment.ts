import { Counter, Gauge } from 'prom-client';
import { isErrorCode } from '../../shared/protocol/errors.js';
import { COMMANDS, PUSHES } from '../../shared/protocol/socket-events.js';
import { pdfPool } from '../documents/pdf.pool.js';
import type { AppContext, Running } from '../context.js';
import { meetingClientsTopN } from './metrics.js';
import { databaseFile, databaseSizes, dueJobCount, jobCounts, observeDatabase, openVoteCount } from './metrics.repo.js';
import { readiness } from './readiness.js';

const COMMAND_NAMES = new Set(Object.keys(COMMANDS));
const PUSH_NAMES = new Set(Object.keys(PUSHES));

/**
 * Wires the running subsystems into the app's metrics: socket connections, commands (latency and result,
 * measured from arrival to acknowledgement by wrapping the ack in a Socket.IO middleware, so the hub's
 * own code is untouched) and pushes; clients per meeting; Yjs connections; votes open; the durable job
 * queue and its outcomes; the heavy-work queue; the SFU's workers, CPU, producers and consumers; SQLite
 * transaction and WAL fsync timings, database size, free disk space and readiness. Comes after the SFU
 * in server/modules.ts (it reads what the others set up).
 */
export async function wireMetrics(ctx: AppContext): Promise<Running> {
  const { store } = ctx;
  const m = ctx.metrics;
  m.sfuExpected = ctx.health.sfu.status === 'ok';

  await observeDatabase(store, {
    transaction: (s) => m.dbTransactions.observe(s),
    walSync: (s) => m.walSyncs.observe(s),
  });
  const runner = ctx.jobs;
  runner.setOptions({ onOutcome: (job, outcome) => m.jobRuns.inc({ kind: job.kind, outcome }) });

  const hub = ctx.realtime;
  if (hub) {
    hub.io.on('connection', (socket) => {
      m.socketConnections.inc();
      socket.once('disconnect', () => m.socketDisconnections.inc());
      socket.onAnyOutgoing((event: string) => m.socketPushes.inc({ event: PUSH_NAMES.has(event) ? event : 'other' }));
      socket.use((packet, next) => {
        const event = COMMAND_NAMES.has(String(packet[0])) ? String(packet[0]) : 'unknown';
        const last = packet.length - 1;
        const ack = packet[last];
        if (last > 0 && typeof ack === 'function') {
          const start = performance.now();
          packet[last] = (answer: unknown) => {
            m.socketCommandDuration.observe({ event }, (performance.now() - start) / 1000);
            const code = (answer as { ok?: boolean; error?: { code?: unknown } } | null)?.error?.code;
            const ok = (answer as { ok?: boolean } | null)?.ok === true;
            m.socketCommands.inc({ event, result: ok ? 'ok' : isErrorCode(code) ? code : 'internal' });
            (ack as (a: unknown) => void)(answer);
          };
        }
        next();
      });
    });
  }

  m.gauge('ecabinet_socket_clients', 'Socket.IO connections open now.', [], () => [{ value: hub?.io.sockets.sockets.size ?? 0 }]);
  m.gauge('ecabinet_meeting_clients', `Sockets joined to each meeting's room now: the ${meetingClientsTopN} busiest meetings by id, the rest summed as "other".`, ['meeting'], () => {
    const sizes: [string, number][] = [];
    for (const [name, members] of hub?.io.sockets.adapter.rooms ?? []) if (name.startsWith('meeting:')) sizes.push([name.slice(8), members.size]);
    sizes.sort((a, b) => b[1] - a[1]);
    const rows = sizes.slice(0, meetingClientsTopN).map(([meeting, value]) => ({ labels: { meeting }, value }));
    const rest = sizes.slice(meetingClientsTopN).reduce((n, [, v]) => n + v, 0);
    return [...rows, { labels: { meeting: 'other' }, value: rest }];
  });
  m.gauge('ecabinet_yjs_connections', 'Collaborative-document (y-websocket) connections open now.', [], () => [{ value: ctx.yjs.stats().connections }]);
  m.gauge('ecabinet_votes_open', 'Votes open now.', [], async () => [{ value: await openVoteCount(store) }]);
  m.gauge('ecabinet_jobs', 'Durable jobs by status (pending = scheduled, claimed = running, failed = gave up).', ['status'], async () => {
    const n = await jobCounts(store);
    return ['pending', 'claimed', 'failed'].map((status) => ({ labels: { status }, value: n.get(status) ?? 0 }));
  });
  m.gauge('ecabinet_jobs_due', 'Durable jobs due now and not yet claimed (the queue depth).', [], async () => [{ value: await dueJobCount(store, new Date().toISOString()) }]);
  m.gauge('ecabinet_heavy_queue', 'Heavy requests (PDF renders, exports) running and waiting for a slot.', ['state'], () => {
    const h = ctx.api.heavyStats();
    return [
      { labels: { state: 'running' }, value: h.running },
      { labels: { state: 'waiting' }, value: h.waiting },
    ];
  });
  m.gauge('ecabinet_pdf_pool', 'The PDF worker pool (inspection, watermarks, annotated copies, every generated PDF): workers started, tasks running and waiting.', ['state'], () => {
    const p = pdfPool(ctx.config).stats();
    return [
      { labels: { state: 'workers' }, value: p.workers },
      { labels: { state: 'running' }, value: p.running },
      { labels: { state: 'waiting' }, value: p.waiting },
    ];
  });

  const sfu = ctx.sfu;
  m.gauge('ecabinet_sfu_workers', 'mediasoup workers alive.', [], () => [{ value: sfu?.workers().length ?? 0 }]);
  m.gauge('ecabinet_sfu_routers', 'mediasoup routers (meetings with A/V).', [], () => [{ value: sfu?.stats().rooms.length ?? 0 }]);
  m.gauge('ecabinet_sfu_producers', 'Media producers (microphones, cameras) in every meeting.', [], () => [{ value: (sfu?.stats().rooms ?? []).reduce((n, r) => n + r.producers, 0) }]);
  m.gauge('ecabinet_sfu_consumers', 'Media consumers (streams received) in every meeting.', [], () => [{ value: (sfu?.stats().rooms ?? []).reduce((n, r) => n + r.consumers, 0) }]);
  new Counter({
    name: 'ecabinet_sfu_worker_cpu_seconds_total',
    help: 'CPU time (user + system) used by each mediasoup worker process, by pid.',
    labelNames: ['pid'],
    registers: [m.registry],
    async collect() {
      this.reset();
      for (const w of sfu?.workers() ?? []) {
        try {
          const u = await w.getResourceUsage();
          this.inc({ pid: String(w.pid) }, (u.ru_utime + u.ru_stime) / 1000);
        } catch {
          // A worker that died between the list and the question: it has no more CPU to report.
        }
      }
    },
  });

  const dbFile = await databaseFile(store);
  m.gauge('ecabinet_db_size_bytes', 'Size of the database: on SQLite its file (db) and its WAL (wal); on PostgreSQL the database on the server (db).', ['file'], async () => {
    return (await databaseSizes(store, dbFile)).map((p) => ({ labels: { file: p.file }, value: p.bytes }));
  });
  // Readiness is computed once per scrape; the probe's time and the free space come from the same run.
  new Gauge({
    name: 'ecabinet_ready',
    help: '1 when /readyz would answer ready (database writable, disk space, SFU as at start), else 0.',
    registers: [m.registry],
    async collect() {
      this.set((await readiness(ctx, m.sfuExpected, m.figures)).ready ? 1 : 0);
    },
  });
  m.gauge('ecabinet_db_probe_seconds', 'Time to take and release the database write lock at the last readiness check.', [], () => (m.figures.dbProbeSeconds === null ? [] : [{ value: m.figures.dbProbeSeconds }]));
  m.gauge('ecabinet_data_disk_free_bytes', 'Free space on the data folder’s disk at the last readiness check.', [], () => (m.figures.freeBytes === null ? [] : [{ value: m.figures.freeBytes }]));

  return {
    async stop() {
      await observeDatabase(store, {});
      runner.setOptions({ onOutcome: undefined });
    },
  };
}
