import type { Attachment } from '../server.js';
import { jobRunner } from './jobs.js';

/**
 * Starts the app's job runner with the server (after every domain registered its kinds) and
 * stops it on close, letting a running batch finish. Jobs left claimed by a killed process are
 * taken over once their lease expires.
 */
export const jobsAttachment: Attachment = (app) => {
  const runner = jobRunner(app.ctx);
  runner.start();
  return { close: () => runner.stop() };
};
