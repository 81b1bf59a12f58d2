/**
 * The whole Drizzle schema, one file per domain. drizzle-kit reads this file
 * (drizzle.config.ts) to generate migrations/; add a domain by exporting it here.
 */
export * from './auth.js';
export * from './committees.js';
export * from './meetings.js';
