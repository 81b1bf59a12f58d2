/**
 * `npm run bench -- export-flood` — does a flood of heavy exports stall realtime events? (issue 15)
 *
 * One committee with 40 follow-up tasks; a member's socket sends `clock:sync` every 20 ms and times
 * each acknowledgement: first for 3 s with nothing else running (the same-run baseline), then for 6 s
 * while 18 clients request the task board PDF (`GET /api/committees/:id/tasks.pdf`, a `heavy` route:
 * bounded queue, 2 at a time) in a loop. Prints p50 / p95 / max of both, the ratio of the p95s, the
 * acks per second (how many commands the loop could answer) and the PDFs made. Last line: JSON.
 */
import { buildMeeting } from '../test/helpers/factories.js';
import { startTestServer } from '../test/helpers/server.js';
import { connectSocket, connected } from '../test/helpers/socket.js';

const s = await startTestServer({ seed: 'demo' });
const m = await buildMeeting(s, { members: 3, agendaItems: 2 });
const sec = await m.as('secretary');
for (let i = 0; i < 40; i++) await sec.post('/api/tasks', { meetingId: m.meetingId, title: `Nhiệm vụ số ${i} về chuyển đổi số và cải cách hành chính`, owner: { kind: 'user', userId: m.members[i % 3].id }, deadline: new Date(Date.now() + (5 + i) * 86400_000).toISOString() });
const sock = await connected(connectSocket(s.url, await m.as('member', 0), { reconnection: false }));
const acks = async (ms: number) => {
  const out: number[] = [];
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const t0 = performance.now();
    // The helper gives up after 5 s without an acknowledgement: counted as 5 s (a stalled loop).
    await sock.cmd('clock:sync', {}).catch(() => undefined);
    out.push(performance.now() - t0);
    await new Promise((r) => setTimeout(r, 20));
  }
  return out.sort((a, b) => a - b);
};
const q = (d: number[], p: number) => Math.round(d[Math.min(d.length - 1, Math.floor(d.length * p))] * 10) / 10;
// Warm-up, outside the measurement: one export per PDF worker (module loading, font caches,
// WebAssembly start-up), so both phases measure the steady state.
await Promise.all([0, 1].map(() => sec.get(`/api/committees/${m.committeeId}/tasks.pdf`)));
const base = await acks(3000);
let stop = false;
let done = 0;
const t0 = performance.now();
const flood = Promise.all(Array.from({ length: 18 }, async () => { while (!stop) { const r = await sec.get(`/api/committees/${m.committeeId}/tasks.pdf`); if (r.status === 200) done++; } }));
const during = await acks(6000);
stop = true;
await flood;
const summary = (d: number[], seconds: number) => ({ n: d.length, acksPerS: Math.round((d.length / seconds) * 10) / 10, p50Ms: q(d, 0.5), p95Ms: q(d, 0.95), maxMs: q(d, 1) });
console.log(
  JSON.stringify({
    baseline: summary(base, 3),
    duringFlood: summary(during, 6),
    p95Ratio: Math.round((q(during, 0.95) / Math.max(q(base, 0.95), 0.1)) * 10) / 10,
    pdfs: done,
    pdfsPerS: Math.round((done / (performance.now() - t0)) * 10000) / 10,
  }),
);
sock.close();
await s.close();
process.exit(0);
