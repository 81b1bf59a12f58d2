import type { ServerModule } from '../context.js';
import { authRoutes } from './auth.routes.js';

/** Sign-in, sessions, passwords, TOTP second factor (server/auth). */
export const authModule: ServerModule = { name: 'auth', register: authRoutes };
