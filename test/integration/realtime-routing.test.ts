import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { PROTOCOL_VERSION, SOCKET_PATH } from '../../shared/protocol/realtime.js';
import { itemNotesDocName } from '../../shared/protocol/yjs.js';
import { type BuiltMeeting, buildMeeting } from '../helpers/factories.js';
import { type HttpClient, type TestServer, startTestServer } from '../helpers/server.js';

/**
 * The routing parameter `meeting=<id>` (issue #18: HAProxy hashes it to the meeting's node) on one node: a
 * strict id is accepted on the Socket.IO handshake and on a Yjs upgrade, anything else is refused with a
 * clear error rather than hashed like any string and served wherever it lands.
 */
describe('the meeting routing parameter', () => {
  let srv: TestServer;
  let m: BuiltMeeting;
  let secretary: HttpClient;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    srv = await startTestServer({ seed: 'admin' });
    m = await buildMeeting(srv, { members: 1, agendaItems: 1 });
    secretary = await m.as('secretary');
  });
  afterAll(async () => {
    for (const s of sockets) s.close();
    await srv?.close();
  });

  /** Connects with the raw query string `query`; resolves with `connected` or the connect error's code. */
  const handshake = (query: string) =>
    new Promise<{ socket: Socket; result: string }>((resolve) => {
      const socket = io(`${srv.url}?${query}`, {
        path: SOCKET_PATH,
        transports: ['websocket'],
        extraHeaders: { cookie: secretary.cookie },
        auth: { protocolVersion: PROTOCOL_VERSION },
        reconnection: false,
      });
      sockets.push(socket);
      socket.once('connect', () => resolve({ socket, result: 'connected' }));
      socket.once('connect_error', (e: Error & { data?: { code?: string } }) => resolve({ socket, result: e.data?.code ?? e.message }));
    });

  it('a Socket.IO handshake routed by a meeting id connects and joins; a malformed one is refused with invalid_payload', async () => {
    const ok = await handshake(`meeting=${m.meetingId}`);
    expect(ok.result).toBe('connected');
    expect((await ok.socket.timeout(5000).emitWithAck('meeting:join', { meetingId: m.meetingId })).ok).toBe(true);
    expect((await handshake('')).result).toBe('connected');
    // (A repeated parameter cannot be sent from here: socket.io-client folds the URL's query into an object.)
    for (const bad of ['meeting=01', 'meeting=abc', 'meeting=-1', 'meeting=1.0', 'meeting=', 'meeting=99999999999999999']) {
      expect((await handshake(bad)).result, bad).toBe('invalid_payload');
    }
  });

  it('a Yjs upgrade routed by a meeting id is served; a malformed one gets 400', async () => {
    const upgrade = (query: string) =>
      new Promise<number>((resolve) => {
        const name = encodeURIComponent(itemNotesDocName(m.meetingId, m.itemIds[0]));
        const ws = new WebSocket(`${srv.url.replace(/^http/, 'ws')}/yjs/${name}?${query}`, { headers: { cookie: secretary.cookie } });
        ws.on('open', () => {
          ws.close();
          resolve(101);
        });
        ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        ws.on('error', () => {});
      });
    expect(await upgrade(`meeting=${m.meetingId}`)).toBe(101);
    for (const bad of ['meeting=0', 'meeting=x1', `meeting=${m.meetingId}&meeting=1`]) expect(await upgrade(bad), bad).toBe(400);
  });
});
