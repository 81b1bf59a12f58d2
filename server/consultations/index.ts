import type { ServerModule } from '../context.js';
import { consultationRoutes } from './consultations.routes.js';

/** Written consultations (votes with a deadline, no meeting) and their reminders. */
export const consultationsModule: ServerModule = { name: 'consultations', register: consultationRoutes };
