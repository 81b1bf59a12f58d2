import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ERROR_CODES } from '../../shared/protocol/errors.js';
import { COMMANDS } from '../../shared/protocol/socket-events.js';
import { hubOptions } from '../../server/realtime/hub.js';
import { dbDigest } from '../helpers/sql.js';
import { type BuiltMeeting, buildMeeting, buildUser } from '../helpers/factories.js';
import { type HttpClient, type TestServer, startTestServer } from '../helpers/server.js';
import { type TestSocket, connectSocket, connected } from '../helpers/socket.js';
import { pdf, upload } from './documents-helpers.js';

/**
 * The attacker's fuzz suite: for EVERY REST route of /api/openapi.json and EVERY Socket.IO command of
 * the protocol table, seeded random requests that are invalid by construction — type-confused fields,
 * oversized values, missing required fields, unknown keys, prototype-polluting keys (`__proto__`,
 * `constructor`), bodies that are not objects or not JSON, ids spelled wrong — sent as a user who may
 * use the route and as one who may not. Asserted: no 5xx, no hang, no disconnect, only codes of the
 * closed list, never a success for a write, and the database byte-for-byte unchanged.
 *
 * Replay a failure: FUZZ_SEED=<the printed seed> npx vitest run test/integration/fuzz.test.ts
 */
const SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const PER_ROUTE = Number(process.env.FUZZ_RUNS ?? 4);
const CODES = new Set<string>(ERROR_CODES);

type Schema = { type?: string | string[]; properties?: Record<string, Schema>; required?: string[]; enum?: unknown[]; const?: unknown; anyOf?: Schema[]; oneOf?: Schema[]; items?: Schema; maxLength?: number; maxItems?: number };
type Op = { requestBody?: { content: Record<string, { schema?: Schema }> }; parameters?: { in: string; name: string; schema: Schema }[] };

const jsonType = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v === 'number' ? 'number' : typeof v);

/** JSON types a schema admits (`integer` counts as `number`); null = unconstrained. */
function allowedTypes(s: Schema | undefined): Set<string> | null {
  if (!s) return null;
  const alts = s.anyOf ?? s.oneOf;
  if (alts) {
    const out = new Set<string>();
    for (const a of alts) {
      const t = allowedTypes(a);
      if (!t) return null;
      for (const x of t) out.add(x);
    }
    return out;
  }
  if (s.enum) return new Set(s.enum.map(jsonType));
  if (s.const !== undefined) return new Set([jsonType(s.const)]);
  if (!s.type) return null;
  return new Set((Array.isArray(s.type) ? s.type : [s.type]).map((t) => (t === 'integer' ? 'number' : t)));
}

/** A plausible value for a schema (so that one deliberate violation is what the server sees). */
function plausible(s: Schema, ids: (name: string) => number, name: string): unknown {
  if (s.enum) return s.enum[0];
  if (s.const !== undefined) return s.const;
  const alts = s.anyOf ?? s.oneOf;
  if (alts) return plausible(alts[0], ids, name);
  const t = Array.isArray(s.type) ? s.type[0] : s.type;
  if (t === 'string') return /At$/.test(name) ? '2030-01-01T08:00:00+07:00' : 'Phiên họp';
  if (t === 'integer' || t === 'number') return /Id$|^id$/.test(name) ? ids(name) : 1;
  if (t === 'boolean') return false;
  if (t === 'array') return [];
  if (t === 'null') return null;
  if (t === 'object') return {};
  return 'x';
}

const TROUBLE: unknown[] = [null, true, false, 0, -1, 1.5, 2 ** 53, '', '1', '2', ' 1', '1.0', '0x1', '1e0', [], [1], {}, { $gt: '' }, 'x'.repeat(70_000), "'; DROP TABLE users; --", '<script>alert(1)</script>', '\u0000', '../../etc/passwd'];

type Mutation = 'typeConfused' | 'missing' | 'extra' | 'proto' | 'constructor' | 'oversizedField' | 'oversizedBody' | 'notObject' | 'badJson' | 'badPath' | 'badQuery' | 'bodyOnBodyless';
const BAD_IDS = ['0', '-1', '01', '1.0', '%201', '0x1', '1e0', '%2B1', 'abc', '99999999999999999999', '9007199254740993', 'null', '%00', "1'or'1'='1"];

