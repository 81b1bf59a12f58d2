import { z, type ZodType } from 'zod';
import { ErrorBody } from '../../shared/protocol/common.js';
import type { Api, RouteSpec } from './api.js';

const jsonSchema = (s: ZodType, io: 'input' | 'output') =>
  z.toJSONSchema(s, { target: 'draft-2020-12', io, unrepresentable: 'any' }) as Record<string, unknown>;

/** `/api/meetings/:id` → `/api/meetings/{id}` */
const toOpenApiPath = (p: string) => p.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

function parameters(spec: RouteSpec<ZodType, ZodType, ZodType>) {
  const out: unknown[] = [];
  for (const [where, schema] of [
    ['path', spec.params],
    ['query', spec.query],
  ] as const) {
    if (!schema) continue;
    const js = jsonSchema(schema, 'input') as { properties?: Record<string, unknown>; required?: string[] };
    for (const [name, s] of Object.entries(js.properties ?? {})) {
      out.push({ name, in: where, required: where === 'path' || (js.required ?? []).includes(name), schema: s });
    }
  }
  return out;
}

/**
 * OpenAPI 3.1 for every route registered on `api`, generated from the same zod schemas that
 * validate requests, so the document cannot drift from the server's behaviour.
 */
export function buildOpenApi(api: Api, version: string) {
  const paths: Record<string, Record<string, unknown>> = {};
  const errorResponse = { description: 'Error', content: { 'application/json': { schema: jsonSchema(ErrorBody, 'output') } } };
  for (const spec of api.routes) {
    const op: Record<string, unknown> = {
      summary: spec.summary,
      tags: spec.tags,
      operationId: `${spec.method}${toOpenApiPath(spec.path).replace(/[^A-Za-z0-9]+(.)?/g, (_, c: string) => (c ? c.toUpperCase() : ''))}`,
      parameters: parameters(spec),
      security: spec.access === 'public' ? [] : [{ session: [] }],
      'x-access': spec.access,
      responses: {
        [String(spec.status ?? (spec.noContent ? 204 : 200))]: spec.responseContentType
          ? { description: 'OK', content: { [spec.responseContentType]: {} } }
          : spec.response
            ? { description: 'OK', content: { 'application/json': { schema: jsonSchema(spec.response, 'output') } } }
            : { description: 'No content' },
        '4XX': errorResponse,
        // Heavy work goes through a bounded queue: 503 `busy` when it is full.
        ...(spec.heavy ? { '503': errorResponse } : {}),
      },
      ...(spec.heavy ? { 'x-heavy': true } : {}),
    };
    if (spec.body) {
      op.requestBody = {
        required: true,
        content:
          spec.bodyType === 'raw'
            ? { [spec.rawContentType ?? 'application/octet-stream']: {} }
            : { 'application/json': { schema: jsonSchema(spec.body, 'input') } },
      };
    }
    (paths[toOpenApiPath(spec.path)] ??= {})[spec.method] = op;
  }
  return {
    openapi: '3.1.0',
    info: { title: 'E-Cabinet API', version, description: 'Paperless meetings for steering committees and boards.' },
    components: {
      securitySchemes: { session: { type: 'apiKey', in: 'cookie', name: 'ec_sid' } },
    },
    paths,
  };
}
