import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../client/services/api.js';
import { Loader } from '../../client/services/loader.js';

/** Lit's side of the controller contract, without a DOM: counts the renders asked for. */
class Host implements ReactiveControllerHost {
  controllers: ReactiveController[] = [];
  updates = 0;
  addController(c: ReactiveController): void {
    this.controllers.push(c);
  }
  removeController(c: ReactiveController): void {
    this.controllers = this.controllers.filter((x) => x !== c);
  }
  requestUpdate(): void {
    this.updates++;
  }
  get updateComplete(): Promise<boolean> {
    return Promise.resolve(true);
  }
  disconnect(): void {
    for (const c of this.controllers) c.hostDisconnected?.();
  }
}

/** A fetch whose answers the test hands out one by one, in any order. */
function answers<T>() {
  const pending: { resolve: (v: T) => void; reject: (e: unknown) => void }[] = [];
  const fetch = () => new Promise<T>((resolve, reject) => pending.push({ resolve, reject }));
  return { fetch, pending };
}

const settle = () => new Promise((r) => setTimeout(r, 0));

describe('Loader (client/services/loader.ts)', () => {
  it('is loading until the value is in, then holds it; a failure is an ApiError with its code, anything else becomes network', async () => {
    const host = new Host();
    const a = answers<string>();
    const loader = new Loader(host, a.fetch);
    expect(host.controllers).toEqual([loader]);
    expect([loader.loading, loader.value, loader.error]).toEqual([false, undefined, null]);

    const first = loader.load();
    expect([loader.loading, loader.value, loader.error]).toEqual([true, undefined, null]);
    a.pending[0].resolve('one');
    await first;
    expect([loader.loading, loader.value, loader.error]).toEqual([false, 'one', null]);

    const second = loader.load();
    expect(loader.value).toBeUndefined();
    a.pending[1].reject(new ApiError(404, 'not_found', 'gone'));
    await second;
    expect(loader.loading).toBe(false);
    expect([loader.error?.status, loader.error?.code]).toEqual([404, 'not_found']);

    const third = loader.load();
    expect(loader.error).toBeNull();
    a.pending[2].reject(new TypeError('Failed to fetch'));
    await third;
    expect(loader.error).toBeInstanceOf(ApiError);
    expect([loader.error?.status, loader.error?.code]).toEqual([0, 'network']);
    expect(loader.value).toBeUndefined();
  });

  it('keepValue and keepError leave what is on screen until the new result arrives', async () => {
    const host = new Host();
    const a = answers<number>();
    const loader = new Loader(host, a.fetch);
    const first = loader.load();
    a.pending[0].resolve(1);
    await first;

    const failing = loader.load({ keepValue: true });
    expect([loader.loading, loader.value]).toEqual([true, 1]);
    a.pending[1].reject(new ApiError(500, 'internal', 'boom'));
    await failing;
    // The value stays behind the error; the view chooses which to show.
    expect([loader.value, loader.error?.code]).toEqual([1, 'internal']);

    const refresh = loader.load({ keepValue: true, keepError: true });
    expect([loader.value, loader.error?.code]).toEqual([1, 'internal']);
    a.pending[2].resolve(2);
    await refresh;
    expect([loader.value, loader.error]).toEqual([2, null]);
  });

  it('a result that arrives after a newer load started is dropped, and onValue sees only the kept one', async () => {
    const host = new Host();
    const a = answers<string>();
    const seen: string[] = [];
    const loader = new Loader(host, a.fetch, { onValue: (v) => seen.push(v) });
    const older = loader.load();
    const newer = loader.load();
    a.pending[1].resolve('newer');
    await newer;
    expect([loader.loading, loader.value]).toEqual([false, 'newer']);
    a.pending[0].resolve('older');
    await older;
    expect(loader.value).toBe('newer');
    expect(seen).toEqual(['newer']);

    // A late failure of an older load does not hide the newer value either, nor end the newer load.
    const old2 = loader.load({ keepValue: true });
    const new2 = loader.load({ keepValue: true });
    a.pending[2].reject(new ApiError(0, 'network', 'late'));
    await old2;
    expect([loader.loading, loader.error]).toEqual([true, null]);
    a.pending[3].resolve('newest');
    await new2;
    expect([loader.loading, loader.value, loader.error]).toEqual([false, 'newest', null]);
    expect(seen).toEqual(['newer', 'newest']);
  });

  it('onValue runs after value is set and before the host is asked to render it', async () => {
    const host = new Host();
    const a = answers<string>();
    let at: { value: string | undefined; updates: number } | null = null;
    const loader: Loader<string> = new Loader(host, a.fetch, { onValue: () => (at = { value: loader.value, updates: host.updates }) });
    const p = loader.load();
    const before = host.updates;
    a.pending[0].resolve('v');
    await p;
    expect(at).toEqual({ value: 'v', updates: before });
    expect(host.updates).toBe(before + 1);
  });

  it('a load still in flight when the view goes away writes nothing into it', async () => {
    const host = new Host();
    const a = answers<string>();
    const seen: string[] = [];
    const loader = new Loader(host, a.fetch, { onValue: (v) => seen.push(v) });
    const p = loader.load();
    host.disconnect();
    expect(loader.loading).toBe(false);
    const updates = host.updates;
    a.pending[0].resolve('late');
    await p;
    await settle();
    expect([loader.value, loader.error, seen, host.updates]).toEqual([undefined, null, [], updates]);
  });
});
