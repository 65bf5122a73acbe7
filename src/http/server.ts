import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { Ajv } from 'ajv';
import type { Db } from '../db/connect.js';
import { RayonError, mapDbError } from '../core/errors.js';
import { CatalogTotals } from '../core/catalog/index.js';
import { activeRevokedJtis } from '../core/tokens/index.js';
import { bearerToken, makeVerifier } from './auth.js';
import type { AppCtx } from './route.js';
import type { AuthConfig } from '../config/serve.js';
import { Metrics } from './metrics.js';
import { MemoryStore, RateLimiter, RedisStore, type RateLimitConfig } from './rate-limit.js';
import { StatsRecorder } from './stats.js';
import { openApiDocument } from './openapi.js';
import { DEFAULT_REVOCATION_REFRESH_MS, RevocationList } from './revocations.js';
import { registerPointsRoutes } from './routes/points.js';
import { registerRewardsRoutes } from './routes/rewards.js';
import { registerUsersRoutes } from './routes/users.js';
import { installDeadline } from './deadline.js';
import { HealthProbe } from './health.js';
import { DEFAULT_LIMITS, applySocketLimits, type SocketLimits } from './limits.js';
import { guardPool } from '../db/scope.js';
import { ping } from '../db/handle.js';

export interface ServerOptions {
  db: Db;
  auth: AuthConfig;
  rateLimits: RateLimitConfig;
  redisUrl?: string;
  redisPrefix?: string;
  /** Business time (RAYON_NOW); token expiry and rate limits keep real time. */
  now: () => Date;
  statsFlushMs?: number;
  /** How long a catalog page total may be reused (0: count on every page). */
  catalogTotalTtlMs?: number;
  logLevel?: string;
  /** How often the revoked token ids are re-read (default 15 s). */
  revocationRefreshMs?: number;
  /** Request deadline, connection cap, keep-alive and headers timeouts (DEFAULT_LIMITS). */
  limits?: Partial<SocketLimits>;
}

export interface RayonServer {
  app: FastifyInstance;
  /** Stop accepting, finish in-flight requests, flush statistics, close Redis (not the pool). */
  close(): Promise<void>;
}

export const BODY_LIMIT = 16 * 1024;
const RETRY_AFTER_UNAVAILABLE_S = 2;
const SHUTDOWN_GRACE_MS = 10_000;
const HEALTH_PROBE_INTERVAL_MS = 1000;
const HEALTH_PROBE_TIMEOUT_MS = 2000;


