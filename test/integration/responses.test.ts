import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z, type ZodType } from 'zod';
import type { RouteSpec } from '../../server/http/api.js';
import { MODULES } from '../../server/modules.js';
import { type TestServer, startTestServer } from '../helpers/server.js';

// Test-only routes registered through the same `api.route` as the real ones: one whose handler drifts
// from its documented response, one that keeps to it, and a no-content route that returns a body.
const Counted = z.object({ n: z.number().int() });
MODULES.push({
  name: 'test-responses',
  register: (ctx) => {
    ctx.api.route({ method: 'get', path: '/api/test/drift', summary: 'test', tags: ['test'], access: 'public', response: Counted }, () => ({ n: 'one' }));
    ctx.api.route({ method: 'get', path: '/api/test/kept', summary: 'test', tags: ['test'], access: 'public', response: Counted }, () => ({ n: 1, extra: true }));
    ctx.api.route({ method: 'post', path: '/api/test/silent', summary: 'test', tags: ['test'], access: 'public', noContent: true }, () => ({ said: 'something' }));
  },
});

// A route that declares no success response does not typecheck (`npm test` typechecks first).
// @ts-expect-error response, responseContentType or noContent is required
const undocumented: RouteSpec<ZodType, ZodType, ZodType> = { method: 'get', path: '/api/x', summary: 'x', tags: [], access: 'public' };
void undocumented;

describe('response schemas', () => {
  describe('development and test: the result is checked', () => {
    let srv: TestServer;
    const lines: string[] = [];
    beforeAll(async () => {
      srv = await startTestServer({ seed: 'admin', logLevel: 'error', logTo: { write: (line) => void lines.push(line) } });
    });
    afterAll(async () => {
      await srv.close();
    });

    it('a handler result its schema refuses becomes 500 internal, logged with the route and the zod issues', async () => {
      const r = await srv.anonymous().get('/api/test/drift');
      expect(r.status).toBe(500);
      expect(r.body.error.code).toBe('internal');
      expect(JSON.stringify(r.body)).not.toContain('one'); // nothing of the drifting body leaves the server
      const logged = lines.join('\n');
      expect(logged).toContain('GET /api/test/drift');
      expect(logged).toMatch(/n: Invalid input: expected number/);
    });

    it('a result the schema accepts is sent unchanged (a plain object lets extra fields through)', async () => {
      const r = await srv.anonymous().get('/api/test/kept');
      expect(r.status).toBe(200);
      expect(r.body).toEqual({ n: 1, extra: true });
    });

    it('a no-content route that returns a body is refused', async () => {
      const r = await srv.anonymous().post('/api/test/silent', {});
      expect(r.status).toBe(500);
      expect(lines.join('\n')).toContain('POST /api/test/silent');
    });

    it('every operation of the OpenAPI document documents its success response', async () => {
      const doc = (await srv.anonymous().get('/api/openapi.json')).body as {
        paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema?: unknown }> }> }>>;
      };
      const missing: string[] = [];
      let operations = 0;
      for (const [path, ops] of Object.entries(doc.paths)) {
        for (const [method, op] of Object.entries(ops)) {
          operations++;
          const success = Object.entries(op.responses).filter(([code]) => /^2\d\d$/.test(code));
          const documented =
            success.length > 0 &&
            success.every(([code, r]) => {
              if (code === '204') return r.content === undefined;
              const content = Object.entries(r.content ?? {});
              // JSON carries its schema; a download names its content type.
              return content.length > 0 && content.every(([type, c]) => (type === 'application/json' ? c.schema !== undefined && Object.keys(c.schema as object).length > 1 : true));
            });
          if (!documented) missing.push(`${method.toUpperCase()} ${path}`);
        }
      }
      expect(operations).toBeGreaterThan(100);
      expect(missing).toEqual([]);
    });
  });

  describe('production: no check', () => {
    let srv: TestServer;
    beforeAll(async () => {
      srv = await startTestServer({ seed: 'admin', config: { env: 'production', secret: 'a-long-random-production-secret-for-this-test-only' } });
    });
    afterAll(async () => {
      await srv.close();
    });

    it('the same drifting handler is answered as it returns', async () => {
      const r = await srv.anonymous().get('/api/test/drift');
      expect(r.status).toBe(200);
      expect(r.body).toEqual({ n: 'one' });
    });
  });
});
