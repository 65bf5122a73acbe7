import type { Knex } from 'knex';
import type { CatalogTotals } from '../core/catalog/index.js';
import type { Principal } from './auth.js';
import { routeSchema } from './schemas.js';

/**
 * What every route module is given and declares: the context (AppCtx), the fields the server
 * adds to requests and replies, and a route's options. The route modules import this, never
 * server.ts nor each other, so nothing imports in a circle.
 */

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
    startNs: bigint;
  }
  interface FastifyReply {
    errorCode?: string;
  }
  interface FastifyContextConfig {
    key?: string;
  }
}

/** What the route modules get: the database, the business clock and the rate limiter. */
export interface AppCtx {
  knex: Knex;
  now(): Date;
  /** Take a rate-limit token for (route, target user), or throw RATE_LIMITED. */
  limit(route: string, userId: string): Promise<void>;
  /** Catalog page totals reused for a few seconds (see CatalogTotals). */
  catalogTotals: CatalogTotals;
}

/** Options of one route: its schemas for validation and serialisation, its key for limits and metrics. */
export function routeOptions(key: string) {
  const s = routeSchema(key);
  return {
    config: { key },
    schema: {
      ...(s.querystring ? { querystring: s.querystring } : {}),
      ...(s.body ? { body: s.body } : {}),
      response: { 200: s.response },
    },
  };
}
