import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Api, ApiError } from '../../client/services/api.js';
import { formatDateTime, formatSpan, formatStamp, fromLocalInput, toLocalInput } from '../../client/services/format.js';
import { matchRoute } from '../../client/services/router.js';
import { type TestServer, startTestServer } from '../helpers/server.js';

describe('client router', () => {
  it('matches the route table with path parameters, specific paths before general ones', () => {
    expect(matchRoute('/meetings/new')?.route.tag).toBe('ec-meeting-editor-view');
    expect(matchRoute('/meetings/new')?.params).toEqual({});
    const edit = matchRoute('/meetings/42/edit');
    expect(edit?.route.tag).toBe('ec-meeting-editor-view');
    expect(edit?.params).toEqual({ id: '42' });
    expect(matchRoute('/meetings/42/')?.route.tag).toBe('ec-meeting-detail-view');
    expect(matchRoute('/login', '?next=%2Fmeetings')?.query.get('next')).toBe('/meetings');
    expect(matchRoute('/admin/users')?.route.admin).toBe(true);
    expect(matchRoute('/no/such/page')).toBeNull();
  });
});

describe('client date formatting (always Asia/Ho_Chi_Minh)', () => {
  it('shows instants in Vietnam time in vi-VN and en-GB', () => {
    const iso = '2026-12-01T01:30:00Z'; // 08:30 in Hà Nội
    expect(formatDateTime(iso, 'vi')).toContain('08:30');
    expect(formatDateTime(iso, 'vi')).toContain('01/12/2026');
    expect(formatDateTime(iso, 'en')).toContain('Tuesday');
    expect(formatSpan(iso, '2026-12-01T04:00:00Z', 'vi')).toMatch(/^08:30 – 11:00, /);
    expect(formatStamp('2026-11-22T23:05:00Z', 'vi')).toBe('23/11 06:05');
  });

  it('round-trips datetime-local values through Vietnam time', () => {
    expect(toLocalInput('2026-12-01T01:30:00.000Z')).toBe('2026-12-01T08:30');
    expect(fromLocalInput('2026-12-01T08:30')).toBe('2026-12-01T08:30:00+07:00');
    expect(Date.parse(fromLocalInput(toLocalInput('2026-06-30T20:15:00Z')))).toBe(Date.parse('2026-06-30T20:15:00Z'));
  });
});

describe('client api service against the real server', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ seed: 'admin' });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('a 401 becomes ApiError unauthenticated and sends the app back to login', async () => {
    let signedOut = 0;
    const api = new Api({ base: server.url, onUnauthenticated: () => signedOut++ });
    const err = await api.get('/api/auth/me').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).status).toBe(401);
    expect((err as ApiError).code).toBe('unauthenticated');
    expect(signedOut).toBe(1);
  });

  it('the error body of any refusal is surfaced with its stable code', async () => {
    const api = new Api({ base: server.url });
    const err = (await api.get('/api/no-such-route').catch((e: unknown) => e)) as ApiError;
    expect([err.status, err.code]).toEqual([404, 'not_found']);
  });

  it('an unreachable server is ApiError network (status 0) and reports offline', async () => {
    const seen: boolean[] = [];
    const api = new Api({ base: 'http://127.0.0.1:9', onConnectivity: (o) => seen.push(o) });
    const err = (await api.get('/api/auth/me').catch((e: unknown) => e)) as ApiError;
    expect([err.status, err.code]).toEqual([0, 'network']);
    expect(seen).toEqual([false]);
  });
});
