import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BuiltMeeting, buildMeeting, buildUser } from '../helpers/factories.js';
import { pdfsig } from '../helpers/pdfsig.js';
import { type HttpClient, type TestServer, startTestServer, until } from '../helpers/server.js';
import { type TestSocket, connectSocket, connected, newCommandId } from '../helpers/socket.js';
import { pdf, upload } from './documents-helpers.js';
import { testSql } from '../helpers/sql.js';

const sha256 = (b: Buffer | Uint8Array) => crypto.createHash('sha256').update(b).digest('hex');

/** Downloads a binary response (the test HttpClient reads text). */
async function download(c: HttpClient, url: string): Promise<{ status: number; bytes: Buffer; headers: Headers }> {
  const r = await fetch(c.baseUrl + url, { headers: { cookie: c.cookie } });
  return { status: r.status, bytes: Buffer.from(await r.arrayBuffer()), headers: r.headers };
}

describe('meeting archive', () => {
  let s: TestServer;
  let m: BuiltMeeting;
  let secretary: HttpClient;
  let chairHttp: HttpClient;
  let chair: TestSocket;
  const docs: { bytes: Buffer; name: string }[] = [{ bytes: pdf('alphatrans.pdf'), name: 'to-trinh.pdf' }, { bytes: pdf('annotation-highlight.pdf'), name: 'du-thao.pdf' }];
  let voteId: number;
  /** A confidential document (view-only for the first member): the archive holds its original, and says so in the audit log. */
  let confidential: { id: number; bytes: Buffer };
  const sockets: TestSocket[] = [];

  beforeAll(async () => {
    s = await startTestServer({ seed: 'admin' });
    m = await buildMeeting(s, { members: 2, agendaItems: 2 });
    secretary = await m.as('secretary');
    chairHttp = await m.as('chair');
    for (let i = 0; i < docs.length; i++) {
      const r = await upload(secretary, m.meetingId, m.itemIds[i], docs[i].bytes, docs[i].name);
      expect(r.status, JSON.stringify(r.body)).toBe(201);
    }
    const secret = pdf('seed-4.pdf');
    const c = await upload(secretary, m.meetingId, m.itemIds[0], secret, 'mat.pdf', { title: 'Tài liệu mật', access: 'confidential', viewerIds: String(m.members[0].id) });
    expect(c.status, JSON.stringify(c.body)).toBe(201);
    confidential = { id: c.body.id, bytes: secret };
    chair = await connected(connectSocket(s.url, chairHttp));
    sockets.push(chair);
    expect(await chair.cmd('meeting:join', { meetingId: m.meetingId })).toMatchObject({ ok: true });
    expect(await chair.cmd('meeting:open', { meetingId: m.meetingId, overrideReason: 'Thử lưu trữ' })).toMatchObject({ ok: true });
    for (let i = 0; i < 2; i++) {
      const t = await connected(connectSocket(s.url, await m.as('member', i)));
      sockets.push(t);
      expect(await t.cmd('meeting:join', { meetingId: m.meetingId })).toMatchObject({ ok: true });
      expect(await t.cmd('attendance:check_in', { meetingId: m.meetingId, mode: i === 0 ? 'in_room' : 'remote', commandId: newCommandId() })).toMatchObject({ ok: true });
    }
    const v = await secretary.post(`/api/meetings/${m.meetingId}/votes`, { title: 'Thông qua tờ trình', kind: 'motion', secret: false, majority: 'simple' });
    expect(v.status, JSON.stringify(v.body)).toBe(201);
    voteId = v.body.id;
    expect(await chair.cmd('vote:open', { voteId, commandId: newCommandId() })).toMatchObject({ ok: true });
    for (const t of sockets.slice(1)) expect(await t.cmd('vote:cast', { voteId, choices: [0], commandId: newCommandId() })).toMatchObject({ ok: true });
    expect(await chair.cmd('vote:close', { voteId, commandId: newCommandId() })).toMatchObject({ ok: true });
  });
  afterAll(async () => {
    for (const t of sockets) t.close();
    await s?.close();
  });

  it('only a closed meeting is archived, only by its secretary: the chair, a member and an administrator are refused, a stranger gets not_found', async () => {
    const other = await buildMeeting(s, { members: 1, agendaItems: 1 });
    const sec = await other.as('secretary');
    const open = await sec.post(`/api/meetings/${other.meetingId}/archives`);
    expect(open.status).toBe(409);
    expect(open.body.error.code).toBe('invalid_state');
    for (const c of [await other.as('chair'), await other.as('member', 0), await s.login('admin')]) {
      const r = await c.post(`/api/meetings/${other.meetingId}/archives`);
      expect(r.status).toBe(403);
      expect(r.body.error.code).toBe('forbidden');
    }
    const stranger = await buildUser(s);
    const r = await (await s.login(stranger.username, stranger.password)).post(`/api/meetings/${other.meetingId}/archives`);
    expect(r.status).toBe(404);
    expect((await sec.get(`/api/meetings/${other.meetingId}/archives`)).body.archives).toEqual([]);
  });

  it('a closed meeting exports as one zip: signed minutes, documents as distributed, vote CSV and PDF from the same exporters, attendance, audit entries, and a manifest whose checksums match every file', async () => {
    expect(await chair.cmd('meeting:close', { meetingId: m.meetingId, commandId: newCommandId() })).toMatchObject({ ok: true });
    const v1 = await secretary.post(`/api/meetings/${m.meetingId}/minutes/finalize`);
    expect(v1.status, JSON.stringify(v1.body)).toBe(201);
    for (const c of [chairHttp, secretary]) {
      const signed = await c.post(`/api/meetings/${m.meetingId}/minutes/versions/1/sign`, { pin: '123456', contentHash: v1.body.contentHash });
      expect(signed.status, JSON.stringify(signed.body)).toBe(200);
    }

    const req = await secretary.post(`/api/meetings/${m.meetingId}/archives`);
    expect(req.status, JSON.stringify(req.body)).toBe(202);
    expect(['queued', 'building', 'done']).toContain(req.body.state);
    const id = req.body.id as number;
    const seen: number[] = [];
    const done = await until(
      async () => {
        const r = await secretary.get(`/api/archives/${id}`);
        if (r.body.state === 'building') seen.push(r.body.progress.done / Math.max(1, r.body.progress.total));
        expect(r.body.state).not.toBe('failed');
        return r.body.state === 'done' && r.body;
      },
      { timeout: 25_000, interval: 50, what: 'archive built' },
    );
    // Progress only moves forward.
    expect([...seen].sort((a, b) => a - b)).toEqual(seen);
    // Someone else may not read or download it, even knowing its id.
    for (const c of [chairHttp, await m.as('member', 1)]) {
      expect((await c.get(`/api/archives/${id}`)).status).toBe(403);
      expect((await download(c, `/api/archives/${id}/file`)).status).toBe(403);
    }

    const confidentialAudit = () =>
      testSql(s).all<{ actorId: number; details: string }>(
        `SELECT actor_id AS "actorId", details FROM audit_log WHERE action = 'document.confidential.archive_downloaded' AND target_type = 'document' AND target_id = ?`,
        String(confidential.id),
      );
    expect((await confidentialAudit())).toEqual([]);
    const zip = await download(secretary, `/api/archives/${id}/file`);
    expect(zip.status).toBe(200);
    // The confidential document's original is in the zip: the download is audited on that document too.
    expect((await confidentialAudit()).map((r) => ({ actorId: r.actorId, details: JSON.parse(r.details) }))).toEqual([{ actorId: m.secretary.id, details: { archiveId: id, version: 1 } }]);
    expect(zip.headers.get('content-type')).toBe('application/zip');
    expect(zip.headers.get('content-disposition')).toContain(done.fileName);
    expect(sha256(zip.bytes)).toBe(done.sha256);
    expect(zip.bytes.length).toBe(done.size);

    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ecabinet-archive-'));
    fs.writeFileSync(path.join(dir, 'a.zip'), zip.bytes);
    execFileSync('unzip', ['-q', 'a.zip', '-d', 'x'], { cwd: dir });
    const root = path.join(dir, 'x');
    const read = (p: string) => fs.readFileSync(path.join(root, p));
    const manifest = JSON.parse(read('manifest.json').toString('utf8'));
    expect(manifest).toMatchObject({ format: 'ecabinet-meeting-archive/1', meeting: { id: m.meetingId, status: 'closed' } });
    // Every file of the zip is in the manifest with its checksum, and nothing else is.
    const listed = (manifest.files as { path: string; sha256: string; size: number; kind: string }[]).map((f) => f.path).sort();
    const onDisk = (fs.readdirSync(root, { recursive: true }) as string[]).filter((p) => fs.statSync(path.join(root, p)).isFile()).sort();
    expect(onDisk).toEqual([...listed, 'SHA256SUMS', 'manifest.json'].sort());
    for (const f of manifest.files) {
      expect(sha256(read(f.path)), f.path).toBe(f.sha256);
      expect(read(f.path).length).toBe(f.size);
    }
    // SHA256SUMS checks with the standard tool too (manifest included).
    execFileSync('sha256sum', ['-c', '--quiet', 'SHA256SUMS'], { cwd: root });
    const byKind = (k: string) => manifest.files.filter((f: { kind: string }) => f.kind === k);

    // The minutes as signed by both: pdfsig verifies two signatures.
    const [minutes] = byKind('minutes');
    expect(minutes.path).toMatch(/signed\.pdf$/);
    const sig = pdfsig(read(minutes.path));
    expect(sig.signatures).toHaveLength(2);
    for (const x of sig.signatures) expect(x.validation).toBe('Signature is Valid.');
    // The documents are the uploaded bytes (the confidential one marked as such).
    expect(byKind('document').map((f: { sha256: string }) => f.sha256).sort()).toEqual(docs.map((d) => sha256(d.bytes)).sort());
    expect(byKind('document-confidential').map((f: { sha256: string }) => f.sha256)).toEqual([sha256(confidential.bytes)]);
    // The vote record is what the vote's own export serves.
    const [csv] = byKind('vote-csv');
    expect(sha256(read(csv.path))).toBe(sha256((await download(secretary, `/api/votes/${voteId}/export.csv`)).bytes));
    const [votePdf] = byKind('vote-pdf');
    expect(read(votePdf.path).subarray(0, 5).toString()).toBe('%PDF-');
    // Attendance names every participant with what was recorded.
    const attendance = read(byKind('attendance')[0].path).toString('utf8');
    expect(attendance).toContain(`${m.members[0].id},${m.members[0].fullName}`);
    expect(attendance).toMatch(new RegExp(`${m.members[0].id},[^\\r\\n]*,in_room,`));
    expect(attendance).toMatch(new RegExp(`${m.members[1].id},[^\\r\\n]*,remote,`));
    // The meeting's audit entries, with their chain hashes.
    const auditEntries = JSON.parse(read(byKind('audit')[0].path).toString('utf8')) as { action: string; hash: string }[];
    const actions = new Set(auditEntries.map((e) => e.action));
    for (const a of ['meeting.archive_requested', 'vote.ballot_cast']) expect(actions.has(a), a).toBe(true);
    expect(auditEntries.every((e) => /^[0-9a-f]{64}$/.test(e.hash))).toBe(true);
    fs.rmSync(dir, { recursive: true, force: true });

    // A newer archive replaces it: the old one is expired and can no longer be downloaded.
    const again = await secretary.post(`/api/meetings/${m.meetingId}/archives`);
    await until(async () => (await secretary.get(`/api/archives/${again.body.id}`)).body.state === 'done', { timeout: 25_000, what: 'second archive' });
    expect((await secretary.get(`/api/archives/${id}`)).body.state).toBe('expired');
    const gone = await download(secretary, `/api/archives/${id}/file`);
    expect(gone.status).toBe(409);
    const list = (await secretary.get(`/api/meetings/${m.meetingId}/archives`)).body.archives;
    expect(list.map((a: { id: number }) => a.id)).toEqual([again.body.id, id]);
  });
});
