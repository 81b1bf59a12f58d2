/**
 * Meetings available offline on this device (docs/OFFLINE.md).
 *
 * The server decides what a device may keep: `GET /api/meetings/:id/offline` lists the exact URLs to
 * store (meeting, agenda, pack, and per document its info, file and page texts) and the documents left
 * out (view-only confidential ones). This service fetches them into one Cache Storage cache, which the
 * service worker (client/sw.ts) answers from when the network is gone, and pre-syncs the member's own
 * and the meeting's shared annotation layers into IndexedDB. A meeting is marked ready only after every
 * resource is stored, so a full quota stops with a message instead of a half pack that claims to be ready.
 *
 * At every contact (`sync()`: app start, back online, every few minutes) the manifests are asked again:
 * a meeting no longer visible is deleted, a document no longer listed is deleted, a new version replaces
 * the old copy (and says so). Logout and a revoked device delete everything (`wipeOfflineData`).
 */
import type { Me } from '../../shared/protocol/auth.js';
import { ANNOTATION_COLORS } from '../../shared/protocol/annotations.js';
import type { MeetingList } from './types.js';
import type { OfflineManifest } from '../../shared/protocol/offline.js';
import { DEVICE_HEADER } from '../../shared/protocol/offline.js';
import { ApiError, type Api } from './api.js';
import { clearMeetingAnnotations, clearOfflineAnnotations, DocumentAnnotations } from './annotations.js';
import { MEETING_REVOKED } from './socket.js';
import { deviceToken, OFFLINE_CACHE } from './offline-cache.js';

/** What is on this device for one meeting (localStorage, written when the download completed). */
export interface OfflineRecord {
  meetingId: number;
  userId: number;
  title: string;
  startsAt: string;
  readyAt: string;
  /** Bytes stored for this meeting. */
  bytes: number;
  /** Document id → version id stored. */
  docs: Record<string, number>;
  /** Titles of documents the member may not keep (view-only confidential). */
  excluded: string[];
  urls: string[];
}

export type OfflineStatus =
  | { state: 'none' }
  | { state: 'downloading'; done: number; total: number }
  | { state: 'ready'; record: OfflineRecord }
  | { state: 'error'; reason: 'quota' | 'network' | 'failed'; record?: OfflineRecord };

const RECORDS_KEY = 'ec-offline-meetings';
const AUTO_KEY = 'ec-offline-auto';
/** Meetings starting within this many days are made available automatically (when enabled). */
export const AUTO_DAYS = 3;
/** URLs every offline meeting needs besides its own: who am I, and the meeting list. */
const COMMON_URLS = ['/api/auth/me', '/api/meetings?scope=upcoming', '/api/meetings?scope=live'];

function readRecords(): Record<string, OfflineRecord> {
  try {
    return JSON.parse(localStorage.getItem(RECORDS_KEY) ?? '{}') as Record<string, OfflineRecord>;
  } catch {
    return {};
  }
}
function writeRecords(r: Record<string, OfflineRecord>): void {
  localStorage.setItem(RECORDS_KEY, JSON.stringify(r));
}

class QuotaError extends Error {}

/**
 * The one offline store of the app (module singleton: the meeting list, the pack view and the shell
 * share it). Emits `change` (detail: meetingId or null) and `updated` (detail: document titles whose
 * offline copy was replaced by a newer version).
 */
export class OfflineStore extends EventTarget {
  #progress = new Map<number, { done: number; total: number }>();
  #errors = new Map<number, 'quota' | 'network' | 'failed'>();
  #running = new Map<number, Promise<void>>();
  #api: Api | null = null;
  #me: Me | null = null;

  /** Binds the store to the signed-in user; a different user than the data's owner wipes it first. */
  async bind(api: Api, me: Me): Promise<void> {
    this.#api = api;
    this.#me = me;
    const foreign = Object.values(readRecords()).some((r) => r.userId !== me.id);
    if (foreign) await wipeOfflineData();
    // Who am I and my meeting lists: with these the app opens with no network after one visit.
    try {
      const cache = await caches.open(OFFLINE_CACHE);
      for (const url of COMMON_URLS) await this.#store(cache, url, () => undefined);
    } catch {
      /* offline or storage refused: the next contact tries again */
    }
  }

