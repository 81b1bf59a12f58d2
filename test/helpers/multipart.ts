import http from 'node:http';
import type { HttpClient, TestServer } from './server.js';

export interface RawUploadOptions {
  chunks: Buffer[];
  /** Declared Content-Length (default: the real total); null sends none (chunked), so only counting the bytes can catch an oversized file. */
  declaredLength?: number | null;
  /** Destroy the connection before sending chunk `cutAfter`. */
  cutAfter?: number;
  /** Stop writing before chunk `pauseAfter` and wait for the server's answer. */
  pauseAfter?: number;
  /** Default `multipart/form-data; boundary=XBOUNDARY`. */
  contentType?: string;
}

/**
 * Sends a multipart upload by hand so the test controls the bytes on the wire: one chunk at a time,
 * stopping as soon as the server answers (or after `cutAfter` chunks, by destroying the connection).
 */
export function rawUpload(s: TestServer, c: HttpClient, url: string, opts: RawUploadOptions) {
  return new Promise<{ status?: number; body?: string; error?: string; sent: number; total: number }>((resolve) => {
    const total = opts.chunks.reduce((n, b) => n + b.length, 0);
    const req = http.request(s.url + url, {
      method: 'POST',
      headers: {
        cookie: c.cookie,
        origin: s.url,
        'content-type': opts.contentType ?? 'multipart/form-data; boundary=XBOUNDARY',
        ...(opts.declaredLength === null ? {} : { 'content-length': String(opts.declaredLength ?? total) }),
      },
    });
    let sent = 0;
    let answered = false;
    req.on('response', (res) => {
      answered = true;
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, body, sent, total }));
      res.on('error', () => resolve({ status: res.statusCode!, body, sent, total }));
    });
    req.on('error', (e) => {
      if (!answered) resolve({ error: e.message, sent, total });
    });
    const write = (i: number) => {
      if (answered) return;
      if (opts.cutAfter !== undefined && i >= opts.cutAfter) return req.destroy();
      if (opts.pauseAfter !== undefined && i >= opts.pauseAfter) return; // wait for the server's answer
      if (i >= opts.chunks.length) return req.end();
      sent += opts.chunks[i].length;
      req.write(opts.chunks[i], () => setImmediate(() => write(i + 1)));
    };
    write(0);
  });
}
