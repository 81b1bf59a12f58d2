/**
 * `npm run bench -- documents`: the meeting pack on tablets, measured against side-by-side anchors
 * in the same run (absolute figures drift ±35% on this machine; ratios hold).
 *
 * (a) Opening board-pack-large.pdf (451 pages, 1.9 MB) until page 1 is painted in Chromium: our
 *     viewer (member1 taps the document in the meeting pack; SPA route, viewer chunk, pdf.js worker,
 *     range loading, watermark) against a bare pdfjs-dist page loading the same file from a plain
 *     static server (express.static). Fresh browser context (cold cache) per run, median of runs.
 * (b) Bytes of the PDF fetched before page 1 paints, with the network throttled to 20 Mbit/s
 *     (Chromium network emulation, 20 ms latency): ours against the same bare page.
 * (c) 100 concurrent authorized downloads of the pack (GET /api/documents/:id/file with a session:
 *     authentication, documentAccess, ETag, streaming) against express.static serving the same file.
 * (d) Search latency over 2,000 indexed documents (3 pages each, Vietnamese text, 10% of them not
 *     visible to the caller): p95 of GET /api/search as member1 over varied queries, with and without
 *     diacritics.
 *
 * Last line: { first_page_ms, baseline_first_page_ms, first_page_ratio, bytes_before_first_page_ratio,
 * download_throughput_ratio, search_p95_ms }. Options: --runs 5 --byte-runs 3 --queries 300
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express from 'express';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { documents } from '../server/db/tables.js';
import { replaceIndexed } from '../server/search/search.service.js';
import { mulberry32 } from '../shared/rules/random.js';
import { launchBrowser, login } from '../test/helpers/browser.js';
import { startTestServer } from '../test/helpers/server.js';
import { PDFS, pdf, upload } from '../test/integration/documents-helpers.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const RUNS = arg('runs', 5);
const BYTE_RUNS = arg('byte-runs', 3);
const QUERIES = arg('queries', 300);
const PACK = 'board-pack-large.pdf';
const PDFJS = path.resolve(here, '../node_modules/pdfjs-dist');

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)];
const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

/** The anchor: a bare pdfjs-dist page and the same file on express.static. */
function startBaseline(): Promise<{ url: string; close: () => Promise<void> }> {
  const app = express();
  const page = `<!doctype html><html><head><meta charset="utf-8"></head><body style="margin:0;background:#525a66">
<canvas id="c"></canvas>
<script type="module">
import * as pdfjs from '/pdfjs/build/pdf.min.mjs';
pdfjs.GlobalWorkerOptions.workerSrc = '/pdfjs/build/pdf.worker.min.mjs';
const doc = await pdfjs.getDocument({ url: '/files/${PACK}', cMapUrl: '/pdfjs/cmaps/', cMapPacked: true, standardFontDataUrl: '/pdfjs/standard_fonts/' }).promise;
const page = await doc.getPage(1);
const viewport = page.getViewport({ scale: 1.42 });
const c = document.getElementById('c');
c.width = Math.floor(viewport.width);
c.height = Math.floor(viewport.height);
await page.render({ canvas: c, viewport }).promise;
document.body.dataset.rendered = 'true';
</script></body></html>`;
  app.get('/', (_req, res) => res.type('html').send(page));
  app.use('/pdfjs', express.static(PDFJS));
  app.use('/files', express.static(PDFS));
  const server = http.createServer(app);
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))),
      }),
    ),
  );
}

/** Counts bytes received for URLs matching `match` (CDP; pdf.js fetches on the page's main thread). */
async function byteCounter(page: Page, match: (url: string) => boolean, throttle: boolean) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  if (throttle) {
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 20, downloadThroughput: (20e6 / 8) | 0, uploadThroughput: (20e6 / 8) | 0 });
  }
  const urls = new Map<string, string>();
  let bytes = 0;
  cdp.on('Network.requestWillBeSent', (e) => urls.set(e.requestId, e.request.url));
  cdp.on('Network.dataReceived', (e) => {
    if (match(urls.get(e.requestId) ?? '')) bytes += e.encodedDataLength || e.dataLength;
  });
  return { bytes: () => bytes };
}

