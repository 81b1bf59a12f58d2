import type { ServerModule } from '../context.js';
import { signingRoutes } from './signing.routes.js';

/** PKCS#7 signatures of generated PDFs (minutes). */
export const signingModule: ServerModule = { name: 'signing', register: signingRoutes };
