import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { itemNotesDocName } from '../../shared/protocol/yjs.js';
import { buildMeetingOn } from '../helpers/factories.js';
import { DEMO_PASSWORD, HttpClient, until } from '../helpers/server.js';
import { type TestProvider, openProvider } from '../helpers/yjs.js';

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ecabinet-yjs-crash-'));
let child: ChildProcess | null = null;
const providers: TestProvider[] = [];

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** Starts `node --import tsx server/main.ts` as a child process on a fixed port and data dir. */
async function startChild(port: number): Promise<void> {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
    env: { ...process.env, NODE_ENV: 'test', ECABINET_DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', ECABINET_DEMO_PASSWORD: DEMO_PASSWORD, ECABINET_SEED: 'admin' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  child = proc;
  await until(
    async () => {
      if (proc.exitCode !== null) throw new Error(`server exited with ${proc.exitCode}`);
      try {
        return (await fetch(`http://127.0.0.1:${port}/healthz`)).ok;
      } catch {
        return false;
      }
    },
    { timeout: 90_000, interval: 100, what: 'child server up' },
  );
}

function kill9(): Promise<void> {
  const proc = child!;
  child = null;
  return new Promise((resolve) => {
    proc.once('exit', () => resolve());
    proc.kill('SIGKILL');
  });
}

/** The notes text as rebuilt from the stored rows alone (what a restarted server will load). */
function storedText(name: string): string {
  const db = new Database(path.join(dataDir, 'ecabinet.sqlite'));
  try {
    const rows = db.prepare('select data from yjs_updates where doc_name = ? order by id').all(name) as { data: Buffer }[];
    const doc = new Y.Doc();
    for (const r of rows) Y.applyUpdate(doc, r.data);
    return doc.getText('t').toString();
  } finally {
    db.close();
  }
}

afterAll(async () => {
  for (const p of providers) p.destroy();
  if (child) await kill9();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('Yjs hub: kill -9 of the server', () => {
  it('keeps every acknowledged note after kill -9, and providers reconnect by themselves and converge', { timeout: 240_000 }, async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    await startChild(port);
    const login = async (u: string, password = DEMO_PASSWORD) => {
      const c = new HttpClient(url);
      const r = await c.post('/api/auth/login', { username: u, password });
      expect(r.status).toBe(200);
      return c;
    };
    const m = await buildMeetingOn({ login }, { members: 1, agendaItems: 1 });
    const [secretary, member] = await Promise.all([m.as('secretary'), m.as('member', 0)]);
    const name = itemNotesDocName(m.meetingId, m.itemIds[0]);

    const writer = openProvider(url, name, secretary.cookie, { maxBackoffTime: 300 });
    const observer = openProvider(url, name, member.cookie, { maxBackoffTime: 300 });
    providers.push(writer, observer);
    await until(() => writer.provider.synced && observer.provider.synced, { what: 'synced' });

    // Acknowledged: what another client has received (the hub broadcasts only committed updates).
    for (let i = 0; i < 60; i++) writer.text.insert(writer.text.length, `Dòng ${i}. `);
    await until(() => observer.text.toString() === writer.text.toString(), { what: 'observer caught up' });
    const acknowledged = observer.text.toString();
    // A burst still in flight when the process dies: part of it may be committed, none of it acknowledged.
    for (let i = 0; i < 30; i++) writer.text.insert(writer.text.length, `+${i}`);
    await kill9();

    const stored = storedText(name);
    expect(stored.startsWith(acknowledged)).toBe(true);
    expect(writer.text.toString().startsWith(stored)).toBe(true);

    await startChild(port);
    // Nobody calls connect(): the stock providers come back on their own and re-sync.
    await until(() => writer.provider.wsconnected && observer.provider.wsconnected && observer.provider.synced, {
      timeout: 20_000,
      what: 'providers reconnected',
    });
    await until(() => observer.text.toString() === writer.text.toString(), { what: 'converged after restart' });
    expect(observer.text.toString().startsWith(acknowledged)).toBe(true);
    expect(observer.text.toString().endsWith('+29')).toBe(true);

    writer.text.insert(0, 'Sau khởi động lại: ');
    await until(() => observer.text.toString().startsWith('Sau khởi động lại: '), { what: 'live after restart' });
  });
});
