import type { SocketDomain } from '../context.js';

/**
 * "You have news": after a notification commits, each recipient's sockets get `notifications:new`
 * (the kind only; the bell fetches the list over REST, where access is checked). Replaces waiting for
 * the bell's poll.
 */
export const notificationsSocket: SocketDomain = (hub, ctx) => {
  const onCreated = ({ userIds, kind }: { userIds: number[]; kind: string }) => {
    for (const userId of new Set(userIds)) hub.toUser(userId, 'notifications:new', { kind });
  };
  ctx.notifier.on('created', onCreated);
  return () => ctx.notifier.off('created', onCreated);
};
