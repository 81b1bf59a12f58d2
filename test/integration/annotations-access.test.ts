import { count, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { layerDocName } from '../../shared/protocol/annotations.js';
import { annotationLayers } from '../../server/annotations/annotations.docs.js';
import { authenticateCookie } from '../../server/auth/sessions.js';
import { yjsUpdates } from '../../server/db/tables.js';
import { type BuiltMeeting, buildMeeting } from '../helpers/factories.js';
import { type HttpClient, type TestServer, startTestServer, until } from '../helpers/server.js';
import { type TestProvider, openProvider } from '../helpers/yjs.js';
import { PAGE_TEXTS, textPdf, uploadPdf } from './annotations-helpers.js';

/**
 * Deciding who may open an annotation layer is a pure query (issue #13): the kinds' `access` runs at
 * every upgrade and on every revocation re-check, so it must not load, guard or write a layer; that
 * is the `open` step of an admitted connection.
 */
let server: TestServer;
let m: BuiltMeeting;
let member: HttpClient;
/** One document per test, so the tests pass in any order. */
let documentId: number;
let openedId: number;
const providers: TestProvider[] = [];

beforeAll(async () => {
  server = await startTestServer({ seed: 'admin' });
  m = await buildMeeting(server, { members: 1, agendaItems: 1 });
  member = await m.as('member', 0);
  const secretary = await m.as('secretary');
  const bytes = await textPdf(PAGE_TEXTS);
  documentId = (await uploadPdf(secretary, m.meetingId, m.itemIds[0], bytes)).id;
  openedId = (await uploadPdf(secretary, m.meetingId, m.itemIds[0], bytes)).id;
});

afterAll(async () => {
  for (const p of providers) p.destroy();
  await server.close();
});

describe('annotation layers: access is a query, opening is a step of its own', () => {
  it('deciding access to a private and a shared layer grants write but loads, guards and stores nothing', async () => {
    const { ctx } = server.app;
    const auth = await authenticateCookie(ctx.store, member.cookie, ctx.config.mfaRequiredRoles);
    expect(auth).not.toBeNull();
    const names = [layerDocName({ documentId, layer: 'private', userId: m.members[0].id }), layerDocName({ documentId, layer: 'shared', meetingId: m.meetingId })];
    for (const name of names) {
      const resolved = ctx.yjs.registry.resolve(name);
      expect(resolved).not.toBeNull();
      expect(await ctx.yjs.registry.access(resolved!.kind, auth!.user, resolved!.parsed, ctx.store)).toBe('write');
      expect(ctx.yjs.stats().perDoc[name]).toBeUndefined();
      expect(annotationLayers(ctx).loaded(name)).toBeNull();
      expect(await ctx.store.q.select({ n: count() }).from(yjsUpdates).where(eq(yjsUpdates.docName, name))).toEqual([{ n: 0 }]);
    }
  });

  it('an admitted connection opens the layer: it is loaded and guarded before the client syncs', async () => {
    const { ctx } = server.app;
    const name = layerDocName({ documentId: openedId, layer: 'shared', meetingId: m.meetingId });
    const p = openProvider(server.url, name, member.cookie);
    providers.push(p);
    await until(() => p.provider.synced, { what: 'provider synced' });
    expect(annotationLayers(ctx).loaded(name)).toBe(await ctx.yjs.getDoc(name));
    expect(ctx.yjs.stats().perDoc[name]?.connections).toBe(1);
  });
});
