import type { ServerModule } from '../context.js';
import { meetingRoutes } from './meetings.routes.js';

/** Meetings, participants, publishing; `meetings.access.ts` is the one visibility rule. */
export const meetingsModule: ServerModule = { name: 'meetings', register: meetingRoutes };
