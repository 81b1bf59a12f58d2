import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNodes } from '../helpers/cluster.js';
import { buildMeeting } from '../helpers/factories.js';
import { type TestServer, startTestServer, until } from '../helpers/server.js';

const TESTDATA = path.resolve(import.meta.dirname, '../../../shared/testdata');
const pdf = fs.readFileSync(path.join(TESTDATA, 'pdfs', 'seed-0.pdf'));

/**
 * A multipart upload of `pdf` written by hand in two halves: `send()` starts it and writes the first half,
 * `finish()` writes the rest and resolves with the answer.
 */
function slowUpload(s: TestServer, cookie: string, url: string) {
  const head = Buffer.from(`--XBOUNDARY\r\nContent-Disposition: form-data; name="file"; filename="bao-cao.pdf"\r\nContent-Type: application/pdf\r\n\r\n`);
  const tail = Buffer.from('\r\n--XBOUNDARY--\r\n');
  const half = Math.floor(pdf.length / 2);
  let answer!: Promise<{ status: number; body: string }>;
  const req = http.request(s.url + url, {
    method: 'POST',
    headers: { cookie, origin: s.url, 'content-type': 'multipart/form-data; boundary=XBOUNDARY', 'content-length': String(head.length + pdf.length + tail.length) },
  });
  answer = new Promise((resolve, reject) => {
    req.on('response', (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
  });
  req.write(Buffer.concat([head, pdf.subarray(0, half)]));
  return {
    finish() {
      req.end(Buffer.concat([pdf.subarray(half), tail]));
      return answer;
    },
  };
}

describe('the shared file store across nodes (server/files/file-store.ts)', () => {
  let nodes: TestServer[];
  let late: TestServer | null = null;
  beforeAll(async () => {
    nodes = await startNodes(1);
  });
  afterAll(async () => {
    await late?.close();
    await Promise.allSettled(nodes.map((n) => n.close()));
  });

  it("node B's start-up recovery leaves node A's upload in progress alone (it completes), and cleans B's own stale temporary files", async () => {
    const [a] = nodes;
    const tmp = path.join(a.dataDir, 'files', 'tmp');
    const m = await buildMeeting(a, { agendaItems: 1, members: 1 });
    const secretary = await m.as('secretary');
    const url = `/api/meetings/${m.meetingId}/agenda/items/${m.itemIds[0]}/documents`;

    // What a crashed earlier process of node n2 left: a partial upload and an upload that never committed.
    const deadPid = 2 ** 22 + 17;
    const stalePart = path.join(tmp, `${crypto.randomUUID()}.n2+${deadPid}.part`);
    const stalePending = path.join(tmp, `${'ab'.repeat(32)}.${crypto.randomUUID()}.n2+${deadPid}.pending`);
    fs.writeFileSync(stalePart, 'half an upload');
    fs.writeFileSync(stalePending, 'an upload whose rows never committed');
    // Another node's leftovers: one from two days ago (its node is gone for good) and one just written.
    const abandoned = path.join(tmp, `${crypto.randomUUID()}.n9+4242.part`);
    fs.writeFileSync(abandoned, 'abandoned');
    const twoDaysAgo = new Date(Date.now() - 2 * 86400_000);
    fs.utimesSync(abandoned, twoDaysAgo, twoDaysAgo);
    const fresh = path.join(tmp, `${crypto.randomUUID()}.n3+4243.part`);
    fs.writeFileSync(fresh, 'n3 is streaming this');

    // Node A (n1) is receiving an upload: half of it is on disk in A's temporary file.
    const before = new Set(fs.readdirSync(tmp));
    const upload = slowUpload(a, secretary.cookie, url);
    const partOfA = await until(
      () => fs.readdirSync(tmp).find((n) => !before.has(n) && n.endsWith('.part') && fs.statSync(path.join(tmp, n)).size > 0),
      { timeout: 20_000, what: "node A's upload on disk" },
    );

    // Node B starts on the same database and data folder: its recovery runs before it listens.
    late = await startTestServer({ dataDir: a.dataDir, config: { cluster: { nodeId: 'n2' } } });
    expect(fs.existsSync(path.join(tmp, partOfA!))).toBe(true);
    expect(partOfA).toMatch(new RegExp(`\\.n1\\+${process.pid}\\.part$`));
    expect(fs.existsSync(stalePart)).toBe(false);
    expect(fs.existsSync(stalePending)).toBe(false);
    expect(fs.existsSync(abandoned)).toBe(false);
    expect(fs.existsSync(fresh)).toBe(true);

    const done = await upload.finish();
    expect(done.status, done.body).toBe(201);
    const doc = JSON.parse(done.body) as { id: number };
    // Stored once, in the shared folder, and served the same bytes by the other node.
    const viaB = await fetch(`${late.url}/api/documents/${doc.id}/file`, { headers: { cookie: secretary.cookie } });
    expect(viaB.status).toBe(200);
    expect(Buffer.from(await viaB.arrayBuffer()).equals(pdf)).toBe(true);
    expect(fs.readdirSync(tmp).filter((n) => n.startsWith(partOfA!.replace(/\.part$/, '')) || n.includes(`.n1+${process.pid}.`))).toEqual([]);
    fs.rmSync(fresh);
  });

  it("a recovery with several nodes removes a stored file no row refers to and keeps every referenced one", async () => {
    const [a] = nodes;
    const m = await buildMeeting(a, { agendaItems: 1, members: 1 });
    const secretary = await m.as('secretary');
    const form = new FormData();
    form.append('file', new Blob([pdf], { type: 'application/pdf' }), 'quyet-dinh.pdf');
    const up = await fetch(`${a.url}/api/meetings/${m.meetingId}/agenda/items/${m.itemIds[0]}/documents`, { method: 'POST', body: form, headers: { cookie: secretary.cookie, origin: a.url } });
    expect(up.status).toBe(201);
    const sha = crypto.createHash('sha256').update(pdf).digest('hex');
    const orphanBytes = Buffer.from(`no row refers to this ${crypto.randomUUID()}`);
    const orphanSha = crypto.createHash('sha256').update(orphanBytes).digest('hex');
    const orphan = path.join(a.dataDir, 'files', orphanSha.slice(0, 2), orphanSha);
    fs.mkdirSync(path.dirname(orphan), { recursive: true });
    fs.writeFileSync(orphan, orphanBytes);

    await late?.close();
    late = await startTestServer({ dataDir: a.dataDir, config: { cluster: { nodeId: 'n2' } } });
    expect(fs.existsSync(orphan)).toBe(false);
    expect(fs.readFileSync(path.join(a.dataDir, 'files', sha.slice(0, 2), sha)).equals(pdf)).toBe(true);
    expect(fs.readdirSync(path.join(a.dataDir, 'files', 'tmp')).filter((n) => n.endsWith('.orphan'))).toEqual([]);
  });
});
