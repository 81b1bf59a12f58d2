import { defineConfig } from 'drizzle-kit';

/**
 * The PostgreSQL schema (server/db/pg/, the twin of server/db/schema/; issue #17) and its migrations.
 * `npm run db:generate:pg` writes migrations-pg/. Generating needs no database.
 */
export default defineConfig({
  dialect: 'postgresql',
  schema: './server/db/pg/index.ts',
  out: './migrations-pg',
  casing: 'snake_case',
});