export async function createServer(opts: ServerOptions): Promise<RayonServer> {
  const knex = opts.db.knex;
  const revocations = new RevocationList(() => activeRevokedJtis(knex), { refreshMs: opts.revocationRefreshMs ?? DEFAULT_REVOCATION_REFRESH_MS });
  const verifier = await makeVerifier(opts.auth, revocations);
  await revocations.load();
  let store = null;
  if (opts.rateLimits) {
    if (opts.redisUrl) {
      const rs = new RedisStore(opts.redisUrl, opts.redisPrefix);
      await rs.ready().catch(async (err) => {
        await rs.close();
        throw new RayonError('UNAVAILABLE', `cannot reach Redis at RAYON_REDIS_URL: ${(err as Error).message}`);
      });
      store = rs;
    } else store = new MemoryStore();
  }
  const limiter = new RateLimiter(opts.rateLimits, store);
  const limits: SocketLimits = { ...DEFAULT_LIMITS, ...opts.limits };
  const health = new HealthProbe(() => ping(knex), {
    intervalMs: HEALTH_PROBE_INTERVAL_MS,
    timeoutMs: Math.min(HEALTH_PROBE_TIMEOUT_MS, limits.requestTimeoutMs),
  });
  const metrics = new Metrics(opts.db.kind === 'postgres' ? knex : null, { rateLimitStoreErrors: () => limiter.storeErrors, healthProbes: () => health.probes });
  // Requests' database work stops at their deadline (src/db/scope.ts).
  if (opts.db.kind === 'postgres') guardPool(knex);

  const app = Fastify({
    logger: { level: opts.logLevel ?? 'warn' },
    bodyLimit: BODY_LIMIT,
    // Our own onRequest hook answers 503 during shutdown, in the SPEC's error shape.
    return503OnClosing: false,
    forceCloseConnections: 'idle',
  });
  applySocketLimits(app.server, limits, () => metrics.connectionsRefused.inc());
  installDeadline(app, limits.requestTimeoutMs, (req) => metrics.deadlineExceeded.inc({ route: req.routeOptions.config?.key ?? req.routeOptions.url ?? 'unmatched' }));
  const stats = new StatsRecorder(knex, opts.statsFlushMs ?? 10_000, (err) => app.log.warn({ err: String(err) }, 'request statistics not flushed; will retry'));

  // Bodies must be exact: no coercion, no silent removal of unknown fields. Query strings are
  // text by nature, so their numbers are coerced (page=2), and nothing else.
  const bodyAjv = new Ajv({ removeAdditional: false, coerceTypes: false, useDefaults: true, allErrors: false, strict: false });
  const queryAjv = new Ajv({ removeAdditional: false, coerceTypes: true, useDefaults: true, allErrors: false, strict: false });
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? bodyAjv : queryAjv).compile(schema as object));
  app.setSchemaErrorFormatter((errors, dataVar) => {
    const e = errors[0];
    const params = e.params as Record<string, unknown>;
    const where = dataVar === 'querystring' ? 'query parameter' : dataVar;
    let msg: string;
    if (e.keyword === 'additionalProperties') msg = `unknown ${where === 'body' ? 'body field' : where} "${String(params.additionalProperty)}"`;
    else if (e.keyword === 'required') msg = `${where === 'body' ? 'body field' : where} "${String(params.missingProperty)}" is required`;
    else {
      const name = e.instancePath.replace(/^\//, '').replace(/\//g, '.');
      msg = name ? `${where === 'body' ? 'body field' : where} "${name}" ${e.message}` : `${dataVar} ${e.message}`;
    }
    return new Error(msg);
  });

  const ctx: AppCtx = {
    knex,
    now: opts.now,
    catalogTotals: new CatalogTotals(opts.catalogTotalTtlMs ?? 0),
    async limit(route, userId) {
      const r = await limiter.take(route, userId);
      if (!r.allowed) {
        metrics.rateLimited.inc({ route });
        throw new RayonError('RATE_LIMITED', `too many ${route} requests for this user; retry in ${r.retryAfterS} s`, { data: { retryAfterS: r.retryAfterS } });
      }
    },
  };

  app.decorateRequest('principal', undefined);
  app.decorateRequest('startNs', 0n);
  app.decorateReply('errorCode', undefined);

  let closing = false;
  app.addHook('onRequest', async (req) => {
    req.startNs = process.hrtime.bigint();
    if (closing) throw new RayonError('UNAVAILABLE', 'the server is shutting down; retry shortly');
    // Authentication comes first, before the body is even read (SPEC: checks order).
    // Decided on the matched route as well as the raw URL, so no spelling of a path (percent
    // encoding, case) can reach an /api handler without a token.
    const route = req.routeOptions.url;
    if ((route !== undefined && route.startsWith('/api')) || req.url.toLowerCase().startsWith('/api')) {
      req.principal = await verifier.verify(bearerToken(req.headers.authorization));
    }
  });
  // A service or admin token is also limited as a whole, whatever users it acts for (after
  // validation, like the per-user limits; a refused request reaches no handler, writes nothing).
  app.addHook('preHandler', async (req) => {
    const p = req.principal;
    if (p === undefined || p.role === 'user') return;
    const r = await limiter.takeCaller(p.sub);
    if (!r.allowed) {
      metrics.callerRateLimited.inc({ sub: p.sub });
      throw new RayonError('RATE_LIMITED', `too many requests from this ${p.role} token (all users together); retry in ${r.retryAfterS} s`, { data: { retryAfterS: r.retryAfterS } });
    }
  });
  // A POST without any body means "{}" (a user collecting with its own token sends nothing).
  app.addHook('preValidation', async (req) => {
    if (req.method === 'POST' && req.body === undefined) req.body = {};
  });
  // Once shutdown starts, answers close their connection, so keep-alive sockets of in-flight
  // requests do not hold the server open after their last answer.
  app.addHook('onSend', async (_req, reply, payload) => {
    if (closing) void reply.header('connection', 'close');
    return payload;
  });
  app.addHook('onResponse', async (req, reply) => {
    const ms = Number(process.hrtime.bigint() - req.startNs) / 1e6;
    const route = req.routeOptions.config?.key ?? (req.routeOptions.url ? req.routeOptions.url : 'unmatched');
    const status = reply.statusCode;
    metrics.requests.inc({ route, method: req.method, status: String(status) });
    metrics.duration.observe({ route, method: req.method, status_class: `${Math.floor(status / 100)}xx` }, ms / 1000);
    if (status >= 400) metrics.errors.inc({ route, code: reply.errorCode ?? String(status) });
    stats.record(route, status, ms);
  });

  app.setErrorHandler(async (raw: FastifyError | Error, req: FastifyRequest, reply: FastifyReply) => {
    const err = toRayonError(raw);
    if (err.code === 'INTERNAL') req.log.error({ err: raw, url: req.url }, 'unexpected error');
    if (err.code === 'UNAVAILABLE') {
      req.log.warn({ err: String((raw as Error).message) }, 'database unavailable');
      void reply.header('Retry-After', String(RETRY_AFTER_UNAVAILABLE_S));
    }
    if (err.code === 'RATE_LIMITED') void reply.header('Retry-After', String(err.data?.retryAfterS ?? 1));
    reply.errorCode = err.code;
    return reply.code(err.httpStatus).type('application/json').send({ error: { code: err.code, message: err.message } });
  });
  app.setNotFoundHandler(async (req, reply) => {
    reply.errorCode = 'NOT_FOUND';
    return reply.code(404).send({ error: { code: 'NOT_FOUND', message: `no route ${req.method} ${req.url.split('?')[0]}` } });
  });

  // Both cheap whatever the load: a cached probe (one a second at most), and metrics from memory.
  app.get('/healthz', { config: { key: 'healthz' } }, async () => {
    await health.check();
    return { status: 'ok' };
  });
  app.get('/metrics', { config: { key: 'metrics' } }, async (_req, reply) => {
    const text = await metrics.render();
    void reply.type(metrics.registry.contentType);
    return text;
  });
  const openapi = openApiDocument();
  app.get('/openapi.json', { config: { key: 'openapi' } }, async () => openapi);

  registerPointsRoutes(app, ctx);
  registerRewardsRoutes(app, ctx);
  registerUsersRoutes(app, ctx);

  await app.ready();
  stats.start();
  revocations.start((err) => app.log.warn({ err: String(err) }, 'token revocations not re-read; will retry'));
  return {
    app,
    async close() {
      closing = true;
      // In-flight requests get SHUTDOWN_GRACE_MS to finish; then remaining sockets are cut.
      const deadline = setTimeout(() => app.server.closeAllConnections(), SHUTDOWN_GRACE_MS);
      deadline.unref();
      await app.close();
      clearTimeout(deadline);
      await stats.stop();
      await revocations.stop();
      await limiter.close();
    },
  };
}

