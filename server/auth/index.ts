import type { ServerModule } from '../context.js';
import { authRoutes } from './auth.routes.js';
import { sealClearTotpSecrets } from './totp.repo.js';

/** Sign-in, sessions, passwords, TOTP second factor (server/auth). */
export const authModule: ServerModule = {
  name: 'auth',
  register: authRoutes,
  // TOTP secrets of a database from before they were sealed are sealed now (once; idempotent), before the server listens.
  async start(ctx) {
    const sealed = await sealClearTotpSecrets(ctx.store, ctx.config.secret);
    if (sealed) ctx.log.info({ sealed }, 'TOTP secrets sealed under the server secret');
  },
};
