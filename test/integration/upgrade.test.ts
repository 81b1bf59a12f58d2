import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FixtureState, readState } from '../fixtures/upgrade/state.js';
import { pdfsig } from '../helpers/pdfsig.js';
import { type HttpClient, type TestServer, startTestServer } from '../helpers/server.js';

/** Data folders written by earlier releases (test/fixtures/upgrade/<release>/, made by make-fixture.ts). */
const FIXTURES = path.resolve(import.meta.dirname, '../fixtures/upgrade');
const releases = fs.readdirSync(FIXTURES).filter((f) => fs.existsSync(path.join(FIXTURES, f, 'expected.json')));

interface Expected {
  release: string;
  meetingIds: number[];
  committeeId: number;
  auditRows: number;
  receipts: { voteId: number } & Record<string, string | number>;
  state: FixtureState;
}

describe.each(releases)('upgrade from the data folder of release %s', (release) => {
  const expected = JSON.parse(fs.readFileSync(path.join(FIXTURES, release, 'expected.json'), 'utf8')) as Expected;
  let s: TestServer;
  let secretary: HttpClient;
  let dataDir: string;

  beforeAll(async () => {
    // A copy: the server migrates the database in place.
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `ecabinet-upgrade-${release}-`));
    fs.cpSync(path.join(FIXTURES, release, 'datadir'), dataDir, { recursive: true });
    // The fixture holds that release's users (its demo people): nothing is seeded into a database with users.
    // The fixture is that release's SQLite file: the server runs on it under `npm run test:pg` too.
    s = await startTestServer({ seed: 'admin', dataDir, config: { database: { url: null, poolSize: 4 } } });
    secretary = await s.login('secretary');
  });
  afterAll(async () => {
    await s?.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('the current server migrates it and shows every meeting, agenda, conclusion, document (bytes by hash), vote tally and roll, minutes version and task as that release did', async () => {
    const now = await readState(secretary, expected.meetingIds, expected.committeeId);
    expect(now.meetings.map((m) => m.id)).toEqual(expected.state.meetings.map((m) => m.id));
    for (const [i, m] of now.meetings.entries()) expect(m, `meeting ${m.id}`).toEqual(expected.state.meetings[i]);
    expect(now.tasks).toEqual(expected.state.tasks);
    // The served bytes are the stored bytes.
    for (const d of now.meetings.flatMap((m) => m.documents)) for (const v of d.versions) expect(v.served).toBe(v.sha256);
    for (const v of now.meetings.flatMap((m) => m.minutes)) expect(v.served).toBe(v.pdfHash);
  });

  it('every voter of the secret vote still finds their ballot under their receipt, with their choice', async () => {
    const { voteId, ...receipts } = expected.receipts;
    const ballots = (await secretary.get(`/api/votes/${voteId}/receipts`)).body.ballots as { key: string; choices: number[] }[];
    expect(ballots).toHaveLength(Object.keys(receipts).length);
    for (const receipt of Object.values(receipts)) {
      const key = crypto.createHash('sha256').update(`${voteId}:${receipt}`).digest('hex');
      expect(ballots.map((b) => b.key)).toContain(key);
    }
  });

  it('the signed minutes still verify with pdfsig, and nothing of the audit trail was lost', async () => {
    const signed = expected.state.meetings.flatMap((m) => m.minutes.map((v) => ({ meetingId: m.id, ...v }))).filter((v) => v.status === 'signed');
    expect(signed.length).toBeGreaterThan(0);
    for (const v of signed) {
      const res = await fetch(`${s.url}/api/meetings/${v.meetingId}/minutes/versions/${v.version}/pdf`, { headers: { cookie: secretary.cookie } });
      const report = pdfsig(Buffer.from(await res.arrayBuffer()));
      expect(report.signatures).toHaveLength(v.signatures.length);
      expect(report.signatures.every((x) => x.validation === 'Signature is Valid.')).toBe(true);
    }
    const auditRows = (s.db.$client.prepare('select count(*) n from audit_log').get() as { n: number }).n;
    expect(auditRows).toBeGreaterThanOrEqual(expected.auditRows);
  });

  it('the upgraded folder takes new work: the demo users sign in and the secretary creates a meeting', async () => {
    const committees = await secretary.get('/api/committees');
    const r = await secretary.post('/api/meetings', {
      committeeId: committees.body.committees[0].id,
      title: 'Phiên họp sau nâng cấp',
      startsAt: new Date(Date.now() + 86400_000).toISOString(),
      endsAt: new Date(Date.now() + 90000_000).toISOString(),
    });
    expect(r.status).toBe(201);
    expect(r.body.id).toBeGreaterThan(Math.max(...expected.meetingIds));
    expect((await s.login('member1')).cookie).not.toBe('');
  });
});
