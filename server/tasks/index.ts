import type { ServerModule } from '../context.js';
import { taskRoutes } from './tasks.routes.js';

/** One-owner tasks, progress reports, attachments, `task.reminder` jobs. */
export const tasksModule: ServerModule = { name: 'tasks', register: taskRoutes };
