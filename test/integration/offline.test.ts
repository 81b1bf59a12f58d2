import crypto from 'node:crypto';
import http from 'node:http';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildMeeting, buildUser } from '../helpers/factories.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { pdf, upload } from './documents-helpers.js';

const DEVICE = 'x-ec-device';
const token = (c: string) => c.repeat(43).slice(0, 43);

describe('offline meeting packs and devices', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ seed: 'admin' });
  });
  afterAll(() => server?.close());

  async function meetingWithDocs() {
    const m = await buildMeeting(server, { members: 2, guests: 1, agendaItems: 1 });
    const sec = await m.as('secretary');
    const open = await upload(sec, m.meetingId, m.itemIds[0], pdf('seed-0.pdf'), 'seed-0.pdf', { title: 'Tờ trình chuyển đổi số' });
    expect(open.status).toBe(201);
    const secret = await upload(sec, m.meetingId, m.itemIds[0], pdf('seed-1.pdf'), 'seed-1.pdf', { title: 'Dự thảo mật' });
    expect(secret.status).toBe(201);
    const viewer = m.members[0];
    const r = await sec.patch(`/api/documents/${secret.body.id}`, { access: 'confidential', viewerIds: [viewer.id] });
    expect(r.status).toBe(200);
    return { m, sec, openId: open.body.id as number, secretId: secret.body.id as number };
  }

  it('the manifest lists what a member may keep: the pack, open documents with file and text; a view-only confidential one is left out with its reason', async () => {
    const { m, openId, secretId } = await meetingWithDocs();
    const member = await m.as('member', 0);
    const r = await member.get(`/api/meetings/${m.meetingId}/offline`);
    expect(r.status).toBe(200);
    expect(r.headers.get('cache-control')).toBe('no-store');
    const urls = r.body.resources.map((x: { url: string }) => x.url);
    expect(urls).toEqual(
      expect.arrayContaining([`/api/meetings/${m.meetingId}`, `/api/meetings/${m.meetingId}/agenda`, `/api/meetings/${m.meetingId}/documents`, `/api/documents/${openId}/file`, `/api/documents/${openId}/text`]),
    );
    expect(urls.some((u: string) => u.includes(`/documents/${secretId}`))).toBe(false);
    const secret = r.body.documents.find((d: { documentId: number }) => d.documentId === secretId);
    expect(secret).toMatchObject({ offline: false, reason: 'view_only' });
    // Every listed URL answers 200 for this member (the app stores exactly these).
    for (const u of urls) expect((await member.get(u)).status, u).toBe(200);
  });

  it('the secretary may allow offline copies of a confidential document; a member may not set it', async () => {
    const { m, sec, secretId } = await meetingWithDocs();
    const member = await m.as('member', 0);
    const refused = await member.patch(`/api/documents/${secretId}`, { offlineAllowed: true });
    expect(refused.status).toBe(403);
    expect((await sec.patch(`/api/documents/${secretId}`, { offlineAllowed: 'yes' })).status).toBe(400);
    const ok = await sec.patch(`/api/documents/${secretId}`, { offlineAllowed: true });
    expect(ok.status).toBe(200);
    expect(ok.body.offlineAllowed).toBe(true);
    const r = await member.get(`/api/meetings/${m.meetingId}/offline`);
    expect(r.body.documents.find((d: { documentId: number }) => d.documentId === secretId)).toMatchObject({ offline: true, reason: null });
    expect((await member.get(`/api/documents/${secretId}/text`)).status).toBe(200);
  });

  it("page texts come whole and gzip-compressed for find without network; a view-only reader and an outsider get 404", async () => {
    const { m, openId, secretId } = await meetingWithDocs();
    const member = await m.as('member', 0);
    const raw = await new Promise<{ status: number; encoding?: string; bytes: Buffer }>((resolve, reject) => {
      http
        .get(`${server.url}/api/documents/${openId}/text`, { headers: { cookie: member.cookie, 'accept-encoding': 'gzip' } }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, encoding: res.headers['content-encoding'], bytes: Buffer.concat(chunks) }));
        })
        .on('error', reject);
    });
    expect(raw.status).toBe(200);
    expect(raw.encoding).toBe('gzip');
    const json = zlib.gunzipSync(raw.bytes);
    expect(raw.bytes.length).toBeLessThan(json.length);
    const body = JSON.parse(json.toString()) as { pages: { page: number; text: string }[] };
    expect(body.pages.length).toBeGreaterThan(1);
    expect(body.pages.map((p) => p.page)).toEqual(body.pages.map((_, i) => i + 1));
    expect((await member.get(`/api/documents/${secretId}/text`)).status).toBe(404);
    const outsider = await buildUser(server);
    const o = await server.login(outsider.username, outsider.password);
    expect((await o.get(`/api/documents/${openId}/text`)).status).toBe(404);
    expect((await o.get(`/api/meetings/${m.meetingId}/offline`)).status).toBe(404);
  });

  it('a participant removed from the meeting gets 404 for its manifest at the next contact (the app then wipes it)', async () => {
    const { m, sec } = await meetingWithDocs();
    const guest = await m.as('guest', 0);
    expect((await guest.get(`/api/meetings/${m.meetingId}/offline`)).status).toBe(200);
    const meeting = await sec.get(`/api/meetings/${m.meetingId}`);
    const participants = meeting.body.participants
      .filter((p: { userId: number }) => p.userId !== m.guests[0].id)
      .map((p: { userId: number; role: string; canVote: boolean }) => ({ userId: p.userId, role: p.role, canVote: p.canVote }));
    const u = await sec.patch(`/api/meetings/${m.meetingId}`, { version: meeting.body.version, participants });
    expect(u.status).toBe(200);
    expect((await guest.get(`/api/meetings/${m.meetingId}/offline`)).status).toBe(404);
  });

  it('an administrator revokes a device: its next request ends the session with 401 device_revoked; the same user elsewhere and other users on that device are unaffected', async () => {
    const m = await buildMeeting(server, { members: 2 });
    const tablet = token('a');
    const laptop = token('b');
    const onTablet = await m.as('member', 0);
    const onLaptop = await m.as('member', 0);
    const otherOnTablet = await m.as('member', 1);
    expect((await onTablet.get('/api/auth/me', { [DEVICE]: tablet })).status).toBe(200);
    expect((await onLaptop.get('/api/auth/me', { [DEVICE]: laptop })).status).toBe(200);
    expect((await otherOnTablet.get('/api/auth/me', { [DEVICE]: tablet })).status).toBe(200);

    const admin = await server.login('admin');
    const list = await admin.get(`/api/admin/users/${m.members[0].id}/devices`);
    expect(list.status).toBe(200);
    expect(list.body.devices).toHaveLength(2);
    const member = await m.as('member', 0);
    expect((await member.get(`/api/admin/users/${m.members[0].id}/devices`)).status).toBe(403);
    const tabletId = list.body.devices.find((d: { id: string }) => d.id === crypto.createHash('sha256').update(tablet).digest('hex').slice(0, 16))?.id;
    expect(tabletId).toBeTruthy();
    expect((await member.post(`/api/admin/users/${m.members[0].id}/devices/${tabletId}/revoke`)).status).toBe(403);
    expect((await admin.post(`/api/admin/users/${m.members[0].id}/devices/${tabletId}/revoke`)).status).toBe(204);

    const r = await onTablet.get('/api/auth/me', { [DEVICE]: tablet });
    expect(r.status).toBe(401);
    expect(r.body.error.code).toBe('device_revoked');
    // The session itself ended: without the header it is gone too.
    expect((await onTablet.get('/api/auth/me')).status).toBe(401);
    expect((await onLaptop.get('/api/auth/me', { [DEVICE]: laptop })).status).toBe(200);
    expect((await otherOnTablet.get('/api/auth/me', { [DEVICE]: tablet })).status).toBe(200);
    // Signing in again on the revoked tablet does not get past the next request.
    const again = await m.as('member', 0);
    expect((await again.get('/api/auth/me', { [DEVICE]: tablet })).body.error.code).toBe('device_revoked');
    const after = await admin.get(`/api/admin/users/${m.members[0].id}/devices`);
    expect(after.body.devices.find((d: { id: string }) => d.id === tabletId).revokedAt).toBeTruthy();
  });

  it('a malformed device header is refused with invalid_payload and changes nothing', async () => {
    const m = await buildMeeting(server, { members: 1 });
    const member = await m.as('member', 0);
    for (const bad of ['short', 'x'.repeat(44), '+'.repeat(43), '']) {
      const r = await member.get('/api/auth/me', { [DEVICE]: bad });
      expect(r.status, bad).toBe(400);
      expect(r.body.error.code).toBe('invalid_payload');
    }
    const admin = await server.login('admin');
    expect((await admin.get(`/api/admin/users/${m.members[0].id}/devices`)).body.devices).toEqual([]);
    expect((await admin.post(`/api/admin/users/${m.members[0].id}/devices/zzzz/revoke`)).status).toBe(400);
    expect((await admin.post(`/api/admin/users/${m.members[0].id}/devices/0123456789abcdef/revoke`)).status).toBe(404);
  });
});
