/**
 * The service worker (built by vite-plugin-pwa, injectManifest): the app opens without network, and
 * meetings made available offline are read from the device. See docs/OFFLINE.md.
 *
 * - The app shell (HTML, JS, CSS, fonts, pdf.js data) is precached at install; navigations are answered
 *   with the precached index.html, so the app starts with no network in the last language used.
 * - GET /api/* goes to the network first. When the network fails, the answer comes from the offline
 *   cache that the app filled for the meetings it made available (client/services/offline.ts); a Range
 *   request is answered with a 206 cut from the cached whole file. Find-in-document is answered from
 *   the cached page texts with the same folding as the server.
 * - Nothing is cached here behind the app's back: only what the offline service stored, under its
 *   manifest, which the server decides (view-only confidential documents are never in it).
 */
import { cleanupOutdatedCaches, createHandlerBoundToURL, precacheAndRoute } from 'workbox-precaching';
import { NavigationRoute, registerRoute } from 'workbox-routing';
import { createPartialResponse } from 'workbox-range-requests';
import { findInPages } from '../shared/rules/find.js';
import { OFFLINE_CACHE } from './services/offline-cache.js';

interface ExtendableEvent extends Event {
  waitUntil(p: Promise<unknown>): void;
}
interface SwScope {
  __WB_MANIFEST: (string | { url: string; revision: string | null })[];
  skipWaiting(): Promise<void>;
  clients: { claim(): Promise<void> };
  addEventListener(type: 'install' | 'activate', fn: (e: ExtendableEvent) => void): void;
}
const sw = self as unknown as SwScope;

precacheAndRoute((self as unknown as SwScope).__WB_MANIFEST);
cleanupOutdatedCaches();
sw.addEventListener('install', () => void sw.skipWaiting());
sw.addEventListener('activate', (e) => e.waitUntil(sw.clients.claim()));

registerRoute(
  new NavigationRoute(createHandlerBoundToURL('/index.html'), {
    denylist: [/^\/api\//, /^\/socket\.io\//, /^\/yjs\//, /^\/healthz/, /^\/pdfjs\//],
  }),
);

/** The cached copy of a GET, matched by URL alone (the app stores whole responses, without Range). */
async function cached(url: string): Promise<Response | undefined> {
  const cache = await caches.open(OFFLINE_CACHE);
  return cache.match(url, { ignoreVary: true });
}

async function refresh(key: string, res: Response): Promise<void> {
  const cache = await caches.open(OFFLINE_CACHE);
  if (!(await cache.match(key, { ignoreVary: true }))) return;
  const headers = new Headers();
  for (const h of ['content-type', 'etag', 'last-modified', 'content-disposition']) {
    const v = res.headers.get(h);
    if (v) headers.set(h, v);
  }
  headers.set('x-ec-offline', new Date().toISOString());
  await cache.put(key, new Response(await res.blob(), { status: 200, headers }));
}

const FIND = /^\/api\/documents\/(\d+)\/find$/;

registerRoute(
  ({ url, request }) => url.origin === location.origin && url.pathname.startsWith('/api/') && request.method === 'GET',
  async ({ url, request }) => {
    try {
      const res = await fetch(request);
      // Keep the tablet's offline copy fresh: a whole answer for a URL the app stored replaces it.
      if (res.status === 200 && !request.headers.has('range')) void refresh(url.pathname + url.search, res.clone());
      return res;
    } catch (networkError) {
      const find = FIND.exec(url.pathname);
      if (find) {
        const text = await cached(`/api/documents/${find[1]}/text`);
        if (text) {
          const { pages } = (await text.json()) as { pages: { page: number; text: string }[] };
          const q = url.searchParams.get('q') ?? '';
          return Response.json({ query: q, ...findInPages(pages, q) });
        }
      }
      const hit = await cached(url.pathname + url.search);
      if (!hit) throw networkError;
      return request.headers.has('range') ? createPartialResponse(request, hit) : hit;
    }
  },
);
