/**
 * The PostgreSQL twin of the Drizzle schema (../schema/), one file per domain. drizzle-kit reads this file
 * (drizzle.pg.config.ts) to generate migrations-pg/; a domain is added to both; test/unit/schema-drift.test.ts compares them.
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
