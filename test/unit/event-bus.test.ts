import { describe, expect, it } from 'vitest';
import { EventBus } from '../../server/events.js';

/** A promise and its resolver, to hold a queued run open. */
function gate() {
  let open!: () => void;
  const p = new Promise<void>((r) => (open = r));
  return { p, open };
}

describe('EventBus.queue and idle: derived work, serial per key, awaited by the changing request', () => {
  it('runs of one key never overlap; a run queued while another waits to start joins it; other keys run meanwhile', async () => {
    const bus = new EventBus();
    const log: string[] = [];
    const first = gate();
    const a1 = bus.queue('a', async () => {
      log.push('a1 start');
      await first.p;
      log.push('a1 end');
    });
    await Promise.resolve();
    let laterRuns = 0;
    const a2 = bus.queue('a', async () => {
      laterRuns++;
      log.push('a2');
    });
    const a3 = bus.queue('a', async () => {
      laterRuns++;
      log.push('a3');
    });
    const b = bus.queue('b', async () => {
      log.push('b');
    });
    await b;
    expect(log).toEqual(['a1 start', 'b']);
    first.open();
    await Promise.all([a1, a2, a3]);
    // a3 found a2 queued and not started: one run for both, which starts after a1 and sees both changes.
    expect(laterRuns).toBe(1);
    expect(a3).toBe(a2);
    expect(log).toEqual(['a1 start', 'b', 'a1 end', 'a2']);
  });

  it('a failed run rejects for its caller and the key goes on; idle waits for work queued by queued work, and never rejects', async () => {
    const bus = new EventBus();
    const failed = bus.queue('k', async () => {
      throw new Error('boom');
    });
    await expect(failed).rejects.toThrow('boom');
    const done: string[] = [];
    const slow = gate();
    void bus
      .queue('k', async () => {
        await slow.p;
        done.push('outer');
        void bus.queue('chained', async () => {
          await new Promise((r) => setTimeout(r, 10));
          done.push('chained');
        });
      })
      .catch(() => undefined);
    void bus.queue('bad', async () => Promise.reject(new Error('logged by its caller'))).catch(() => undefined);
    const idle = bus.idle();
    setTimeout(slow.open, 10);
    await idle;
    expect(done).toEqual(['outer', 'chained']);
    await bus.idle(); // nothing pending: resolves at once
  });
});
