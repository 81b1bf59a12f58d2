import type { ServerModule } from '../context.js';
import { offlineRoutes } from './offline.routes.js';

/** Offline meeting packs and devices (the `x-ec-device` guard itself is in the HTTP pipeline, server/app.ts). */
export const offlineModule: ServerModule = { name: 'offline', register: offlineRoutes };
