import type { ServerModule } from '../context.js';
import { userRoutes } from './users.routes.js';

/** User accounts (admin). */
export const usersModule: ServerModule = { name: 'users', register: userRoutes };
