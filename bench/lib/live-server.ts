/**
 * Child process of the live bench. Argument `live`: the whole E-Cabinet server on a fresh data
 * directory, with CLIENTS bench users created directly in SQLite (users, sessions, participants of
 * the demo meeting 1, which is set live) so hundreds of logins do not dominate the setup.
 * Argument `bare`: a bare Socket.IO server (no auth, no validation, no database) whose `agenda:goto`
 * broadcasts a precomputed payload of a given size to a room — the anchor.
 * IPC: sends { port, meetingId, cookies, chairCookie, itemIds } once listening; answers
 * { heap: true } with { heapUsed } after two forced GCs, and { payloadBytes } (bare) by resizing its payload.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Server } from 'socket.io';

const mode = process.argv[2];
const clients = Number(process.argv[3] ?? 500);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');

const heap = () => {
  gc!();
  gc!();
  return process.memoryUsage().heapUsed;
};

if (mode === 'bare') {
  const server = http.createServer();
  const io = new Server(server, { serveClient: false });
  let payload = '';
  io.on('connection', (socket) => {
    socket.on('meeting:join', (_p: unknown, ack: (a: unknown) => void) => {
      socket.join('meeting:1');
      ack({ ok: true, data: null });
    });
    socket.on('agenda:goto', (_p: unknown, ack: (a: unknown) => void) => {
      io.to('meeting:1').emit('agenda:changed', { data: payload });
      ack({ ok: true, data: null });
    });
  });
  server.listen(0, '127.0.0.1', () => {
    process.send!({ port: (server.address() as { port: number }).port, meetingId: 1, cookies: [], chairCookie: '', itemIds: [1, 2] });
  });
  process.on('message', (m: { heap?: boolean; payloadChars?: number }) => {
    if (m.payloadChars != null) {
      payload = 'x'.repeat(m.payloadChars);
      process.send!({ ok: true });
    }
    if (m.heap) process.send!({ heapUsed: heap() });
  });
  process.on('disconnect', () => process.exit(0));
} else {
  const { loadConfig } = await import('../../server/config.js');
  const { createLogger } = await import('../../server/log.js');
  const { startServer } = await import('../../server/server.js');
  const { hubOptions } = await import('../../server/realtime/hub.js');
  // The chair's 200 changes are sent back to back; the per-socket limit is not what is measured.
  hubOptions.ratePoints = 100_000;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ecabinet-bench-live-'));
  const config = loadConfig({ NODE_ENV: 'test', ECABINET_DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', ECABINET_DEMO_PASSWORD: 'ecabinet-demo' });
  const running = await startServer(config, createLogger('silent'));
  const sqlite = running.db.$client;
  const sha256 = (s: string) => crypto.createHash('sha256').update(s).digest('hex');
  const expires = new Date(Date.now() + 6 * 3600_000).toISOString();
  const now = new Date().toISOString();
  const chairId = sqlite.prepare("SELECT id FROM users WHERE username = 'chair'").pluck().get() as number;
  const hash = sqlite.prepare("SELECT password_hash FROM users WHERE username = 'chair'").pluck().get() as string;
  const cookies: string[] = [];
  let chairCookie = '';
  sqlite.transaction(() => {
    sqlite.prepare("UPDATE meetings SET status = 'live' WHERE id = 1").run();
    const addUser = sqlite.prepare('INSERT INTO users (username, password_hash, full_name) VALUES (?, ?, ?)');
    const addSession = sqlite.prepare('INSERT INTO sessions (token_hash, user_id, expires_at) VALUES (?, ?, ?)');
    const addParticipant = sqlite.prepare("INSERT INTO meeting_participants (meeting_id, user_id, role, can_vote, invited_at) VALUES (1, ?, 'member', 1, ?)");
    const session = (userId: number) => {
      const token = crypto.randomBytes(32).toString('base64url');
      addSession.run(sha256(token), userId, expires);
      return `ec_sid=${token}`;
    };
    chairCookie = session(chairId);
    for (let i = 0; i < clients; i++) {
      const id = Number(addUser.run(`live${i}`, hash, `Đại biểu ${i + 1}`).lastInsertRowid);
      addParticipant.run(id, now);
      cookies.push(session(id));
    }
  })();
  const itemIds = (sqlite.prepare('SELECT id FROM agenda_items WHERE meeting_id = 1 AND parent_id IS NULL ORDER BY position').pluck().all() as number[]).slice(0, 2);
  process.send!({ port: running.port, meetingId: 1, cookies, chairCookie, itemIds });
  process.on('message', (m: { heap?: boolean }) => {
    if (m.heap) process.send!({ heapUsed: heap() });
  });
  process.on('disconnect', () => {
    running.close().finally(() => {
      fs.rmSync(dataDir, { recursive: true, force: true });
      process.exit(0);
    });
  });
}