/** One invalid request for a route, deterministic in `r` (a fast-check generated tuple). */
function invalidRequest(path: string, method: string, op: Op, ids: (name: string, path: string) => number, r: { kind: number; pick: number; junk: unknown; extraKey: string }) {
  const schema = op.requestBody?.content['application/json']?.schema;
  const raw = !!op.requestBody && !schema;
  const pathParams = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
  const queryParams = (op.parameters ?? []).filter((p) => p.in === 'query');
  const kinds: Mutation[] = [];
  if (pathParams.length) kinds.push('badPath');
  if (method === 'get') {
    if (queryParams.length) kinds.push('badQuery');
  } else if (schema) {
    kinds.push('typeConfused', 'extra', 'proto', 'constructor', 'notObject', 'badJson', 'oversizedBody');
    if ((schema.required ?? []).length) kinds.push('missing');
    if (Object.values(schema.properties ?? {}).some((p) => p.maxLength)) kinds.push('oversizedField');
  } else if (raw) kinds.push('badJson', 'notObject', 'proto');
  else kinds.push('badJson', 'bodyOnBodyless', 'proto');
  if (!kinds.length) return null;
  const kind = kinds[r.kind % kinds.length];
  const idOf = (name: string) => ids(name, path);
  let url = path.replace(/\{([^}]+)\}/g, (_, name: string) => String(idOf(name)));
  if (kind === 'badPath') {
    const which = pathParams[r.pick % pathParams.length];
    url = path.replace(/\{([^}]+)\}/g, (_, name: string) => (name === which ? BAD_IDS[r.pick % BAD_IDS.length] : String(idOf(name))));
  }
  if (kind === 'badQuery') {
    const q = queryParams[r.pick % queryParams.length];
    const bad = ['1.0', '01', '%2B1', '0x1', 'abc', '', '%00', `${r.pick}e0`][r.pick % 8];
    url += `?${q.name}=${bad}&${q.name}=${bad}`;
  }
  if (path === '/api/search' || path.endsWith('/find')) url += url.includes('?') ? '&q=a' : '?q=a';
  const skeleton: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(schema?.properties ?? {})) skeleton[k] = plausible(v, idOf, k);
  const json = (b: unknown) => ({ body: JSON.stringify(b), headers: { 'content-type': 'application/json' } });
  let req: { body?: string; headers?: Record<string, string> } = {};
  const props = Object.keys(schema?.properties ?? {});
  switch (kind) {
    case 'typeConfused': {
      if (!props.length) {
        req = json({ ...skeleton, [r.extraKey]: r.junk });
        break;
      }
      const k = props[r.pick % props.length];
      const allowed = allowedTypes(schema!.properties![k]);
      const candidates = TROUBLE.filter((v) => allowed && !allowed.has(jsonType(v)));
      req = candidates.length ? json({ ...skeleton, [k]: candidates[r.pick % candidates.length] }) : json({ ...skeleton, [r.extraKey]: r.junk });
      break;
    }
    case 'missing': {
      const req_ = schema!.required!;
      const b = { ...skeleton };
      delete b[req_[r.pick % req_.length]];
      req = json(b);
      break;
    }
    case 'oversizedField': {
      const k = props.filter((p) => schema!.properties![p].maxLength)[r.pick % props.filter((p) => schema!.properties![p].maxLength).length];
      req = json({ ...skeleton, [k]: 'đ'.repeat(schema!.properties![k].maxLength! + 1) });
      break;
    }
    case 'extra':
    case 'bodyOnBodyless':
      req = json({ ...skeleton, [r.extraKey]: r.junk });
      break;
    case 'proto':
      req = { body: `{"__proto__":{"systemRole":"admin","isAdmin":true}${Object.keys(skeleton).length ? ',' + JSON.stringify(skeleton).slice(1, -1) : ''}}`, headers: { 'content-type': 'application/json' } };
      break;
    case 'constructor':
      req = json({ ...skeleton, constructor: { prototype: { isAdmin: true } } });
      break;
    case 'notObject':
      req = json([r.junk, skeleton]);
      break;
    case 'badJson':
      req = { body: ['{', '{"a":', '[1,2', '{"version":1,}', '\u0000', 'nul', '{"a":1}}'][r.pick % 7], headers: { 'content-type': 'application/json' } };
      break;
    case 'oversizedBody':
      req = json({ ...skeleton, [props[0] ?? 'x']: 'x'.repeat(300_000) });
      break;
    default:
      break;
  }
  if (method === 'get') req = {};
  return { kind, url, ...req };
}

