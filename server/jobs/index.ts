import type { ServerModule } from '../context.js';

/**
 * The durable job runner (`ctx.jobs`): started with the server, after every module registered its
 * kinds, and stopped on close, letting a running batch finish. Jobs left claimed by a killed process
 * are taken over once their lease expires.
 */
export const jobsModule: ServerModule = {
  name: 'jobs',
  start(ctx) {
    ctx.jobs.start();
    return { stop: () => ctx.jobs.stop() };
  },
};