async function main() {
  if (!fs.existsSync(path.resolve(here, '../dist/client/index.html'))) throw new Error('build the client first (npm run build)');
  const server = await startTestServer({ seed: 'demo' });
  const baseline = await startBaseline();
  const browser: Browser = await launchBrowser();
  try {
    const secretary = await server.login('secretary');
    const items = (await secretary.get('/api/meetings/1/agenda')).body.items as { id: number }[];
    const up = await upload(secretary, 1, items[1].id, pdf(PACK), PACK, { title: 'Bộ tài liệu phiên họp' });
    if (up.status !== 201) throw new Error(`upload: ${up.status}`);
    const docId = up.body.id as number;
    const size = pdf(PACK).length;
    console.log(`pack: ${PACK}, ${size} bytes, ${up.body.current.pageCount} pages, document ${docId}`);

    /** Ours: member1 in the meeting pack taps the document; until page 1 is painted. */
    const ours = async (throttle: boolean) => {
      const context: BrowserContext = await browser.newContext({ baseURL: server.url, viewport: { width: 1024, height: 768 } });
      const page = await context.newPage();
      await login(page, 'member1');
      await page.goto('/meetings/1/documents');
      const link = page.locator(`ec-meeting-pack-view li.doc[data-document="${docId}"] a.open`);
      await link.waitFor();
      const counter = await byteCounter(page, (u) => u.includes(`/api/documents/${docId}/file`), throttle);
      const t0 = performance.now();
      await link.click();
      await page.locator('ec-pdf-viewer .pg[data-page="1"][data-rendered="true"]').waitFor({ timeout: 60_000 });
      const ms = performance.now() - t0;
      const bytes = counter.bytes();
      await context.close();
      return { ms, bytes };
    };
    /** Ours, cold: a full page load of /documents/:id (shell, session check, viewer). */
    const oursFullLoad = async () => {
      const context = await browser.newContext({ baseURL: server.url, viewport: { width: 1024, height: 768 } });
      const page = await context.newPage();
      await login(page, 'member1');
      const t0 = performance.now();
      await page.goto(`/documents/${docId}`);
      await page.locator('ec-pdf-viewer .pg[data-page="1"][data-rendered="true"]').waitFor({ timeout: 60_000 });
      const ms = performance.now() - t0;
      await context.close();
      return ms;
    };
    const bare = async (throttle: boolean) => {
      const context = await browser.newContext({ viewport: { width: 1024, height: 768 } });
      const page = await context.newPage();
      const counter = await byteCounter(page, (u) => u.includes(`/files/${PACK}`), throttle);
      const t0 = performance.now();
      await page.goto(baseline.url + '/');
      await page.locator('body[data-rendered="true"]').waitFor({ timeout: 60_000 });
      const ms = performance.now() - t0;
      const bytes = counter.bytes();
      await context.close();
      return { ms, bytes };
    };

    // Warm-up (JIT, disk cache of the OS), not counted.
    await ours(false);
    await bare(false);
    const oursMs: number[] = [];
    const bareMs: number[] = [];
    const fullMs: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      oursMs.push((await ours(false)).ms);
      bareMs.push((await bare(false)).ms);
      fullMs.push(await oursFullLoad());
    }
    console.log(`(a) page 1 painted, ms — ours (tap in pack): ${oursMs.map((x) => round(x, 0)).join(', ')}; bare pdf.js: ${bareMs.map((x) => round(x, 0)).join(', ')}; ours full page load: ${fullMs.map((x) => round(x, 0)).join(', ')}`);

    const oursBytes: number[] = [];
    const bareBytes: number[] = [];
    const oursThrottledMs: number[] = [];
    const bareThrottledMs: number[] = [];
    for (let i = 0; i < BYTE_RUNS; i++) {
      const o = await ours(true);
      const b = await bare(true);
      oursBytes.push(o.bytes);
      bareBytes.push(b.bytes);
      oursThrottledMs.push(o.ms);
      bareThrottledMs.push(b.ms);
    }
    console.log(`(b) at 20 Mbit/s, PDF bytes before page 1 — ours: ${oursBytes.join(', ')}; bare: ${bareBytes.join(', ')} (file ${size}); ms ours ${oursThrottledMs.map((x) => round(x, 0)).join(', ')}, bare ${bareThrottledMs.map((x) => round(x, 0)).join(', ')}`);

    // (c) 100 concurrent whole-file downloads.
    const member = await server.login('member1');
    const download = async (url: string, headers: Record<string, string>) => {
      const t0 = performance.now();
      const sizes = await Promise.all(
        Array.from({ length: 100 }, async () => {
          const r = await fetch(url, { headers });
          if (r.status !== 200) throw new Error(`download ${url}: ${r.status}`);
          return (await r.arrayBuffer()).byteLength;
        }),
      );
      const s = (performance.now() - t0) / 1000;
      return sizes.reduce((a, b) => a + b, 0) / s / 1e6;
    };
    const oursMBs: number[] = [];
    const staticMBs: number[] = [];
    await download(`${server.url}/api/documents/${docId}/file`, { cookie: member.cookie });
    await download(`${baseline.url}/files/${PACK}`, {});
    for (let i = 0; i < 3; i++) {
      oursMBs.push(await download(`${server.url}/api/documents/${docId}/file`, { cookie: member.cookie }));
      staticMBs.push(await download(`${baseline.url}/files/${PACK}`, {}));
    }
    console.log(`(c) 100 concurrent downloads, MB/s — ours: ${oursMBs.map((x) => round(x, 1)).join(', ')}; express.static: ${staticMBs.map((x) => round(x, 1)).join(', ')}`);
    const wmT0 = performance.now();
    const wm = await member.get(`/api/documents/${docId}/download`);
    console.log(`    (one watermarked download of the pack, pdf-lib in the worker: ${round(performance.now() - wmT0, 0)} ms, status ${wm.status})`);

    // (d) 2,000 indexed documents.
    const seeds = fs
      .readdirSync(path.resolve(PDFS, '../seeds'))
      .map((f) => fs.readFileSync(path.resolve(PDFS, '../seeds', f), 'utf8'));
    const paragraphs = seeds.flatMap((s) => s.split(/\n+/).filter((p) => p.trim().length > 80));
    const rand = mulberry32(42);
    const t0 = performance.now();
    await server.store.tx(async (q) => {
      for (let i = 0; i < 2000; i++) {
        const [doc] = await q
          .insert(documents)
          .values({ meetingId: 1, agendaItemId: items[i % items.length].id, title: `Tài liệu số ${i + 1}`, position: 1000 + i, access: i % 10 === 0 ? 'named' : 'all' })
          .returning({ id: documents.id });
        await replaceIndexed(
          server.store,
          'document',
          doc.id,
          [1, 2, 3].map((page) => ({
            meetingId: 1,
            page,
            title: `Tài liệu số ${i + 1}`,
            body: Array.from({ length: 4 }, () => paragraphs[Math.floor(rand() * paragraphs.length)]).join('\n'),
          })),
        );
      }
    });
    console.log(`(d) indexed 2,000 documents (6,000 pages) in ${round(performance.now() - t0, 0)} ms`);
    const queries = [
      'chuyen doi so',
      'Chuyển đổi số',
      'cải cách hành chính',
      'dich vu cong truc tuyen',
      'một cửa điện tử',
      'van ban dien tu',
      'Hà Nội',
      'chinh quyen dien tu',
      'phòng họp không giấy',
      'ung dung cong nghe thong tin',
      'Sở Nội vụ',
      'ho so',
      'thanh pho',
      'bao cao ket qua',
      'doanh nghiep',
    ];
    // The long synchronous indexing above outlived the keep-alive of pooled connections: one
    // untimed request (retried once) opens a fresh one before timing.
    await member.get('/api/search?q=warmup').catch(() => member.get('/api/search?q=warmup'));
    const lat: number[] = [];
    let hits = 0;
    for (let i = 0; i < QUERIES; i++) {
      const q = queries[i % queries.length];
      const s0 = performance.now();
      const r = await member.get(`/api/search?q=${encodeURIComponent(q)}&limit=20`);
      lat.push(performance.now() - s0);
      if (r.status !== 200) throw new Error(`search ${q}: ${r.status}`);
      hits += r.body.hits.length;
    }
    console.log(`    ${QUERIES} queries: p50 ${round(pct(lat, 50))} ms, p95 ${round(pct(lat, 95))} ms, max ${round(Math.max(...lat))} ms, ${round(hits / QUERIES, 1)} hits per query`);

    const first = median(oursMs);
    const base = median(bareMs);
    console.log(
      JSON.stringify({
        first_page_ms: round(first, 0),
        baseline_first_page_ms: round(base, 0),
        first_page_ratio: round(first / base),
        bytes_before_first_page_ratio: round(median(oursBytes) / median(bareBytes)),
        download_throughput_ratio: round(median(oursMBs) / median(staticMBs)),
        search_p95_ms: round(pct(lat, 95)),
      }),
    );
  } finally {
    await browser.close();
    await baseline.close();
    await server.close();
  }
}

await main();
// Keep-alive sockets of the throttled baseline server and pdf.js worker threads can hold the
// event loop open after the summary; the run is over.
process.exit(0);
