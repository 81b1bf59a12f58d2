import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { ApiError } from './api.js';

/** How a reload treats what is on screen meanwhile. */
export interface LoadOptions {
  /** Keep the last value until the new one arrives (a refresh in place, no spinner). */
  keepValue?: boolean;
  /** Keep the last error until the new result arrives. */
  keepError?: boolean;
}

/** What a view does with each result it keeps. */
export interface LoaderOptions<T> {
  /**
   * Called with each result that is kept (never with a stale one), after `value` is set and before
   * the host renders it: for a view that copies loaded data into its own state (a form) or starts
   * something from it (a live document, a media session).
   */
  onValue?: (value: T) => void;
}

/**
 * The one way a view loads its data: `value` once loaded, `error` when the load failed (any failure
 * that is not an `ApiError` becomes one with the code `network`), neither while loading, and
 * `loading` while the latest load runs. Each view still draws its own spinner, error text and retry
 * button from these; the controller only owns the state and asks the host to render on every change.
 * A result that arrives after a newer load started is dropped (a tab switched twice quickly shows the
 * last tab's list), and so is one that arrives after the view went away.
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
  #loading = false;
  readonly #onValue: ((value: T) => void) | undefined;

  constructor(
    private readonly host: ReactiveControllerHost,
    private readonly fetch: () => Promise<T>,
    options: LoaderOptions<T> = {},
  ) {
    this.#onValue = options.onValue;
    host.addController(this);
  }

  /** True from the start of a load until its result (or error) is in; a dropped load does not count. */
  get loading(): boolean {
    return this.#loading;
  }

  hostDisconnected(): void {
    // A load still in flight when the view goes away must not write into it later.
    this.#seq++;
    this.#loading = false;
  }

  /** (Re)loads; resolves when the result is in `value` or `error` (or was dropped as stale). */
  async load(opts: LoadOptions = {}): Promise<void> {
    const seq = ++this.#seq;
    this.#loading = true;
    if (!opts.keepValue) this.value = undefined;
    if (!opts.keepError) this.error = null;
    this.host.requestUpdate();
    let value: T;
    try {
      value = await this.fetch();
    } catch (e) {
      if (seq !== this.#seq) return;
      this.#loading = false;
      this.error = e instanceof ApiError ? e : new ApiError(0, 'network', String(e));
      this.host.requestUpdate();
      return;
    }
    if (seq !== this.#seq) return;
    this.#loading = false;
    this.value = value;
    this.error = null;
    this.#onValue?.(value);
    this.host.requestUpdate();
  }
}
