import type { ServerModule } from '../context.js';
import { startSfu } from './sfu.attachment.js';

/** Audio/video: mediasoup workers and routers, signaling as hub commands (`ctx.sfu`). */
export const sfuModule: ServerModule = { name: 'sfu', start: startSfu };