  get autoDownload(): boolean {
    return localStorage.getItem(AUTO_KEY) !== 'off';
  }
  set autoDownload(on: boolean) {
    localStorage.setItem(AUTO_KEY, on ? 'on' : 'off');
    this.#emit(null);
  }

  status(meetingId: number): OfflineStatus {
    const p = this.#progress.get(meetingId);
    if (p) return { state: 'downloading', ...p };
    const record = readRecords()[meetingId];
    const err = this.#errors.get(meetingId);
    if (err) return { state: 'error', reason: err, record };
    return record ? { state: 'ready', record } : { state: 'none' };
  }

  records(): OfflineRecord[] {
    return Object.values(readRecords());
  }

  /** Downloads (or refreshes) a meeting for offline reading. Resolves when it is ready or failed. */
  makeAvailable(meetingId: number): Promise<void> {
    const running = this.#running.get(meetingId);
    if (running) return running;
    const p = this.#download(meetingId).finally(() => this.#running.delete(meetingId));
    this.#running.set(meetingId, p);
    return p;
  }

  /** Deletes a meeting's offline copy. */
  async remove(meetingId: number): Promise<void> {
    const records = readRecords();
    const r = records[meetingId];
    delete records[meetingId];
    writeRecords(records);
    this.#errors.delete(meetingId);
    if (r) await this.#deleteUrls(r.urls, records);
    this.#emit(meetingId);
  }

