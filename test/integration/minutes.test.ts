import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { MINUTES_FREE_TEXT, MINUTES_GENERATED } from '../../shared/protocol/minutes.js';
import { pdfsig } from '../helpers/pdfsig.js';
import { type TestServer, startTestServer, until } from '../helpers/server.js';
import { buildMeeting, buildUser } from '../helpers/factories.js';
import { openProvider } from '../helpers/yjs.js';

/** Writes a heading and a bold paragraph into the free-text fragment, as TipTap would. */
function writeFreeText(doc: Y.Doc, heading: string, text: string) {
  const frag = doc.getXmlFragment(MINUTES_FREE_TEXT);
  doc.transact(() => {
    const h = new Y.XmlElement('heading');
    h.setAttribute('level', '2');
    h.insert(0, [new Y.XmlText(heading)]);
    const p = new Y.XmlElement('paragraph');
    const t = new Y.XmlText();
    p.insert(0, [t]);
    frag.insert(frag.length, [h, p]);
    t.insert(0, text, { bold: {} });
  });
}

/**
 * Each test builds its own committee (a chair, a secretary, one member), published meeting with two agenda items,
 * and outsider: nothing is shared between tests, so they pass in any order (vitest --sequence.shuffle).
 */
describe('minutes', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ seed: 'admin' });
  });
  afterAll(() => s?.close());

  async function world() {
    const m = await buildMeeting(s, { members: 1, agendaItems: 2, publish: true });
    const stranger = await buildUser(s);
    return {
      m,
      meetingId: m.meetingId,
      itemId: m.itemIds[0],
      secretary: await m.as('secretary'),
      chair: await m.as('chair'),
      member: await m.as('member', 0),
      outsider: () => s.login(stranger.username, stranger.password),
    };
  }

  /** The secretary's draft: the first item's conclusion and a free-text paragraph, both held by the server. */
  async function draft({ meetingId, itemId, secretary }: Awaited<ReturnType<typeof world>>) {
    expect((await secretary.put(`/api/meetings/${meetingId}/agenda/items/${itemId}/conclusion`, { text: 'Thống nhất triển khai số hóa hồ sơ; giao Sở Nội vụ chủ trì.' })).status).toBe(200);
    const name = `minutes:${meetingId}`;
    const w = openProvider(s.url, name, secretary.cookie);
    await until(() => w.provider.synced, { what: 'secretary synced' });
    writeFreeText(w.doc, 'Ý kiến bổ sung', 'Đề nghị các sở hoàn thành trước quý I.');
    await until(async () => (await s.app.ctx.yjs.getDoc(name)).getXmlFragment(MINUTES_FREE_TEXT).toString().includes('Đề nghị các sở hoàn thành trước quý I.'), { what: 'free text on the server' });
    w.destroy();
  }

  it('editing the minutes without the role is refused at the Yjs hub: a member is closed with 4403 before publication; the secretary writes, and generated sections stay separate', async () => {
    const { meetingId, itemId, secretary, chair, member, outsider: stranger } = await world();
    const name = `minutes:${meetingId}`;
    const intruder = openProvider(s.url, name, member.cookie);
    await until(() => intruder.closes.includes(4403), { what: 'member refused with 4403' });
    intruder.destroy();
    const outsider = openProvider(s.url, name, (await stranger()).cookie);
    await until(() => outsider.closes.includes(4403), { what: 'non-participant refused' });
    outsider.destroy();

    expect((await secretary.put(`/api/meetings/${meetingId}/agenda/items/${itemId}/conclusion`, { text: 'Thống nhất triển khai số hóa hồ sơ.' })).status).toBe(200);
    const state = await secretary.get(`/api/meetings/${meetingId}/minutes`);
    expect(state.body).toMatchObject({ canEdit: true, signAs: 'secretary', docName: name, versions: [] });
    const w = openProvider(s.url, name, secretary.cookie);
    await until(() => w.provider.synced, { what: 'secretary synced' });
    const gen = w.doc.getMap(MINUTES_GENERATED);
    await until(() => JSON.stringify(gen.get('sections') ?? '').includes('Thống nhất triển khai số hóa hồ sơ'), { what: 'generated conclusion' });
    writeFreeText(w.doc, 'Ý kiến bổ sung', 'Đề nghị các sở hoàn thành trước quý I.');
    // A refresh of the generated sections never touches the free text.
    await secretary.put(`/api/meetings/${meetingId}/agenda/items/${itemId}/conclusion`, { text: 'Thống nhất triển khai số hóa hồ sơ; giao Sở Nội vụ chủ trì.' });
    await secretary.get(`/api/meetings/${meetingId}/minutes`);
    await until(() => JSON.stringify(gen.get('sections')).includes('giao Sở Nội vụ chủ trì'), { what: 'generated refreshed' });
    expect(w.doc.getXmlFragment(MINUTES_FREE_TEXT).toString()).toContain('Đề nghị các sở hoàn thành trước quý I.');
    // The chair reads the draft (to approve it) but cannot write: the edit never reaches the server or others.
    const ro = openProvider(s.url, name, chair.cookie);
    await until(() => ro.provider.synced && ro.doc.getXmlFragment(MINUTES_FREE_TEXT).toString().includes('Đề nghị'), { what: 'chair synced read-only' });
    writeFreeText(ro.doc, 'Chèn trái phép', 'Nội dung không được phép.');
    writeFreeText(w.doc, 'Mốc', 'Sau chỉnh sửa của chủ tọa.');
    await until(() => ro.doc.getXmlFragment(MINUTES_FREE_TEXT).toString().includes('Sau chỉnh sửa của chủ tọa.'), { what: 'secretary edit reaches the chair' });
    expect(w.doc.getXmlFragment(MINUTES_FREE_TEXT).toString()).not.toContain('Nội dung không được phép.');
    expect((await s.app.ctx.yjs.getDoc(name)).getXmlFragment(MINUTES_FREE_TEXT).toString()).not.toContain('Nội dung không được phép.');
    ro.destroy();
    w.destroy();
  });

  it('finalizing twice without a change is refused; the chair signs, a wrong PIN is refused with attempts left, signing a changed version is refused, and the signed PDF verifies with pdfsig', async () => {
    const w = await world();
    const { m, meetingId, itemId, secretary, chair, member } = w;
    await draft(w);
    const v1 = await secretary.post(`/api/meetings/${meetingId}/minutes/finalize`);
    expect(v1.status).toBe(201);
    expect(v1.body).toMatchObject({ version: 1, status: 'finalized' });
    expect(JSON.stringify(v1.body.content)).toContain('Đề nghị các sở hoàn thành trước quý I.');
    const again = await secretary.post(`/api/meetings/${meetingId}/minutes/finalize`);
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('already_finalized');
    expect((await member.post(`/api/meetings/${meetingId}/minutes/finalize`)).status).toBe(403);

    const wrong = await chair.post(`/api/meetings/${meetingId}/minutes/versions/1/sign`, { pin: '999999', contentHash: v1.body.contentHash });
    expect(wrong.status).toBe(403);
    expect(wrong.body.error.code).toBe('wrong_pin');
    expect(wrong.body.error.details.attemptsLeft).toBe(4);
    expect(JSON.stringify(wrong.body)).not.toContain('999999');
    const stale = await chair.post(`/api/meetings/${meetingId}/minutes/versions/1/sign`, { pin: '123456', contentHash: 'a'.repeat(64) });
    expect(stale.status).toBe(409);
    expect(stale.body.error.code).toBe('version_changed');
    expect((await member.post(`/api/meetings/${meetingId}/minutes/versions/1/sign`, { pin: '123456', contentHash: v1.body.contentHash })).status).toBe(403);

    const signed = await chair.post(`/api/meetings/${meetingId}/minutes/versions/1/sign`, { pin: '123456', contentHash: v1.body.contentHash });
    expect(signed.status).toBe(200);
    expect(signed.body.signatures.map((x: { role: string }) => x.role)).toEqual(['chair']);
    expect((await chair.post(`/api/meetings/${meetingId}/minutes/versions/1/sign`, { pin: '123456', contentHash: v1.body.contentHash })).body.error.code).toBe('already_signed');

    // Any change after signing needs a new version: the secretary edits, finalizes v2; v1 can no longer be signed.
    await secretary.put(`/api/meetings/${meetingId}/agenda/items/${itemId}/conclusion`, { text: 'Kết luận đã chỉnh sửa sau khi ký.' });
    const v2 = await secretary.post(`/api/meetings/${meetingId}/minutes/finalize`);
    expect(v2.body.version).toBe(2);
    const old = await secretary.post(`/api/meetings/${meetingId}/minutes/versions/1/sign`, { pin: '123456', contentHash: v1.body.contentHash });
    expect(old.status).toBe(409);
    expect(old.body.error.code).toBe('version_changed');
    // Members see nothing before publication, not even through search.
    expect((await member.get(`/api/meetings/${meetingId}/minutes`)).body.versions).toEqual([]);
    expect((await member.get(`/api/search?q=${encodeURIComponent('hoan thanh truoc quy')}`)).body.hits.filter((h: { kind: string }) => h.kind === 'minutes')).toEqual([]);
    expect((await member.request('GET', `/api/meetings/${meetingId}/minutes/versions/2/pdf`)).status).toBe(404);

    for (const c of [chair, secretary]) {
      const r = await c.post(`/api/meetings/${meetingId}/minutes/versions/2/sign`, { pin: '123456', contentHash: v2.body.contentHash });
      expect(r.status).toBe(200);
    }
    const pdf = await fetch(`${s.url}/api/meetings/${meetingId}/minutes/versions/2/pdf`, { headers: { cookie: member.cookie } });
    expect(pdf.status).toBe(200);
    const bytes = Buffer.from(await pdf.arrayBuffer());
    const report = pdfsig(bytes);
    expect(report.signatures.map((x) => x.commonName)).toEqual([m.chair.fullName, m.secretary.fullName]);
    expect(report.signatures.every((x) => x.validation === 'Signature is Valid.')).toBe(true);

    // Published: a member reads the document (read-only) and acknowledges; everyone sees who did.
    const r = openProvider(s.url, `minutes:${meetingId}`, member.cookie);
    await until(() => r.provider.synced, { what: 'member synced read-only' });
    expect(r.doc.getXmlFragment(MINUTES_FREE_TEXT).toString()).toContain('Đề nghị các sở');
    r.destroy();
    // Search finds the published minutes (and the conclusion) for participants, not for outsiders.
    const found = await member.get(`/api/search?q=${encodeURIComponent('hoan thanh truoc quy')}`);
    expect(found.body.hits.map((h: { kind: string }) => h.kind)).toContain('minutes');
    const concl = await member.get(`/api/search?q=${encodeURIComponent('Kết luận đã chỉnh sửa')}`);
    expect(concl.body.hits.map((h: { kind: string }) => h.kind)).toContain('conclusion');
    const outsider = await (await w.outsider()).get(`/api/search?q=${encodeURIComponent('hoan thanh truoc quy')}`);
    expect(outsider.body.hits.filter((h: { kind: string }) => h.kind === 'minutes')).toEqual([]);
    const ack = await member.post(`/api/meetings/${meetingId}/minutes/versions/2/ack`);
    expect(ack.status).toBe(200);
    expect(ack.body.acknowledgedByMe).toBe(true);
    const seen = await secretary.get(`/api/meetings/${meetingId}/minutes`);
    expect(seen.body.versions[0].acknowledgements.map((a: { userId: number }) => a.userId)).toEqual([m.members[0].id]);
    expect((await member.post(`/api/meetings/${meetingId}/minutes/versions/1/ack`)).status).toBe(409);
  });
});
