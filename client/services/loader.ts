import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { ApiError } from './api.js';

/** How a reload treats what is on screen meanwhile. */
export interface LoadOptions {
  /** Keep the last value until the new one arrives (a refresh in place, no spinner). */
  keepValue?: boolean;
  /** Keep the last error until the new result arrives. */
  keepError?: boolean;
}

/**
 * The one way a view loads its data: `value` once loaded, `error` when the load failed (any failure
 * that is not an `ApiError` becomes one with the code `network`), neither while loading. Each view
 * still draws its own spinner, error text and retry button from these; the controller only owns the
 * state and asks the host to render on every change. A result that arrives after a newer load
 * started is dropped (a tab switched twice quickly shows the last tab's list).
 *
 * ```ts
 * #meetings = new Loader(this, () => this.api.get<MeetingList>('/api/meetings'));
 * connectedCallback() { super.connectedCallback(); void this.#meetings.load(); }
 * ```
 */
export class Loader<T> implements ReactiveController {
  /** The loaded data; undefined before the first load finishes (and during a reload unless `keepValue`). */
  value: T | undefined = undefined;
  /** Why the last load failed, or null. */
  error: ApiError | null = null;
  #seq = 0;

  constructor(
    private readonly host: ReactiveControllerHost,
    private readonly fetch: () => Promise<T>,
  ) {
    host.addController(this);
  }

  hostDisconnected(): void {
    // A load still in flight when the view goes away must not write into it later.
    this.#seq++;
  }

  /** (Re)loads; resolves when the result is in `value` or `error`. */
  async load(opts: LoadOptions = {}): Promise<void> {
    const seq = ++this.#seq;
    if (!opts.keepValue) this.value = undefined;
    if (!opts.keepError) this.error = null;
    this.host.requestUpdate();
    try {
      const value = await this.fetch();
      if (seq !== this.#seq) return;
      this.value = value;
      this.error = null;
    } catch (e) {
      if (seq !== this.#seq) return;
      this.error = e instanceof ApiError ? e : new ApiError(0, 'network', String(e));
    }
    this.host.requestUpdate();
  }
}
