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
  const config = loadConfig({ NODE_ENV: 'test', DATABASE_URL: process.env.DATABASE_URL ?? '', ECABINET_DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', ECABINET_DEMO_PASSWORD: 'ecabinet-demo' });
  const running = await startServer(config, createLogger('silent'));
  const { store } = running;
  const t = await import('../../server/db/tables.js');
  const { and, asc, eq, isNull } = await import('drizzle-orm');
  const sha256 = (s: string) => crypto.createHash('sha256').update(s).digest('hex');
  const expires = new Date(Date.now() + 6 * 3600_000).toISOString();
  const now = new Date().toISOString();
  const [chair] = await store.q.select({ id: t.users.id, hash: t.users.passwordHash }).from(t.users).where(eq(t.users.username, 'chair'));
  const cookies: string[] = [];
  let chairCookie = '';
  // Written through the store (either database, DATABASE_URL for PostgreSQL): one transaction, rows in batches.
  await store.tx(async (q) => {
    await q.update(t.meetings).set({ status: 'live' }).where(eq(t.meetings.id, 1));
    const sessions: (typeof t.sessions.$inferInsert)[] = [];
    const session = (userId: number) => {
      const token = crypto.randomBytes(32).toString('base64url');
      sessions.push({ tokenHash: sha256(token), userId, expiresAt: expires });
      return `ec_sid=${token}`;
    };
    chairCookie = session(chair.id);
    for (let i = 0; i < clients; i += 500) {
      const rows = await q
        .insert(t.users)
        .values(Array.from({ length: Math.min(500, clients - i) }, (_, k) => ({ username: `live${i + k}`, passwordHash: chair.hash, fullName: `Đại biểu ${i + k + 1}` })))
        .returning({ id: t.users.id });
      await q.insert(t.meetingParticipants).values(rows.map((r) => ({ meetingId: 1, userId: r.id, role: 'member' as const, canVote: true, invitedAt: now })));
      for (const r of rows) cookies.push(session(r.id));
    }
    for (let i = 0; i < sessions.length; i += 500) await q.insert(t.sessions).values(sessions.slice(i, i + 500));
  });
  const itemIds = (
    await store.q
      .select({ id: t.agendaItems.id })
      .from(t.agendaItems)
      .where(and(eq(t.agendaItems.meetingId, 1), isNull(t.agendaItems.parentId)))
      .orderBy(asc(t.agendaItems.position))
  )
    .map((r) => r.id)
    .slice(0, 2);
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
