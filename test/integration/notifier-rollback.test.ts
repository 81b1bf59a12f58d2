import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NotificationEvent } from '../../server/notifications/notifier.js';
import { type TestServer, startTestServer } from '../helpers/server.js';
import { testSql } from '../helpers/sql.js';

/**
 * The notifier's "you have news" signal follows only committed notifications. Its pending list is shared by every
 * transaction of the app: a transaction that notified and then rolled back left its entry there, and the next
 * flush (any other request's) pinged the recipients about a notification that never existed.
 */
describe('Notifier: a rolled-back notification sends no signal', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  it('flush after a rolled-back notify emits nothing; after a committed one, exactly its event', async () => {
    const { store, notifier } = server.app.ctx;
    const [admin] = await testSql(server).all<{ id: number }>('select id from users where username = ?', 'admin');
    const seen: NotificationEvent[] = [];
    const onCreated = (e: NotificationEvent) => seen.push(e);
    notifier.on('created', onCreated);
    try {
      await expect(
        store.tx(async (q) => {
          await notifier.notify(q, [admin.id], 'meeting_updated', null, { title: 'rolled back' });
          throw new Error('refused after the notification was written');
        }),
      ).rejects.toThrow('refused after');
      notifier.flush();
      expect(seen).toEqual([]);
      expect(await testSql(server).all('select id from notifications where user_id = ? and kind = ?', admin.id, 'meeting_updated')).toEqual([]);

      await store.tx((q) => notifier.notify(q, [admin.id], 'meeting_updated', null, { title: 'committed' }));
      notifier.flush();
      expect(seen).toEqual([{ userIds: [admin.id], kind: 'meeting_updated', meetingId: null }]);
    } finally {
      notifier.off('created', onCreated);
    }
  });
});
