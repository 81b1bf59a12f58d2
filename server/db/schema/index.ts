/**
 * The whole Drizzle schema, one file per domain. drizzle-kit reads this file
 * (drizzle.config.ts) to generate migrations/; add a domain by exporting it here.
 */
export * from './auth.js';
export * from './committees.js';
export * from './meetings.js';
export * from './realtime.js';
export * from './documents.js';
export * from './search.js';
export * from './yjs.js';
export * from './signing.js';
export * from './jobs.js';
export * from './tasks.js';
export * from './minutes.js';
export * from './av.js';
export * from './annotations.js';
export * from './votes.js';
export * from './live.js';
export * from './offline.js';
export * from './cluster.js';
export * from './outbox.js';
