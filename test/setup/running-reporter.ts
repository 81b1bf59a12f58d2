import path from 'node:path';
import type { Reporter, TestModule } from 'vitest/node';

/**
 * CI's extra reporter (ECABINET_CI=1, set by .ci/run): every few minutes, the test files that have been running for
 * longer than that, with how long. A file that never ends (a worker stuck, a server that never answers) is then
 * named in the log while it hangs, and .ci/run's time limit on the step ends the run with that log.
 */
export default class RunningReporter implements Reporter {
  private readonly running = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly everyMs = 180_000) {}

  onInit(): void {
    this.timer = setInterval(() => this.report(), this.everyMs);
    this.timer.unref();
  }

  onTestModuleStart(m: TestModule): void {
    this.running.set(path.relative(process.cwd(), m.moduleId), Date.now());
  }

  onTestModuleEnd(m: TestModule): void {
    this.running.delete(path.relative(process.cwd(), m.moduleId));
  }

  onTestRunEnd(): void {
    clearInterval(this.timer);
  }

  private report(): void {
    const now = Date.now();
    const long = [...this.running].filter(([, at]) => now - at >= this.everyMs);
    if (!long.length) return;
    const list = long.map(([file, at]) => `${file} (${Math.round((now - at) / 1000)} s)`).join(', ');
    console.log(`[${new Date().toISOString().slice(11, 19)}] still running: ${list}`);
  }
}