// Connection failures the pg driver reports without an error code.
const LOST_CONNECTION_RE = /Connection terminated|not queryable|connection error|timeout exceeded when trying to connect|Connection refused|ECONNRESET|ECONNREFUSED/i;

/**
 * Every failure becomes one of the SPEC's codes. Framework errors (bad JSON, body too large,
 * wrong content type) are the client's; database errors go through mapDbError; anything else is
 * INTERNAL with a generic message — never a stack, SQL text or internal identifier.
 */
export function toRayonError(raw: unknown): RayonError {
  const mapped = mapDbError(raw);
  if (mapped instanceof RayonError) return mapped;
  const e = raw as FastifyError;
  if (e && typeof e === 'object') {
    if (!e.code && !e.statusCode && LOST_CONNECTION_RE.test(e.message ?? '')) {
      return new RayonError('UNAVAILABLE', 'the database is unavailable; retry shortly', { cause: raw });
    }
    if (e.validation) return new RayonError('VALIDATION_ERROR', e.message);
    switch (e.code) {
      case 'FST_ERR_CTP_BODY_TOO_LARGE':
        return new RayonError('PAYLOAD_TOO_LARGE', `the body is larger than ${BODY_LIMIT} bytes`);
      case 'FST_ERR_CTP_INVALID_JSON_BODY':
        return new RayonError('VALIDATION_ERROR', 'the body is not valid JSON');
      case 'FST_ERR_CTP_EMPTY_JSON_BODY':
        return new RayonError('VALIDATION_ERROR', 'the body is empty; send a JSON object (at least {})');
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
        return new RayonError('VALIDATION_ERROR', 'the body must be JSON (Content-Type: application/json)');
      case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
        return new RayonError('VALIDATION_ERROR', 'the Content-Length does not match the body');
      default:
        break;
    }
    // Prototype-poisoning refusals and other client errors from the JSON parser.
    if (e.statusCode === 400 && (e instanceof SyntaxError || /JSON|__proto__|constructor/i.test(e.message ?? ''))) {
      return new RayonError('VALIDATION_ERROR', 'the body is not acceptable JSON');
    }
    if (e.statusCode === 413) return new RayonError('PAYLOAD_TOO_LARGE', `the body is larger than ${BODY_LIMIT} bytes`);
  }
  return new RayonError('INTERNAL', 'internal error; it has been logged');
}
