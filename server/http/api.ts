import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { z, type ZodType } from 'zod';
import type { AuthUser } from '../auth/sessions.js';
import { AppError, busy, forbidden, unauthenticated } from './errors.js';

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** Who may call a route at all; finer rules (meeting role) live in the services. */
export type Access = 'public' | 'user' | 'admin';

/**
 * What a route answers on success; every route declares exactly one, so a route without a documented
 * response is a type error: a JSON `response` schema (checked against the handler's result outside
 * production), a non-JSON `responseContentType` (downloads, streams), or `noContent: true` (204, no body).
 */
export type RouteResponse =
  | { response: ZodType; responseContentType?: never; noContent?: never }
  | { responseContentType: string; response?: never; noContent?: never }
  | { noContent: true; response?: never; responseContentType?: never };

/** A REST route described once: it validates requests and documents itself in OpenAPI. */
export type RouteSpec<P extends ZodType, Q extends ZodType, B extends ZodType> = RouteSpecBase<P, Q, B> & RouteResponse;

interface RouteSpecBase<P extends ZodType, Q extends ZodType, B extends ZodType> {
  method: Method;
  /** Express-style path: `/api/meetings/:id`. */
  path: string;
  summary: string;
  tags: string[];
  access: Access;
  params?: P;
  query?: Q;
  body?: B;
  /** `json` (default when `body` is set), or `raw` when the handler reads the stream itself (uploads). */
  bodyType?: 'json' | 'raw';
  /** Documented content type of a raw body. */
  rawContentType?: string;
  status?: number;
  /**
   * Heavy work (PDF rendering, exports): the handler runs through the API's bounded queue — at most
   * `heavyLimits.concurrency` at a time, at most `heavyLimits.queue` waiting; beyond that 503 `busy`.
   */
  heavy?: boolean;
}

/** Limits of the heavy-work queue (tests may change them). */
export const heavyLimits = { concurrency: 2, queue: 16 };

export interface HandlerContext<P, Q, B> {
  req: Request;
  res: Response;
  /** Present on every route whose access is not `public`. */
  user: AuthUser;
  params: P;
  query: Q;
  body: B;
}

type Infer<T> = T extends ZodType ? z.output<T> : undefined;

/**
 * The REST surface of the app. Domain routers call `api.route(spec, handler)`; this parses params,
 * query and body with the spec's zod schemas (400 `invalid_payload` listing the issues, handler not
 * called), enforces the access level, sends the handler's return value as JSON, and records the spec
 * so `openapi.ts` can describe the whole API from the same schemas.
 */
export class Api {
  readonly routes: RouteSpec<ZodType, ZodType, ZodType>[] = [];
  readonly router: Router = express.Router();

  private heavyRunning = 0;
  private readonly heavyWaiting: (() => void)[] = [];

  /**
   * `settled`: runs after every handler, e.g. to push the notifications its transaction recorded.
   * `drain`: awaited after a handler that may change things (every method but GET), before the response:
   * the work the bus's listeners derived from the change (server/events.ts `queue`) is done when the
   * caller hears back, so its next read sees it on PostgreSQL too, where that work takes round trips.
   * `checkResponses` (development and test, never production): a handler's JSON result must parse with
   * its route's `response` schema, else the request fails as 500 `internal` and the zod issues are logged.
   */
  constructor(private readonly opts: { settled?: () => void; drain?: () => Promise<void>; checkResponses?: boolean } = {}) {}

  /** Heavy work now: { running, waiting } (tests, health). */
  heavyStats() {
    return { running: this.heavyRunning, waiting: this.heavyWaiting.length };
  }

  /**
   * Runs `fn` under the heavy-work limits: waits for a slot (FIFO) or throws 503 `busy` when the queue
   * is full. A slot is handed to the next waiter on a later event-loop turn, so requests queued behind
   * a CPU-bound render still let /healthz, sockets and other requests in between.
   */
  async heavy<T>(fn: () => T | Promise<T>): Promise<T> {
    if (this.heavyRunning >= heavyLimits.concurrency) {
      if (this.heavyWaiting.length >= heavyLimits.queue) throw busy('Too many exports are being prepared; try again in a moment');
      await new Promise<void>((resolve) => this.heavyWaiting.push(resolve));
    } else this.heavyRunning++;
    try {
      return await fn();
    } finally {
      const next = this.heavyWaiting.shift();
      if (next) setImmediate(next); // the slot passes on; heavyRunning unchanged
      else this.heavyRunning--;
    }
  }

