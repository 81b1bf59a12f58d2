/**
 * `npm run bench -- offline`: a meeting made available offline on a tablet (issue: tablets that keep
 * working when the Wi-Fi drops), measured against side-by-side anchors in the same run.
 *
 * The demo meeting gets the 451-page pack and the five seed articles (as the secretary would upload
 * them). Chromium reaches the server through a byte-counting relay (test/helpers/net-switch.ts), which
 * can also cut the network.
 * (a) Bytes: member1 taps "download for offline reading" on the meeting pack: every byte the server
 *     sends until the meeting is marked ready (meeting, agenda, pack, per document its info, file and
 *     page texts, the annotation layers' sync) against downloading each raw PDF once (a plain GET of
 *     each file) through the same relay. Target: ratio ≤ 1.2.
 * (b) Time until the meeting is marked ready (`offline_ready_ms`), median of runs (fresh context each).
 * (c) Cold start of the app from the service worker: a new tab of the same installed profile until the
 *     meeting list is shown, with the network cut (`cold_start_offline_ms`) and with it on
 *     (`cold_start_online_ms`), median of runs.
 *
 * Last line: { offline_bytes, raw_pdf_bytes, offline_bytes_ratio, offline_ready_ms, cold_start_offline_ms,
 * cold_start_online_ms }. Options: --runs 3 --starts 5
 */
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, login } from '../test/helpers/browser.js';
import { netSwitch } from '../test/helpers/net-switch.js';
import { startTestServer } from '../test/helpers/server.js';
import { pdf, upload } from '../test/integration/documents-helpers.js';

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const RUNS = arg('runs', 3);
const STARTS = arg('starts', 5);
const FILES = ['board-pack-large.pdf', 'seed-0.pdf', 'seed-1.pdf', 'seed-2.pdf', 'seed-3.pdf', 'seed-4.pdf'];
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

const urls: string[] = [];
const server = await startTestServer(process.env.BENCH_LOG_URLS ? { seed: 'demo', logLevel: 'debug', logTo: { write: (l: string) => { const m = /"url":"([^"]+)"/.exec(l); if (m && /request completed/.test(l)) urls.push(m[1]); } } } : { seed: 'demo' });
const wifi = await netSwitch(server.port);
const secretary = await server.login('secretary');
const meetingId = 1;
const items = (await secretary.get(`/api/meetings/${meetingId}/agenda`)).body.items as { id: number }[];
const docIds: number[] = [];
for (const [i, f] of FILES.entries()) {
  const r = await upload(secretary, meetingId, items[i % items.length].id, pdf(f), f);
  if (r.status !== 201) throw new Error(`upload ${f}: ${r.status} ${JSON.stringify(r.body)}`);
  docIds.push(r.body.id);
}
const browser: Browser = await launchBrowser();

async function installedPage(): Promise<Page> {
  const context = await browser.newContext({ baseURL: wifi.url, viewport: { width: 1024, height: 768 }, locale: 'vi-VN', timezoneId: 'Asia/Ho_Chi_Minh' });
  // Measured downloads only: no automatic download of the next days' meetings at sign-in.
  await context.addInitScript(() => localStorage.setItem('ec-offline-auto', 'off'));
  const page = await context.newPage();
  await login(page, 'member1');
  await page.waitForFunction(() => !!navigator.serviceWorker.controller, null, { timeout: 60_000 });
  // Let the sign-in work (account, lists, automatic downloads of the next days' meetings) settle.
  await page.waitForTimeout(2_000);
  await page.evaluate(async () => {
    const c = await caches.open('ec-offline-v1');
    for (const k of await c.keys()) if (!/\/api\/(auth\/me|meetings\?)/.test(k.url)) await c.delete(k);
    localStorage.removeItem('ec-offline-meetings');
  });
  return page;
}

// (a) + (b): the offline download, against the raw PDFs once.
const bytes: number[] = [];
const ready: number[] = [];
const raw: number[] = [];
for (let run = 0; run < RUNS; run++) {
  const page = await installedPage();
  console.error(`run ${run + 1}: installed`);
  console.error(`run ${run + 1}: installed`);
  await page.goto(`/meetings/${meetingId}/documents`);
  await page.locator('ec-meeting-pack-view ec-offline-toggle [data-testid="offline-download"]').waitFor();
  wifi.resetBytes();
  urls.length = 0;
  const t0 = performance.now();
  await page.locator('ec-meeting-pack-view ec-offline-toggle [data-testid="offline-download"]').click();
  await page.locator('ec-meeting-pack-view ec-offline-toggle [data-state="ready"]').waitFor({ timeout: 300_000 });
  ready.push(performance.now() - t0);
  console.error(`run ${run + 1}: ready in ${Math.round(ready.at(-1)!)} ms`);
  console.error(`run ${run + 1}: ready in ${Math.round(ready.at(-1)!)} ms`);
  bytes.push(wifi.bytesDown);
  if (process.env.BENCH_LOG_URLS) console.error('URLS', JSON.stringify(urls.splice(0)));

  wifi.resetBytes();
  await page.evaluate(async (ids) => {
    for (const id of ids) await (await fetch(`/api/documents/${id}/file`, { cache: 'no-store', credentials: 'same-origin' })).arrayBuffer();
  }, docIds);
  raw.push(wifi.bytesDown);
  if (run < RUNS - 1) await page.context().close();
  else {
    // (c) Cold starts of the installed app on this profile: a new tab until the meeting list shows.
    const start = async (offline: boolean) => {
      if (offline) {
        wifi.off();
        await page.context().setOffline(true);
      }
      const tab = await page.context().newPage();
      const t = performance.now();
      await tab.goto(`${wifi.url}/meetings`);
      await tab.locator(`ec-meeting-list-view li[data-meeting-id="${meetingId}"]`).waitFor({ timeout: 60_000 });
      const ms = performance.now() - t;
      await tab.close();
      wifi.on();
      await page.context().setOffline(false);
      return ms;
    };
    const online: number[] = [];
    const offline: number[] = [];
    await start(false);
    for (let i = 0; i < STARTS; i++) {
      online.push(await start(false));
      offline.push(await start(true));
    }
    const result = {
      offline_bytes: median(bytes),
      raw_pdf_bytes: median(raw),
      offline_bytes_ratio: round(median(bytes) / median(raw)),
      offline_ready_ms: Math.round(median(ready)),
      cold_start_offline_ms: Math.round(median(offline)),
      cold_start_online_ms: Math.round(median(online)),
    };
    console.error(`runs: bytes ${bytes.join(', ')}; raw ${raw.join(', ')}; ready ms ${ready.map((x) => Math.round(x)).join(', ')}`);
    console.error(`cold starts ms: online ${online.map(Math.round).join(', ')}; offline ${offline.map(Math.round).join(', ')}`);
    await browser.close();
    await wifi.close();
    await server.close();
    console.log(JSON.stringify(result));
  }
}
