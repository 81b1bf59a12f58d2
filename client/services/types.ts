import type { z } from 'zod';
import type { CommitteeList, RoomList } from '../../shared/protocol/committees.js';
import type { MeetingList as MeetingListSchema } from '../../shared/protocol/meetings.js';
import type { NotificationList as NotificationListSchema } from '../../shared/protocol/notifications.js';
import type { UserList as UserListSchema } from '../../shared/protocol/users.js';

/**
 * Response types of list endpoints whose schemas in shared/protocol have no exported type alias.
 * Type-only: nothing of zod reaches the client bundle.
 */
export type MeetingList = z.infer<typeof MeetingListSchema>;
export type NotificationList = z.infer<typeof NotificationListSchema>;
export type UserList = z.infer<typeof UserListSchema>;
export type Committees = z.infer<typeof CommitteeList>;
export type Rooms = z.infer<typeof RoomList>;
