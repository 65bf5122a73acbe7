import { issueToken, type Role } from '../../src/http/auth.js';
import { createServer, type RayonServer } from '../../src/http/server.js';
import { parseRateLimits, type RateLimitConfig } from '../../src/http/rate-limit.js';
import type { Db } from '../../src/db/connect.js';
import type { AuthConfig } from '../../src/config/serve.js';
import type { SocketLimits } from '../../src/http/limits.js';

export const SECRET = 'test-secret-for-rayon-http-mode-0123456789';
export const AUTH = { secret: new TextEncoder().encode(SECRET) } satisfies AuthConfig;

export interface Running {
  url: string;
  server: RayonServer;
  close(): Promise<void>;
}

/** Start the HTTP mode on a free port of 127.0.0.1 (real sockets, real fetch). */
export async function startServer(
  db: Db,
  opts: { now?: string; rateLimits?: RateLimitConfig | string; auth?: AuthConfig; redisUrl?: string; statsFlushMs?: number; revocationRefreshMs?: number; limits?: Partial<SocketLimits> } = {},
): Promise<Running> {
  const fixed = opts.now ? new Date(opts.now) : undefined;
  const server = await createServer({
    db,
    auth: opts.auth ?? AUTH,
    rateLimits: typeof opts.rateLimits === 'string' || opts.rateLimits === undefined ? parseRateLimits(opts.rateLimits ?? 'off') : opts.rateLimits,
    redisUrl: opts.redisUrl,
    now: () => (fixed ? new Date(fixed) : new Date()),
    statsFlushMs: opts.statsFlushMs ?? 60_000,
    logLevel: 'silent',
    revocationRefreshMs: opts.revocationRefreshMs,
    limits: opts.limits,
  });
  const url = await server.app.listen({ host: '127.0.0.1', port: 0 });
  return { url, server, close: () => server.close() };
}

export async function token(sub: string, role: Role = 'user', ttlSeconds = 600): Promise<string> {
  return (await issueToken(AUTH, { sub, role, ttlSeconds })).token;
}

export interface Answer {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  text: string;
  headers: Headers;
}

/** One HTTP call; `body` as an object is sent as JSON, as a string is sent raw. */
export async function call(
  base: string,
  method: string,
  path: string,
  opts: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let body: string | undefined;
  if (opts.body !== undefined) {
    body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
    headers['content-type'] ??= 'application/json';
  }
  const res = await fetch(base + path, { method, headers, body });
  const text = await res.text();
  let parsed: unknown = undefined;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* not JSON (e.g. /metrics) */
  }
  return { status: res.status, body: parsed, text, headers: res.headers };
}

/** A partner and rewards, straight into the tables (catalog import has its own tests). */
export async function makeRewards(
  knex: import('knex').Knex,
  rewards: Array<{ sku: string; cost: number; stock?: number | null; category?: string; territories?: string[]; fulfilment?: 'instant' | 'manual' }>,
): Promise<number[]> {
  let partner = await knex('partners').where({ code: 'P1' }).first('id');
  if (!partner) [partner] = await knex('partners').insert({ code: 'P1', name: 'Partner One', territory_code: 'RE', commission_rate: 0.1 }).returning('id');
  const ids: number[] = [];
  for (const r of rewards) {
    const [row] = await knex('rewards')
      .insert({
        sku: r.sku,
        name: `Reward ${r.sku}`,
        cost: r.cost,
        category_code: r.category ?? 'food',
        partner_id: partner.id,
        all_territories: !r.territories,
        territories: [...(r.territories ?? [])].sort(),
        available_from: '2026-01-01',
        available_to: '2027-12-31',
        stock: r.stock ?? null,
        fulfilment: r.fulfilment ?? 'instant',
      })
      .returning('id');
    ids.push(Number(row.id));
  }
  return ids;
}