  route<P extends ZodType = ZodType, Q extends ZodType = ZodType, B extends ZodType = ZodType>(
    spec: RouteSpec<P, Q, B>,
    handler: (ctx: HandlerContext<Infer<P>, Infer<Q>, Infer<B>>) => unknown,
  ): void {
    assertUrlSchema(spec.path, 'params', spec.params);
    assertUrlSchema(spec.path, 'query', spec.query);
    this.routes.push(spec as unknown as RouteSpec<ZodType, ZodType, ZodType>);
    this.router[spec.method](spec.path, async (req: Request, res: Response, next: NextFunction) => {
      try {
        const user = req.user;
        if (spec.access !== 'public' && !user) throw unauthenticated();
        if (spec.access === 'admin' && user?.systemRole !== 'admin') throw forbidden('Administrators only');
        const params = parse(spec.params, req.params, 'path');
        const query = parse(spec.query, req.query ?? {}, 'query');
        let body: unknown = undefined;
        if (spec.body && spec.bodyType !== 'raw') {
          if (!req.is('application/json')) {
            throw new AppError('unsupported_media_type', 'Send the body as application/json', 415);
          }
          body = parse(spec.body, req.body, 'body');
        } else if (!spec.body && req.body !== undefined && !(isPlainObject(req.body) && Object.keys(req.body).length === 0)) {
          // A route that takes no body refuses one instead of ignoring it (an empty `{}` is tolerated).
          throw new AppError('invalid_payload', 'This route takes no request body', 400);
        }
        const run = () => handler({ req, res, user: user as AuthUser, params, query, body } as never);
        const result = spec.heavy ? await this.heavy(run) : await run();
        if (spec.method !== 'get') await this.opts.drain?.();
        if (!res.headersSent) {
          if (this.opts.checkResponses) checkResponse(spec as RouteSpec<ZodType, ZodType, ZodType>, result);
          if (result === undefined) res.status(spec.status ?? 204).end();
          else res.status(spec.status ?? 200).json(result);
        }
      } catch (err) {
        next(err);
      } finally {
        this.opts.settled?.();
      }
    });
  }
}

/** Throws (→ 500 `internal`, logged by the error funnel) when a result drifts from what the route documents. */
function checkResponse(spec: RouteSpec<ZodType, ZodType, ZodType>, result: unknown): void {
  const route = `${spec.method.toUpperCase()} ${spec.path}`;
  if (spec.noContent) {
    if (result !== undefined) throw new Error(`Response check: ${route} declares no content but its handler returned a value`);
    return;
  }
  if (!spec.response || result === undefined) return;
  const r = spec.response.safeParse(result);
  if (!r.success) {
    const issues = r.error.issues.slice(0, 20).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw Object.assign(new Error(`Response check: ${route} returned a body its response schema refuses: ${issues.join('; ')}`), { route, issues });
  }
}

function parse(schema: ZodType | undefined, value: unknown, where: string): unknown {
  if (!schema) {
    // Routes without a query schema take no query parameters; ignore stray ones silently
    // (cache busters), but a body on a route without one is refused by the JSON check above.
    return where === 'path' ? value : undefined;
  }
  const r = schema.safeParse(value);
  if (!r.success) {
    const issues = r.error.issues.slice(0, 20).map((i) => ({ path: [where, ...i.path].join('.'), message: i.message }));
    throw new AppError('invalid_payload', `Invalid ${where}: ${issues.map((i) => `${i.path} ${i.message}`).join('; ')}`, 400, issues);
  }
  return r.data;
}

/**
 * Path parameters and query strings are strings by nature: their schemas must take strings and parse
 * them strictly (`PathId`, `UrlInt`, enums). A schema expecting a number there (`Id`) would refuse every
 * request, and a coercing number schema would accept "1.0", " 1", "0x1"; both are programming errors, refused at start-up.
 */
function assertUrlSchema(path: string, where: 'params' | 'query', schema: ZodType | undefined): void {
  if (!schema) return;
  const js = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as { type?: string; properties?: Record<string, JsonSchemaNode> };
  if (js.type !== 'object') throw new Error(`${path}: ${where} schema must be an object`);
  for (const [name, prop] of Object.entries(js.properties ?? {})) {
    if (!takesStringsOnly(prop)) throw new Error(`${path}: ${where}.${name} must take a string (use PathId / UrlInt from shared/protocol/common.ts)`);
  }
}

type JsonSchemaNode = { type?: string | string[]; enum?: unknown[]; const?: unknown; anyOf?: JsonSchemaNode[]; oneOf?: JsonSchemaNode[]; allOf?: JsonSchemaNode[] };

function takesStringsOnly(s: JsonSchemaNode): boolean {
  const alts = s.anyOf ?? s.oneOf;
  if (alts) return alts.every(takesStringsOnly);
  if (s.allOf) return s.allOf.some(takesStringsOnly);
  if (s.enum) return s.enum.every((v) => typeof v === 'string');
  if (s.const !== undefined) return typeof s.const === 'string';
  return s.type === 'string';
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