  /**
   * Reconciles the device with what the server allows now: removed meetings and documents are
   * deleted, new versions downloaded; then (if enabled) meetings of the next days are made available.
   * Network failures leave everything as it is (the tablet is offline: keep reading).
   */
  async sync(): Promise<void> {
    if (!this.#api || !this.#me) return;
    const updated: string[] = [];
    for (const r of this.records()) {
      let m: OfflineManifest;
      try {
        m = await this.#api.get<OfflineManifest>(`/api/meetings/${r.meetingId}/offline`);
      } catch (e) {
        if (e instanceof ApiError && (e.status === 404 || e.status === 403)) await this.remove(r.meetingId);
        continue;
      }
      const changed = m.documents.filter((d) => d.offline && r.docs[d.documentId] !== undefined && r.docs[d.documentId] !== d.versionId);
      const wanted = new Set(m.resources.map((x) => x.url));
      const gone = r.urls.filter((u) => !wanted.has(u) && !COMMON_URLS.includes(u));
      const added = m.documents.some((d) => d.offline && r.docs[d.documentId] === undefined);
      if (gone.length || changed.length || added) {
        await this.#download(r.meetingId, m);
        updated.push(...changed.map((d) => d.title));
      }
    }
    if (updated.length) this.dispatchEvent(new CustomEvent('updated', { detail: updated }));
    if (this.autoDownload) await this.#autoDownload();
  }

  async #autoDownload(): Promise<void> {
    let list: MeetingList;
    try {
      list = await this.#api!.get<MeetingList>('/api/meetings', { scope: 'upcoming' });
    } catch {
      return;
    }
    const horizon = Date.now() + AUTO_DAYS * 86_400_000;
    for (const m of list.meetings) {
      if (Date.parse(m.startsAt) > horizon || readRecords()[m.id] || this.#errors.has(m.id)) continue;
      await this.makeAvailable(m.id);
    }
  }

  async #download(meetingId: number, known?: OfflineManifest): Promise<void> {
    const api = this.#api;
    const me = this.#me;
    if (!api || !me) return;
    this.#errors.delete(meetingId);
    this.#progress.set(meetingId, { done: 0, total: 1 });
    this.#emit(meetingId);
    const records = readRecords();
    const previous = records[meetingId];
    const stored: string[] = [];
    try {
      const manifest = known ?? (await api.get<OfflineManifest>(`/api/meetings/${meetingId}/offline`));
      const resources = [...COMMON_URLS.map((url) => ({ url, bytes: null })), ...manifest.resources];
      const total = resources.reduce((s, r) => s + (r.bytes ?? 4_096), 0);
      this.#progress.set(meetingId, { done: 0, total });
      await this.#checkQuota(total);
      void navigator.storage?.persist?.();
      const cache = await caches.open(OFFLINE_CACHE);
      let done = 0;
      let bytes = 0;
      for (const r of resources) {
        const size = await this.#store(cache, r.url, (n) => {
          this.#progress.set(meetingId, { done: done + n, total: Math.max(total, done + n) });
          this.#emit(meetingId);
        });
        stored.push(r.url);
        done += r.bytes ?? 4_096;
        bytes += size;
        this.#progress.set(meetingId, { done, total });
        this.#emit(meetingId);
      }
      const offlineDocs = manifest.documents.filter((d) => d.offline);
      await this.#presyncAnnotations(meetingId, offlineDocs.map((d) => d.documentId), me);
      const fresh = readRecords();
      fresh[meetingId] = {
        meetingId,
        userId: me.id,
        title: manifest.title,
        startsAt: manifest.startsAt,
        readyAt: new Date().toISOString(),
        bytes,
        docs: Object.fromEntries(offlineDocs.map((d) => [String(d.documentId), d.versionId])),
        excluded: manifest.documents.filter((d) => !d.offline).map((d) => d.title),
        urls: manifest.resources.map((r) => r.url),
      };
      writeRecords(fresh);
      // Copies of documents no longer listed (access lost, document removed): deleted now.
      if (previous) await this.#deleteUrls(previous.urls.filter((u) => !fresh[meetingId].urls.includes(u)), fresh);
    } catch (e) {
      const reason = e instanceof QuotaError || (e instanceof DOMException && e.name === 'QuotaExceededError') ? 'quota' : e instanceof ApiError && e.status === 0 ? 'network' : 'failed';
      if (e instanceof ApiError && (e.status === 404 || e.status === 403)) {
        this.#progress.delete(meetingId);
        await this.remove(meetingId);
        return;
      }
      // Never a half pack that claims to be ready: what this attempt stored goes, unless an earlier
      // complete copy still uses it.
      if (!previous) await this.#deleteUrls(stored.filter((u) => !COMMON_URLS.includes(u)), readRecords());
      this.#errors.set(meetingId, reason);
    } finally {
      this.#progress.delete(meetingId);
      this.#emit(meetingId);
    }
  }

  async #checkQuota(needed: number): Promise<void> {
    const est = await navigator.storage?.estimate?.();
    if (est?.quota !== undefined && est.usage !== undefined && est.quota - est.usage < needed * 1.1) {
      throw new QuotaError('Not enough storage on this device');
    }
  }

  /** Fetches one URL and stores the whole response; returns the bytes stored. */
  async #store(cache: Cache, url: string, progress: (n: number) => void): Promise<number> {
    const headers: Record<string, string> = { accept: 'application/json' };
    const device = deviceToken();
    if (device) headers[DEVICE_HEADER] = device;
    let res: Response;
    try {
      res = await fetch(url, { credentials: 'same-origin', headers, cache: 'no-store' });
    } catch {
      throw new ApiError(0, 'network', 'Network error');
    }
    if (!res.ok) throw new ApiError(res.status, res.status === 404 ? 'not_found' : 'internal', `${url}: HTTP ${res.status}`);
    const reader = res.body!.getReader();
    const chunks: Uint8Array[] = [];
    let n = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      n += value.byteLength;
      progress(n);
    }
    const keep = new Headers();
    for (const h of ['content-type', 'etag', 'last-modified', 'content-disposition']) {
      const v = res.headers.get(h);
      if (v) keep.set(h, v);
    }
    keep.set('x-ec-offline', new Date().toISOString());
    await cache.put(url, new Response(new Blob(chunks as BlobPart[]), { status: 200, headers: keep }));
    return n;
  }

  /** Opens each document's annotation layers once so their current state is in IndexedDB. */
  async #presyncAnnotations(meetingId: number, documentIds: number[], me: Me): Promise<void> {
    const color = ANNOTATION_COLORS[me.id % ANNOTATION_COLORS.length];
    for (const id of documentIds) {
      const a = new DocumentAnnotations(id, meetingId, { userId: me.id, name: me.fullName, color });
      const synced = (l: typeof a.own) => l.provider.synced || l.state === 'refused';
      await new Promise<void>((resolve) => {
        const done = () => {
          if (synced(a.own) && synced(a.shared)) finish();
        };
        const timer = setTimeout(() => finish(), 10_000);
        const finish = () => {
          clearTimeout(timer);
          a.own.provider.off('sync', done);
          a.shared.provider.off('sync', done);
          resolve();
        };
        a.own.provider.on('sync', done);
        a.shared.provider.on('sync', done);
        done();
      });
      // Let y-indexeddb write the synced state before closing.
      await Promise.all([a.own.idb.whenSynced, a.shared.idb.whenSynced]);
      a.destroy();
    }
  }

  /** Deletes cached URLs that no other offline meeting still lists. */
  async #deleteUrls(urls: string[], remaining: Record<string, OfflineRecord>): Promise<void> {
    const used = new Set(Object.values(remaining).flatMap((r) => r.urls));
    const cache = await caches.open(OFFLINE_CACHE);
    await Promise.all(urls.filter((u) => !used.has(u)).map((u) => cache.delete(u)));
  }

  #emit(meetingId: number | null): void {
    this.dispatchEvent(new CustomEvent('change', { detail: meetingId }));
  }
}

