import type { AppContext } from '../context.js';
import type { RealtimeHub } from '../realtime/hub.js';

/**
 * "You have news": after a notification commits, each recipient's sockets get `notifications:new`
 * (the kind only; the bell fetches the list over REST, where access is checked). Replaces waiting for
 * the bell's poll.
 */
export function notificationsSocket(hub: RealtimeHub, ctx: AppContext): void {
  const onCreated = ({ userIds, kind }: { userIds: number[]; kind: string }) => {
    for (const userId of new Set(userIds)) hub.toUser(userId, 'notifications:new', { kind });
  };
  ctx.notifier.on('created', onCreated);
  hub.io.httpServer?.once('close', () => ctx.notifier.off('created', onCreated));
}
