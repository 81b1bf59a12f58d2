import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../scripts/free-port.js';

export interface ThrowawayRedis {
  /** redis://127.0.0.1:<port> */
  url: string;
  port: number;
  /** Stops the server (SIGTERM, as an operator's restart would) and starts it again on the same port, empty. */
  restart(): Promise<void>;
  /** Stops the server and deletes its folder. */
  stop(): Promise<void>;
  /** Stops the server without starting it again (until restart()). */
  kill(): Promise<void>;
}


/**
 * Starts Debian's redis-server on a free loopback port, in memory only (no RDB, no AOF: nothing authoritative
 * lives in Redis, issue #18), stopped by stop(). Without the package this fails with the command that
 * installs it: a test needing Redis never silently skips (scripts/install-system-deps.sh installs it).
 */
export async function startThrowawayRedis(): Promise<ThrowawayRedis> {
  const bin = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((p) => fs.existsSync(p));
  if (!bin) throw new Error('redis-server is not installed: run `sudo bash scripts/install-system-deps.sh` or `apt-get install -y redis-server`');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ecabinet-redis-'));
  const port = await freePort();
  let proc: ChildProcess | null = null;

  const start = async () => {
    const p = spawn(bin, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
    proc = p;
    let out = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`redis-server did not start on ${port}: ${out}`)), 15_000);
      const onData = (b: Buffer) => {
        out += b.toString();
        if (out.includes('Ready to accept connections')) {
          clearTimeout(timer);
          resolve();
        }
      };
      p.stdout!.on('data', onData);
      p.stderr!.on('data', onData);
      p.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited ${code}: ${out}`));
      });
    });
    p.stdout!.resume();
    p.stderr!.resume();
  };
  const halt = async () => {
    const p = proc;
    proc = null;
    if (!p || p.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      p.once('exit', () => resolve());
      p.kill('SIGTERM');
    });
  };

  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    async restart() {
      await halt();
      await start();
    },
    kill: halt,
    async stop() {
      await halt();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