export const offlineStore = new OfflineStore();

/**
 * Deletes every offline copy on this device: the offline cache, the records, and every IndexedDB
 * database of the app (annotation layers of every user). Logout, a revoked device, or a different user
 * signing in on a shared tablet.
 */
export async function wipeOfflineData(): Promise<void> {
  localStorage.removeItem(RECORDS_KEY);
  if (typeof caches !== 'undefined') await caches.delete(OFFLINE_CACHE);
  await clearOfflineAnnotations();
  offlineStore.dispatchEvent(new CustomEvent('change', { detail: null }));
}

let started: { userId: number } | null = null;
/** Delay of the first reconcile after sign-in or app start. */
const SYNC_DELAY_MS = 3_000;
let timer: ReturnType<typeof setInterval> | null = null;

// Installed when the app loads, before anyone is signed in: the very first request of a revoked device
// (the app's /api/auth/me at start) already answers device_revoked.
if (typeof window !== 'undefined') {
  window.addEventListener('ec-logout', () => {
    started = null;
    void wipeOfflineData();
  });
  window.addEventListener('ec-device-revoked', () => {
    started = null;
    void wipeOfflineData();
  });
  // Access to one meeting revoked by the server: its offline copy and its annotation layers go at once.
  window.addEventListener(MEETING_REVOKED, (e) => void dropOfflineMeeting((e as CustomEvent<{ meetingId: number }>).detail.meetingId));
}

/**
 * Deletes everything this device keeps of one meeting: its offline copy (cached responses no other
 * offline meeting lists, and the record) and its annotation layers in IndexedDB.
 */
export async function dropOfflineMeeting(meetingId: number): Promise<void> {
  const record = offlineStore.records().find((r) => r.meetingId === meetingId);
  await offlineStore.remove(meetingId);
  await clearMeetingAnnotations(meetingId, Object.keys(record?.docs ?? {}).map(Number));
}

/**
 * Starts the offline lifecycle for the signed-in user (called by the app shell once `me` is known):
 * binds the store, reconciles now, again whenever the connection comes back and every five minutes;
 * wipes everything on logout and when the server says this device was revoked.
 */
export function startOffline(api: Api, me: Me): void {
  if (typeof caches === 'undefined') return;
  if (!timer) {
    window.addEventListener('online', () => void offlineStore.sync());
    timer = setInterval(() => void offlineStore.sync(), 5 * 60_000);
  }
  if (started?.userId === me.id) return;
  started = { userId: me.id };
  // The first reconcile waits a little: the member's first screens come before background downloads
  // on a weak Wi-Fi.
  void offlineStore.bind(api, me).then(() => setTimeout(() => void offlineStore.sync(), SYNC_DELAY_MS));
}
