import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The app's Prometheus metrics (prom-client). One registry per app — tests run several servers in one
 * process and each must count only its own traffic — plus one process-wide registry for what belongs to
 * the process (CPU, memory, GC, event-loop lag: prom-client's default metrics, collected once per process
 * because their observers cannot be stopped). `/metrics` serves both (server/metrics/metrics.routes.ts).
 *
 * Label cardinality is bounded everywhere: HTTP routes by their pattern (`/api/meetings/:id`, never the raw
 * URL), socket events by the closed command list, meetings by the busiest `meetingClientsTopN` only.
 */
export class AppMetrics {
  readonly registry = new Registry();
  /** Set by the metrics module's start: the SFU was running at start, so /readyz expects it to stay up. */
  sfuExpected = false;
  /** What the last /readyz (or scrape) measured: free bytes on the data disk, the database probe. */
  readonly figures: { freeBytes: number | null; dbProbeSeconds: number | null } = { freeBytes: null, dbProbeSeconds: null };

  readonly httpRequests = new Counter({
    name: 'ecabinet_http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status class.',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });
  readonly httpDuration = new Histogram({
    name: 'ecabinet_http_request_duration_seconds',
    help: 'Time from request to the end of the response, by method and route pattern.',
    labelNames: ['method', 'route'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly socketConnections = new Counter({
    name: 'ecabinet_socket_connections_total',
    help: 'Socket.IO connections accepted (after authentication).',
    registers: [this.registry],
  });
  readonly socketDisconnections = new Counter({
    name: 'ecabinet_socket_disconnections_total',
    help: 'Socket.IO connections closed.',
    registers: [this.registry],
  });
  readonly socketCommands = new Counter({
    name: 'ecabinet_socket_commands_total',
    help: 'Socket.IO commands acknowledged, by event and result (`ok` or the error code).',
    labelNames: ['event', 'result'] as const,
    registers: [this.registry],
  });
  readonly socketCommandDuration = new Histogram({
    name: 'ecabinet_socket_command_duration_seconds',
    help: 'Time from a command’s arrival to its acknowledgement, by event.',
    labelNames: ['event'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly socketPushes = new Counter({
    name: 'ecabinet_socket_pushes_total',
    help: 'Socket.IO pushes written to sockets, by event (one per receiving socket).',
    labelNames: ['event'] as const,
    registers: [this.registry],
  });
  readonly ballots = new Counter({
    name: 'ecabinet_ballots_total',
    help: 'Ballots committed (cast or changed); `rate()` gives ballots per second.',
    registers: [this.registry],
  });
  readonly jobRuns = new Counter({
    name: 'ecabinet_job_runs_total',
    help: 'Durable job attempts by kind and outcome: done, retry (failed, will run again), failed (gave up).',
    labelNames: ['kind', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly dbTransactions = new Histogram({
    name: 'ecabinet_db_transaction_duration_seconds',
    help: 'SQLite write transactions (`tx()`), time from BEGIN to COMMIT, on the event loop.',
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25],
    registers: [this.registry],
  });
  readonly walSyncs = new Histogram({
    name: 'ecabinet_db_wal_fsync_duration_seconds',
    help: 'The WAL flush that makes ballots durable, group-committed: SQLite\'s fdatasync (on the thread pool) or PostgreSQL\'s (a synchronous commit of an empty logical message, round trip included).',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });
  readonly archives = new Counter({
    name: 'ecabinet_archives_total',
    help: 'Meeting archives built, by outcome (done, failed).',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  /**
   * A gauge whose value is read when Prometheus scrapes (`read` returns label sets and values, or a
   * promise of them: a database count). A throwing `read` leaves the gauge empty for that scrape instead
   * of failing the whole page.
   */
  gauge<L extends string>(name: string, help: string, labelNames: readonly L[], read: () => GaugeRows<L> | Promise<GaugeRows<L>>): Gauge<L> {
    return new Gauge<L>({
      name,
      help,
      labelNames,
      registers: [this.registry],
      async collect() {
        this.reset();
        let rows: GaugeRows<L> = [];
        try {
          rows = await read();
        } catch {
          rows = [];
        }
        for (const r of rows) {
          if (r.labels) this.set(r.labels, r.value);
          else this.set(r.value);
        }
      },
    });
  }

  /** Prometheus text of this app's metrics and the process's. */
  async text(): Promise<string> {
    return (await processRegistry().metrics()) + (await this.registry.metrics());
  }
}

/** What a gauge's `read` returns: one value per label set. */
type GaugeRows<L extends string> = { labels?: Partial<Record<L, string | number>>; value: number }[];

/** How many meetings get their own `meeting` label in `ecabinet_meeting_clients`; the rest are summed as `other`. */
export const meetingClientsTopN = 20;

let proc: Registry | undefined;
/** Process-wide default metrics (CPU, memory, handles, GC, event-loop lag), started on first use. */
function processRegistry(): Registry {
  if (!proc) {
    proc = new Registry();
    collectDefaultMetrics({ register: proc, eventLoopMonitoringPrecision: 10 });
  }
  return proc;
}

