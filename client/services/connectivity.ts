/**
 * Online/offline state of the app as a whole. The browser's online/offline events and the
 * outcome of every API call feed it; while offline it probes `/healthz` every few seconds so the
 * banner disappears as soon as the server answers again. Realtime services (Socket.IO, Yjs) call
 * `connectivity.report(false|true)` on disconnect/reconnect too.
 * Listen with `connectivity.addEventListener('change', …)`.
 */
class Connectivity extends EventTarget {
  #online = typeof navigator === 'undefined' ? true : navigator.onLine;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor() {
    super();
    if (typeof window !== 'undefined') {
      window.addEventListener('online', () => this.report(true));
      window.addEventListener('offline', () => this.report(false));
    }
  }

  get online(): boolean {
    return this.#online;
  }

  /** Records what a transport just observed. */
  report(online: boolean): void {
    if (online === this.#online) return;
    this.#online = online;
    if (!online && !this.#timer) this.#timer = setInterval(() => void this.#probe(), 3000);
    if (online && this.#timer) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
    this.dispatchEvent(new Event('change'));
  }

  async #probe(): Promise<void> {
    try {
      const r = await fetch('/healthz', { cache: 'no-store' });
      if (r.ok) this.report(true);
    } catch {
      /* still offline */
    }
  }
}

export const connectivity = new Connectivity();
