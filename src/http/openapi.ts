import { ERROR_CODES, type ErrorCode } from '../core/errors.js';
import { VERSION } from '../version.js';
import { ROUTES, errorSchema } from './schemas.js';

const COMMON_ERRORS: ErrorCode[] = ['VALIDATION_ERROR', 'UNAUTHENTICATED', 'RATE_LIMITED', 'UNAVAILABLE', 'INTERNAL'];

/** Turn a validation schema's properties into OpenAPI query parameters. */
function queryParameters(schema: Record<string, unknown> | undefined) {
  if (!schema) return [];
  const props = schema.properties as Record<string, Record<string, unknown>>;
  const required = (schema.required as string[] | undefined) ?? [];
  return Object.entries(props).map(([name, s]) => {
    const { description, ...rest } = s;
    return { name, in: 'query', required: required.includes(name), description, schema: rest };
  });
}

/** OpenAPI 3.1 (JSON Schema types such as ["string", "null"]), built from the live route schemas. */
export function openApiDocument() {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of ROUTES) {
    const codes = [...new Set([...COMMON_ERRORS, ...(r.errors as ErrorCode[])])];
    if (r.body) codes.push('PAYLOAD_TOO_LARGE');
    const byStatus = new Map<number, string[]>();
    for (const c of codes) byStatus.set(ERROR_CODES[c].http, [...(byStatus.get(ERROR_CODES[c].http) ?? []), c]);
    const responses: Record<string, unknown> = {
      200: { description: 'success', content: { 'application/json': { schema: r.response } } },
    };
    for (const [status, cs] of [...byStatus].sort((a, b) => a[0] - b[0])) {
      responses[status] = { description: cs.join(', '), content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } };
    }
    const parameters: unknown[] = queryParameters(r.querystring);
    if (r.idempotencyKey) {
      parameters.push({
        name: 'Idempotency-Key',
        in: 'header',
        required: false,
        description: 'replays answer the first answer for 24 h; another body with the same key is IDEMPOTENCY_MISMATCH',
        schema: { type: 'string', minLength: 1, maxLength: 255 },
      });
    }
    paths[r.url] = {
      ...(paths[r.url] ?? {}),
      [r.method.toLowerCase()]: {
        operationId: r.key,
        summary: r.summary,
        description: `Roles: ${r.roles}.`,
        security: [{ bearer: [] }],
        parameters: parameters.length ? parameters : undefined,
        requestBody: r.body ? { required: false, content: { 'application/json': { schema: r.body } } } : undefined,
        responses,
      },
    };
  }
  paths['/healthz'] = { get: { operationId: 'healthz', summary: '200 when the database answers', security: [], responses: { 200: { description: 'ok' }, 503: { description: 'UNAVAILABLE' } } } };
  paths['/metrics'] = { get: { operationId: 'metrics', summary: 'Prometheus text format', security: [], responses: { 200: { description: 'metrics', content: { 'text/plain': {} } } } } };
  return {
    openapi: '3.1.0',
    info: { title: 'Rayon points HTTP mode', version: VERSION },
    servers: [{ url: '/' }],
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      schemas: { Error: errorSchema },
    },
    paths,
  };
}
