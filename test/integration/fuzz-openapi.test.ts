import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dbDigest } from '../helpers/db-snapshot.js';
import { type HttpClient, type TestServer, startTestServer } from '../helpers/server.js';

/** mulberry32: a small seeded PRNG so a failure can be replayed from its seed. */
function prng(seed: number) {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Schema = { type?: string | string[]; properties?: Record<string, Schema>; required?: string[]; enum?: unknown[]; items?: Schema; anyOf?: Schema[]; oneOf?: Schema[] };

/** Random junk values of every JSON type, including the classic troublemakers. */
function junk(r: () => number, depth = 0): unknown {
  const pick = Math.floor(r() * 16);
  switch (pick) {
    case 0: return null;
    case 1: return true;
    case 2: return -1;
    case 3: return 1e308 * 10; // Infinity → serialised as null
    case 4: return Math.floor(r() * 2 ** 53);
    case 5: return '';
    case 6: return 'x'.repeat(Math.floor(r() * 5000));
    case 7: return "'; DROP TABLE meetings; --";
    case 8: return '<script>alert(1)</script>';
    case 9: return '\u0000\u0001';
    case 10: return '2026-13-45T99:99:99Z';
    case 11: return depth < 3 ? [junk(r, depth + 1), junk(r, depth + 1)] : [];
    case 12: return depth < 3 ? { __proto__: { admin: true }, constructor: { prototype: 1 }, a: junk(r, depth + 1) } : {};
    case 13: return '../../../../etc/passwd';
    case 14: return 'Chuyển đổi số';
    default: return 0.5;
  }
}

/** A body that the schema must refuse: a valid-looking skeleton with one deliberate violation. */
function invalidBody(schema: Schema | undefined, r: () => number): unknown {
  const props = schema?.properties ?? {};
  const body: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(props)) {
    if (r() < 0.7) body[k] = r() < 0.5 ? sample(v, r) : junk(r);
  }
  const mode = Math.floor(r() * 4);
  if (mode === 0 || Object.keys(props).length === 0) body[`__fuzz_${Math.floor(r() * 1000)}`] = junk(r); // strict objects refuse extras
  else if (mode === 1) {
    const req = schema?.required ?? Object.keys(props);
    if (req.length) delete body[req[Math.floor(r() * req.length)]];
    body.__extra = 1;
  } else if (mode === 2) return junk(r); // not even an object
  else {
    const keys = Object.keys(props);
    body[keys[Math.floor(r() * keys.length)]] = { nested: junk(r) };
  }
  return body;
}

function sample(s: Schema, r: () => number): unknown {
  if (s.enum) return s.enum[Math.floor(r() * s.enum.length)];
  const t = Array.isArray(s.type) ? s.type[0] : s.type;
  if (t === 'string') return 'Phiên họp';
  if (t === 'integer' || t === 'number') return 1;
  if (t === 'boolean') return true;
  if (t === 'array') return [];
  return junk(r);
}

const BAD_IDS = ['0', '-5', 'abc', '1.5', '99999999999999999999', 'null', '%00', "1'or'1'='1", '1;select'];

describe('seeded fuzz of every route in the OpenAPI document', () => {
  let s: TestServer;
  let admin: HttpClient;
  let paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema?: Schema }> }; parameters?: { in: string; name: string }[] }>>;
  beforeAll(async () => {
    s = await startTestServer();
    admin = await s.login('admin');
    paths = (await s.anonymous().get('/api/openapi.json')).body.paths;
  });
  afterAll(() => s.close());

  it('the OpenAPI document is 3.1 and covers the foundation routes', async () => {
    const doc = (await s.anonymous().get('/api/openapi.json')).body;
    expect(doc.openapi).toBe('3.1.0');
    for (const p of ['/api/auth/login', '/api/meetings', '/api/meetings/{id}/agenda/items/{itemId}/move', '/api/users', '/api/committees', '/api/rooms']) {
      expect(Object.keys(doc.paths)).toContain(p);
    }
    const move = doc.paths['/api/meetings/{id}/agenda/items/{itemId}/move'].post;
    expect(move.requestBody.content['application/json'].schema.required).toEqual(expect.arrayContaining(['version', 'parentId', 'position']));
  });

  const SEED = Number(process.env.FUZZ_SEED ?? 20261123);
  it(`random malformed requests never get a 5xx and never change the database (seed ${SEED})`, { timeout: 240_000 }, async () => {
    const r = prng(SEED);
    // Warm-up: some reads fill derived state on first use (the demo CA, minutes' generated
    // sections). Do every plain read once so the baseline already includes it.
    for (const [path, ops] of Object.entries(paths)) {
      if (ops.get) await admin.get(path.replace(/\{[^}]+\}/g, '1'));
    }
    const before = dbDigest(s.db);
    let sent = 0;
    const failures: string[] = [];
    const slow: string[] = [];
    for (const [path, ops] of Object.entries(paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const hasBody = !!op.requestBody;
        const jsonSchema = op.requestBody?.content['application/json']?.schema;
        const hasPathParams = path.includes('{');
        for (let i = 0; i < 12; i++) {
          const variant = Math.floor(r() * 4);
          let url = path.replace(/\{[^}]+\}/g, () => '1');
          let body: unknown;
          let headers: Record<string, string> = {};
          if (variant === 0 && hasPathParams) {
            url = path.replace(/\{[^}]+\}/g, () => encodeURIComponent(BAD_IDS[Math.floor(r() * BAD_IDS.length)]));
            body = hasBody ? invalidBody(jsonSchema, r) : undefined;
          } else if (variant === 1 || (!hasBody && method !== 'get')) {
            // malformed JSON: rejected by the parser before any handler runs
            body = ['{', '{"a":', '[1,2', '{"version":1,}', '\u0000', 'nul'][Math.floor(r() * 6)];
            headers = { 'content-type': 'application/json' };
          } else if (variant === 2 && hasBody) {
            body = JSON.stringify(invalidBody(jsonSchema, r));
            headers = { 'content-type': ['text/plain', 'application/xml', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded'][Math.floor(r() * 4)] };
            if (op.requestBody && !jsonSchema) headers = { 'content-type': 'application/json' }; // raw-body routes: feed them JSON junk
          } else if (hasBody) {
            body = invalidBody(jsonSchema, r);
          } else {
            // GET: random query strings
            url += `?${['scope', 'committeeId', 'version', 'q', 'page'][Math.floor(r() * 5)]}=${encodeURIComponent(String(junk(r)))}`;
          }
          if (method === 'get' && body !== undefined) body = undefined;
          const t0 = performance.now();
          const res = await admin.request(method.toUpperCase(), url, body, headers);
          const ms = performance.now() - t0;
          if (ms > 500) slow.push(`${method.toUpperCase()} ${url} ${Math.round(ms)}ms`);
          sent++;
          if (res.status >= 500) failures.push(`${method.toUpperCase()} ${url} → ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`);
          else if (method !== 'get' && res.status < 400) failures.push(`${method.toUpperCase()} ${url} accepted junk → ${res.status}`);
          else if (res.status >= 400 && !(res.body?.error?.code && res.body?.error?.message)) failures.push(`${method.toUpperCase()} ${url} → ${res.status} without the error shape`);
        }
      }
    }
    if (slow.length) console.warn(`fuzz: slow requests\n${slow.join('\n')}`);
    expect(failures).toEqual([]);
    expect(sent).toBeGreaterThan(100);
    expect(dbDigest(s.db)).toEqual(before);
    expect((await admin.get('/healthz')).status).toBe(200);
  });
});
