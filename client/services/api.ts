import type { ErrorBody, ErrorCode } from '../../shared/protocol/common.js';
import { DEVICE_HEADER } from '../../shared/protocol/offline.js';
import { deviceToken } from './offline-cache.js';

/**
 * A failed API call, carrying the server's stable error `code` (see shared/protocol/common.ts).
 * `status` 0 with code `network` means the request never reached the server (offline).
 */
/** A request sent again after `not_owner`: the node that owns the meeting, for the load balancer to route it there (docs/DEPLOY.md). */
export const OWNER_HEADER = 'x-ecabinet-owner';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode | 'network',
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** Query string values; `undefined` entries are left out. */
export type Query = Record<string, string | number | boolean | undefined>;

export interface ApiOptions {
  /** Called on any 401 except the login call itself: the session is gone, go back to login. */
  onUnauthenticated?: () => void;
  /** Called with `false` when a request fails at the network level, `true` when one succeeds. */
  onConnectivity?: (online: boolean) => void;
  /** Base URL, '' (same origin) in the browser. */
  base?: string;
}

/**
 * Typed fetch wrapper for the REST API. Same-origin credentials (the httpOnly session cookie);
 * the browser adds `Origin`, which the server's CSRF check requires on writes.
 * Response types come from `shared/protocol` (`z.infer` types), e.g.
 * `api.get<MeetingList>('/api/meetings', { scope: 'upcoming' })`.
 * Every non-2xx answer throws an {@link ApiError} built from the one error shape
 * `{ error: { code, message } }`.
 */
export class Api {
  constructor(private readonly opts: ApiOptions = {}) {}

  get<T>(path: string, query?: Query): Promise<T> {
    return this.request<T>('GET', path, undefined, query);
  }
  post<T>(path: string, body?: unknown, query?: Query): Promise<T> {
    return this.request<T>('POST', path, body, query);
  }
  patch<T>(path: string, body?: unknown, query?: Query): Promise<T> {
    return this.request<T>('PATCH', path, body, query);
  }
  put<T>(path: string, body?: unknown, query?: Query): Promise<T> {
    return this.request<T>('PUT', path, body, query);
  }
  delete<T>(path: string, query?: Query): Promise<T> {
    return this.request<T>('DELETE', path, undefined, query);
  }

  /**
   * One request; `body` is sent as JSON unless it is FormData or a Blob (uploads). Sent once more when a
   * cluster node answers `not_owner` (409): it is not the meeting's owner and changed nothing (the refusal
   * comes from the lease check inside the rolled-back transaction). The refusal names the owner: the second
   * attempt carries it in {@link OWNER_HEADER}, and the load balancer sends it there (REST goes round robin
   * otherwise, which could pick another node that is not the owner; docs/DEPLOY.md, #18).
   */
  async request<T>(method: string, path: string, body?: unknown, query?: Query): Promise<T> {
    try {
      return await this.send<T>(method, path, body, query);
    } catch (e) {
      if (!(e instanceof ApiError && e.status === 409 && e.code === 'not_owner')) throw e;
      const owner = (e.details as { nodeId?: unknown } | undefined)?.nodeId;
      return await this.send<T>(method, path, body, query, typeof owner === 'string' ? owner : undefined);
    }
  }

  private async send<T>(method: string, path: string, body?: unknown, query?: Query, owner?: string): Promise<T> {
    let url = (this.opts.base ?? '') + path;
    if (query) {
      const qs = new URLSearchParams();
      for (const [k, v] of Object.entries(query)) if (v !== undefined) qs.set(k, String(v));
      const s = qs.toString();
      if (s) url += (url.includes('?') ? '&' : '?') + s;
    }
    const headers: Record<string, string> = { accept: 'application/json' };
    if (owner) headers[OWNER_HEADER] = owner;
    const device = deviceToken();
    if (device) headers[DEVICE_HEADER] = device;
    let payload: BodyInit | undefined;
    if (body instanceof FormData || body instanceof Blob) payload = body;
    else if (body !== undefined) {
      payload = JSON.stringify(body);
      headers['content-type'] = 'application/json';
    }
    let res: Response;
    try {
      res = await fetch(url, { method, headers, body: payload, credentials: 'same-origin' });
    } catch (e) {
      this.opts.onConnectivity?.(false);
      throw new ApiError(0, 'network', e instanceof Error ? e.message : 'Network error');
    }
    // An answer from the tablet's offline copy (the service worker, docs/OFFLINE.md) is not the server.
    this.opts.onConnectivity?.(!res.headers.has('x-ec-offline'));
    const text = await res.text();
    let data: unknown;
    try {
      data = text ? JSON.parse(text) : undefined;
    } catch {
      data = undefined;
    }
    if (!res.ok) {
      const err = (data as Partial<ErrorBody> | undefined)?.error;
      const e = new ApiError(res.status, err?.code ?? (res.status >= 500 ? 'internal' : 'invalid_payload'), err?.message ?? res.statusText, err?.details);
      // An administrator revoked this device: wipe every offline copy before showing the sign-in page.
      if (res.status === 401 && err?.code === 'device_revoked') window.dispatchEvent(new Event('ec-device-revoked'));
      if (res.status === 401 && path !== '/api/auth/login') this.opts.onUnauthenticated?.();
      throw e;
    }
    return data as T;
  }
}
