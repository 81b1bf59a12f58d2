import type * as Ms from 'mediasoup';
import type { types as MsTypes } from 'mediasoup';
import type { Logger } from '../log.js';
import type { SfuConfig } from './sfu.config.js';

export type Mediasoup = typeof Ms;
export type Worker = MsTypes.Worker;

/**
 * mediasoup workers (one OS process each), up to `maxWorkers`, created on demand. A new meeting
 * gets a fresh worker while there is room for one, otherwise the worker with the fewest routers.
 * A worker that dies is dropped from the pool and reported to `onDied`; the next `acquire()`
 * creates its replacement.
 */
export class WorkerPool {
  private readonly workers: { worker: Worker; routers: number }[] = [];
  /** Serializes creation so concurrent meetings never exceed the cap. */
  private creating: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly ms: Mediasoup,
    private readonly config: SfuConfig,
    private readonly log: Logger,
    private readonly onDied: (worker: Worker, error: Error) => void,
  ) {}

  /** Live workers (for stats and tests). */
  list(): Worker[] {
    return this.workers.map((w) => w.worker);
  }

  /**
   * A worker to host one more router; counts the router against it until `release`.
   * @throws Error when a worker cannot be spawned (binary missing or broken).
   */
  async acquire(): Promise<Worker> {
    const run = this.creating.then(async () => {
      if (this.closed) throw new Error('SFU closed');
      const leastLoaded = [...this.workers].sort((a, b) => a.routers - b.routers)[0];
      const entry = leastLoaded && (leastLoaded.routers === 0 || this.workers.length >= this.config.maxWorkers) ? leastLoaded : await this.spawn();
      entry.routers++;
      return entry.worker;
    });
    this.creating = run.catch(() => undefined);
    return run;
  }

  /** The router hosted on `worker` was closed. */
  release(worker: Worker): void {
    const e = this.workers.find((w) => w.worker === worker);
    if (e && e.routers > 0) e.routers--;
  }

  private async spawn() {
    const worker = await this.ms.createWorker({
      logLevel: this.config.logLevel,
      rtcMinPort: this.config.rtcMinPort,
      rtcMaxPort: this.config.rtcMaxPort,
    });
    const entry = { worker, routers: 0 };
    this.workers.push(entry);
    worker.on('died', (error: Error) => {
      const i = this.workers.indexOf(entry);
      if (i >= 0) this.workers.splice(i, 1);
      if (this.closed) return;
      this.log.error({ pid: worker.pid, err: error }, 'mediasoup worker died; its meetings will be recovered');
      this.onDied(worker, error);
    });
    this.log.info({ pid: worker.pid, workers: this.workers.length }, 'mediasoup worker started');
    return entry;
  }

  close(): void {
    this.closed = true;
    for (const { worker } of this.workers.splice(0)) worker.close();
  }
}