describe('the attacker’s fuzz suite: every REST route and every socket command', () => {
  const savedRate = hubOptions.ratePoints;
  let s: TestServer;
  let admin: HttpClient;
  let m: BuiltMeeting;
  let secretary: HttpClient;
  let outsider: HttpClient;
  let outsiderId: number;
  let documentId: number;
  let paths: Record<string, Record<string, Op>>;
  beforeAll(async () => {
    hubOptions.ratePoints = 1_000_000; // the per-socket limit is not what is fuzzed here
    s = await startTestServer({ seed: 'admin' });
    admin = await s.login('admin');
    m = await buildMeeting(s, { members: 1, agendaItems: 2 });
    secretary = await m.as('secretary');
    const u = await buildUser(s, { admin });
    outsider = await s.login(u.username, u.password);
    outsiderId = u.id;
    const up = await upload(secretary, m.meetingId, m.itemIds[0], pdf('seed-0.pdf'), 'seed.pdf');
    expect(up.status).toBe(201);
    documentId = up.body.id;
    paths = (await s.anonymous().get('/api/openapi.json')).body.paths;
    console.info(`fuzz seed ${SEED} — replay with FUZZ_SEED=${SEED} npx vitest run test/integration/fuzz.test.ts`);
  });
  afterAll(async () => {
    await s.close();
    hubOptions.ratePoints = savedRate;
  });

  /** The real id a path parameter or payload field names, so that the one violation is what is refused. */
  const ids = (name: string, path = '') => {
    if (name === 'itemId') return m.itemIds[0];
    if (name === 'meetingId') return m.meetingId;
    if (name === 'committeeId') return m.committeeId;
    if (name === 'documentId') return documentId;
    if (name === 'userId' || name === 'toUserId') return outsiderId;
    if (name === 'id') {
      if (path.startsWith('/api/meetings/')) return m.meetingId;
      if (path.startsWith('/api/documents/')) return documentId;
      if (path.startsWith('/api/committees/')) return m.committeeId;
      if (path.includes('/users/')) return outsiderId;
    }
    return 1;
  };

  it('the OpenAPI document is 3.1 and covers the foundation routes', async () => {
    const doc = (await s.anonymous().get('/api/openapi.json')).body;
    expect(doc.openapi).toBe('3.1.0');
    for (const p of ['/api/auth/login', '/api/meetings', '/api/meetings/{id}/agenda/items/{itemId}/move', '/api/users', '/api/committees', '/api/rooms']) {
      expect(Object.keys(doc.paths)).toContain(p);
    }
  });

  it('REST: invalid requests to every route, as an allowed and a disallowed user — no 5xx, no hang, only listed codes, no write accepted, database unchanged', { timeout: 120_000 }, async () => {
    // Warm-up: reads that fill derived state on first use (demo CA, generated minutes sections).
    for (const [path, ops] of Object.entries(paths)) if (ops.get) for (const c of [admin, secretary, outsider]) await c.get(path.replace(/\{([^}]+)\}/g, (_, n: string) => String(ids(n, path))));
    const before = await dbDigest(s);
    const failures: string[] = [];
    const kinds: Record<string, number> = {};
    let sent = 0;
    let routeIndex = 0;
    const caseArb = fc.record({ kind: fc.nat(1000), pick: fc.nat(1000), junk: fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.constantFrom(...TROUBLE)), extraKey: fc.oneof(fc.constantFrom('isAdmin', 'systemRole', 'userId', 'role', '__fuzz', 'toString', 'hasOwnProperty'), fc.string({ minLength: 1, maxLength: 12 })) });
    for (const [path, ops] of Object.entries(paths)) {
      for (const [method, op] of Object.entries(ops)) {
        routeIndex++;
        const cases = fc.sample(caseArb, { seed: SEED + routeIndex, numRuns: PER_ROUTE });
        for (const [who, client] of [['allowed', method === 'get' || path.startsWith('/api/users') || path.startsWith('/api/admin') || path.startsWith('/api/rooms') || path === '/api/committees' ? admin : secretary], ['disallowed', outsider]] as const) {
          for (const c of cases) {
            const req = invalidRequest(path, method, op, ids, c);
            if (!req) continue;
            kinds[req.kind] = (kinds[req.kind] ?? 0) + 1;
            const label = `${who} ${method.toUpperCase()} ${req.url} [${req.kind}] ${String(req.body ?? '').slice(0, 120)}`;
            let res;
            try {
              res = await Promise.race([
                client.request(method.toUpperCase(), req.url, req.body, req.headers ?? {}),
                new Promise<never>((_, rej) => setTimeout(() => rej(new Error('no answer in 10 s')), 10_000)),
              ]);
            } catch (e) {
              failures.push(`${label} → ${(e as Error).message}`);
              continue;
            }
            sent++;
            if (res.status >= 500) failures.push(`${label} → ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`);
            else if (method !== 'get' && res.status < 400) failures.push(`${label} → accepted (${res.status})`);
            else if (res.status >= 400 && !(CODES.has(res.body?.error?.code) && typeof res.body?.error?.message === 'string')) failures.push(`${label} → ${res.status} with code ${JSON.stringify(res.body?.error?.code)}`);
          }
        }
      }
    }
    console.info(`fuzz REST: ${sent} requests over ${routeIndex} operations`, kinds);
    expect(failures).toEqual([]);
    expect(sent).toBeGreaterThan(routeIndex * 2);
    expect(await dbDigest(s)).toEqual(before);
    expect((await admin.get('/healthz')).status).toBe(200);
  });

  it('Socket.IO: invalid payloads for every command of the protocol table, as an allowed and a disallowed user — failed acks with listed codes, no disconnect, database unchanged', { timeout: 120_000 }, async () => {
    const chairSock = await connected(connectSocket(s.url, await m.as('chair'), { reconnection: false }));
    const outsiderSock = await connected(connectSocket(s.url, outsider, { reconnection: false }));
    expect((await chairSock.cmd('meeting:join', { meetingId: m.meetingId })).ok).toBe(true);
    await outsiderSock.cmd('meeting:join', { meetingId: m.meetingId });
    const before = await dbDigest(s);
    const failures: string[] = [];
    let sent = 0;
    let index = 0;
    const caseArb = fc.record({ kind: fc.nat(1000), pick: fc.nat(1000), junk: fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.constantFrom(...TROUBLE.filter((t) => typeof t !== 'string' || t.length < 1000))), extraKey: fc.constantFrom('isAdmin', 'userId', 'role', 'canChair', '__fuzz') });
    const events = Object.keys(COMMANDS);
    for (const event of [...events, 'no:such_event']) {
      index++;
      const spec = (COMMANDS as Record<string, { payload: z.ZodType }>)[event];
      const schema = spec ? (z.toJSONSchema(spec.payload, { io: 'input', unrepresentable: 'any' }) as Schema) : { type: 'object', properties: {} };
      const props = Object.keys(schema.properties ?? {});
      const skeleton: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(schema.properties ?? {})) skeleton[k] = plausible(v, (n) => ids(n), k);
      for (const c of fc.sample(caseArb, { seed: SEED + 10_000 + index, numRuns: PER_ROUTE + 2 })) {
        const kinds = ['extra', 'proto', 'notObject', 'oversized', ...(props.length ? ['typeConfused'] : []), ...((schema.required ?? []).length ? ['missing'] : [])];
        const kind = kinds[c.kind % kinds.length];
        let payload: unknown;
        if (kind === 'extra') payload = { ...skeleton, [c.extraKey]: c.junk };
        else if (kind === 'proto') payload = JSON.parse(`{"__proto__":{"canChair":true,"canManage":true}${props.length ? ',' + JSON.stringify(skeleton).slice(1, -1) : ''}}`);
        else if (kind === 'notObject') payload = [skeleton, c.junk][c.pick % 2] === skeleton ? [skeleton] : c.junk === null || typeof c.junk !== 'object' || Array.isArray(c.junk) ? c.junk : [c.junk];
        else if (kind === 'oversized') payload = { ...skeleton, [props[c.pick % Math.max(1, props.length)] ?? 'x']: 'x'.repeat(60_000) };
        else if (kind === 'missing') {
          payload = { ...skeleton };
          delete (payload as Record<string, unknown>)[schema.required![c.pick % schema.required!.length]];
        } else {
          const k = props[c.pick % props.length];
          const allowed = allowedTypes(schema.properties![k]);
          const candidates = TROUBLE.filter((v) => allowed && !allowed.has(jsonType(v)) && !(typeof v === 'string' && v.length > 1000));
          payload = candidates.length ? { ...skeleton, [k]: candidates[c.pick % candidates.length] } : { ...skeleton, [c.extraKey]: c.junk };
        }
        for (const [who, sock] of [['allowed', chairSock], ['disallowed', outsiderSock]] as [string, TestSocket][]) {
          const label = `${who} ${event} [${kind}] ${JSON.stringify(payload)?.slice(0, 120)}`;
          let ack;
          try {
            ack = await sock.cmd(event, payload);
          } catch (e) {
            failures.push(`${label} → ${(e as Error).message}`);
            continue;
          }
          sent++;
          if (ack.ok) failures.push(`${label} → accepted`);
          else if (!CODES.has(ack.error.code)) failures.push(`${label} → code ${ack.error.code}`);
          if (!sock.socket.connected) failures.push(`${label} → disconnected`);
        }
      }
    }
    chairSock.close();
    outsiderSock.close();
    console.info(`fuzz sockets: ${sent} commands over ${index} events`);
    expect(failures).toEqual([]);
    expect(sent).toBeGreaterThan(events.length * 2);
    expect(await dbDigest(s)).toEqual(before);
    expect((await admin.get('/healthz')).status).toBe(200);
  });
});
