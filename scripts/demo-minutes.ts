/**
 * npm run demo:minutes -- <out.pdf>
 * Runs a short scripted demo meeting (attendance with an absence and a proxy, speakers, a vote, a
 * conclusion and a task) against a FRESH database in a temporary directory, finalizes its minutes,
 * has the demo chair and secretary sign them (demo certificates, PIN 123456) and writes the signed
 * PDF to <out.pdf>. Check it with `pdfsig <out.pdf>`. The demo CA is written to <out.pdf>.ca.pem.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { eq } from 'drizzle-orm';
import { loadConfig } from '../server/config.js';
import { users } from '../server/db/tables.js';
import { createLogger } from '../server/log.js';
import { runDemoMeeting } from '../server/minutes/minutes.demo.js';
import { finalizeMinutes, signMinutes } from '../server/minutes/minutes.service.js';
import { startServer } from '../server/server.js';
import { DEMO_SIGNING_PIN, demoCaPem } from '../server/signing/keystore.js';

const out = process.argv[2];
if (!out) {
  console.error('usage: npm run demo:minutes -- <out.pdf>');
  process.exit(2);
}
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ecabinet-demo-minutes-'));
const config = loadConfig({ ...process.env, NODE_ENV: 'development', ECABINET_DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', ECABINET_SEED: 'auto', LOG_LEVEL: 'warn' });
const server = await startServer(config, createLogger('warn'));
try {
  const { ctx } = server.app;
  const user = async (username: string) => {
    const [u] = await ctx.store.q.select().from(users).where(eq(users.username, username));
    return { id: u.id, username: u.username, fullName: u.fullName, title: u.title, unit: u.unit, systemRole: u.systemRole, locale: u.locale };
  };
  const meetingId = 1; // the seeded demo meeting
  await runDemoMeeting(ctx, meetingId);
  const v = await finalizeMinutes(ctx, await user('secretary'), meetingId);
  await signMinutes(ctx, await user('chair'), meetingId, v.version, DEMO_SIGNING_PIN, v.contentHash);
  const signed = await signMinutes(ctx, await user('secretary'), meetingId, v.version, DEMO_SIGNING_PIN, v.contentHash);
  fs.mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
  fs.writeFileSync(out, signed.pdf);
  fs.writeFileSync(`${out}.ca.pem`, await demoCaPem(ctx));
  console.log(`wrote ${out} (${signed.pdf.length} bytes): minutes ${v.number}, version ${v.version}, signed by the demo chair and secretary`);
  console.log(`check with: pdfsig ${out}   (demo CA certificate: ${out}.ca.pem)`);
} finally {
  await server.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
}
