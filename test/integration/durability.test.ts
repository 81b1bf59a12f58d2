import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChildServer } from '../helpers/child-server.js';
import { buildMeetingOn } from '../helpers/factories.js';

describe('acknowledged REST changes survive kill -9', () => {
  let server: ChildServer;
  beforeAll(async () => {
    server = await ChildServer.create({ ECABINET_SEED: 'admin' });
    await server.start();
  });
  afterAll(() => server.dispose());

  // Two starts of the server as a child process (tsx start-up each): more than the default minute on a loaded machine.
  it('every agenda item acknowledged before SIGKILL is there after restart, in order, and sessions still work', { timeout: 180_000 }, async () => {
    const built = await buildMeetingOn(server, { agendaItems: 0, publish: false });
    const secretary = await built.as('secretary');
    const committeeId = built.committeeId;
    const m = await secretary.post('/api/meetings', { committeeId, title: 'Họp khẩn', startsAt: '2030-03-01T08:00:00+07:00', endsAt: '2030-03-01T09:00:00+07:00' });
    let version = 0;
    const acknowledged: string[] = [];
    for (let i = 1; i <= 20; i++) {
      const r = await secretary.post(`/api/meetings/${m.body.id}/agenda/items`, { version, title: `Mục ${i}` });
      expect(r.status).toBe(201);
      version = r.body.version;
      acknowledged.push(`Mục ${i}`);
    }
    await server.kill9();
    await server.start();
    const agenda = await secretary.get(`/api/meetings/${m.body.id}/agenda`);
    expect(agenda.status).toBe(200); // the session cookie survived too
    expect(agenda.body.version).toBe(version);
    expect(agenda.body.items.map((i: { title: string }) => i.title)).toEqual(acknowledged);
  });
});
