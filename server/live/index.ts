import type { ServerModule } from '../context.js';
import { liveSocket } from './live.socket.js';

/** The live meeting over Socket.IO: attendance, quorum, agenda control, speakers, presenter. */
export const liveModule: ServerModule = { name: 'live', socket: liveSocket };
