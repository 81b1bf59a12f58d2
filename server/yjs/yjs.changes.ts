import type * as Y from 'yjs';
import type { HubDoc, HubState } from './yjs.conn.js';

/**
 * A handler notified (debounced) after a document changed; see `YjsHub.onChange`. `final` is true
 * when the document is about to be unloaded (or the hub closes): finish synchronously.
 */
export type YjsChangeHandler = (name: string, ydoc: Y.Doc, info: { final: boolean }) => void | Promise<void>;

interface ChangeListener {
  match: string | RegExp;
  handler: YjsChangeHandler;
  debounceMs: number;
  maxWaitMs: number;
  timers: Map<string, { timer: NodeJS.Timeout; since: number; last: number }>;
}

/**
 * The server-side change hooks of one hub (`YjsHub.onChange`): per listener and document, one
 * debounce timer armed by the first committed change, run once more (`final`) before an unload.
 */
export class ChangeHooks {
  private listeners: ChangeListener[] = [];

  constructor(private readonly state: HubState) {}

  /** See `YjsHub.onChange`. Returns an unsubscribe function. */
  add(match: string | RegExp, handler: YjsChangeHandler, opts: { debounceMs?: number; maxWaitMs?: number }): () => void {
    const l: ChangeListener = {
      match,
      handler,
      debounceMs: opts.debounceMs ?? this.state.options.changeDebounceMs,
      maxWaitMs: opts.maxWaitMs ?? this.state.options.changeMaxWaitMs,
      timers: new Map(),
    };
    this.listeners.push(l);
    return () => {
      for (const t of l.timers.values()) clearTimeout(t.timer);
      this.listeners = this.listeners.filter((x) => x !== l);
    };
  }

  /** A change of `d` was committed: arms (or notes on) the debounce timer of every matching listener. */
  notify(d: HubDoc): void {
    const now = Date.now();
    for (const l of this.listeners) {
      if (!this.matches(l, d)) continue;
      const t = l.timers.get(d.name);
      // Already armed: just note the change; the timer re-arms itself when it fires too early
      // (no clearTimeout/setTimeout per flush on a busy document).
      if (t) t.last = now;
      else this.arm(l, d, now, now);
    }
  }

  /** Runs the handlers of `d` that have an unreported change now, with `final: true` (before an unload). */
  runNow(d: HubDoc): void {
    for (const l of this.disarm(d)) this.call(l, d, true);
  }

  /**
   * Forgets the armed timers of `d` without running them: it is dropped without a last write (this node lost
   * its meeting, or a commit failed), so its copy may hold what was never committed, and another node writes
   * from the committed state now.
   */
  cancel(d: HubDoc): void {
    this.disarm(d);
  }

  /** Clears the armed timers of `d`: @returns the listeners that had one (a change not reported yet). */
  private disarm(d: HubDoc): ChangeListener[] {
    const armed: ChangeListener[] = [];
    for (const l of this.listeners) {
      const t = l.timers.get(d.name);
      if (!t) continue;
      clearTimeout(t.timer);
      l.timers.delete(d.name);
      armed.push(l);
    }
    return armed;
  }

  /** Cancels every armed timer (the hub closes). */
  clear(): void {
    for (const l of this.listeners) for (const t of l.timers.values()) clearTimeout(t.timer);
  }

  private matches(l: ChangeListener, d: HubDoc): boolean {
    return typeof l.match === 'string' ? l.match === d.kind.kind : l.match.test(d.name);
  }

  private arm(l: ChangeListener, d: HubDoc, since: number, last: number): void {
    const now = Date.now();
    const wait = Math.max(0, Math.min(last + l.debounceMs, since + l.maxWaitMs) - now);
    const entry = { since, last, timer: null as unknown as NodeJS.Timeout };
    entry.timer = setTimeout(() => {
      const due = Math.min(entry.last + l.debounceMs, entry.since + l.maxWaitMs);
      if (Date.now() < due) return this.arm(l, d, entry.since, entry.last);
      l.timers.delete(d.name);
      this.call(l, d, false);
    }, wait);
    l.timers.set(d.name, entry);
  }

  private call(l: ChangeListener, d: HubDoc, final: boolean): void {
    try {
      const r = l.handler(d.name, d.ydoc, { final });
      if (r && typeof (r as Promise<void>).catch === 'function') (r as Promise<void>).catch((err) => this.state.log.error({ err, doc: d.name }, 'yjs: onChange handler failed'));
    } catch (err) {
      this.state.log.error({ err, doc: d.name }, 'yjs: onChange handler failed');
    }
  }
}
