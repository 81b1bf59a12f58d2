import { z } from 'zod';

export const NotificationKind = z.enum(['meeting_published', 'agenda_updated', 'meeting_updated', 'generic']);

export const Notification = z.object({
  id: z.number(),
  kind: z.string(),
  meetingId: z.number().nullable(),
  /** Free-form, rendered by the client through its catalogs keyed by `kind`. */
  data: z.record(z.string(), z.unknown()),
  createdAt: z.string(),
  readAt: z.string().nullable(),
});
export type Notification = z.infer<typeof Notification>;

export const NotificationList = z.object({ notifications: z.array(Notification), unread: z.number() });
