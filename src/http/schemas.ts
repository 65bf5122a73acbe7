/**
 * JSON Schemas of every HTTP route: they validate requests (unknown fields refused, strict
 * types), serialise answers (only the listed fields leave the server) and generate the OpenAPI
 * document, so the three cannot drift apart.
 */
import { MAX_PAGE_DEPTH } from '../core/bounds.js';
import { REFERENCE_ID_MAX, REFERENCE_ID_RAW_MAX } from '../core/earning/index.js';

const userId = { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,64}$', description: 'user id; defaults to the token subject for a user token' } as const;
const page = {
  type: 'integer', minimum: 1, maximum: 1_000_000, default: 1,
  description: `page number, from 1; page × limit at most ${MAX_PAGE_DEPTH} (deeper is VALIDATION_ERROR)`,
} as const;
const limit = { type: 'integer', minimum: 1, maximum: 100, default: 20, description: 'items per page, at most 100' } as const;
const instant = { type: 'string', description: 'ISO 8601 UTC instant' } as const;
const nullable = <T extends Record<string, unknown>>(s: T) => ({ ...s, type: [s.type as string, 'null'] });
const id = { type: 'string', description: 'identifier (a string of digits)' } as const;

export const TX_TYPES = ['daily', 'earn', 'adjustment', 'redeem', 'refund', 'expire', 'fraud_void', 'fraud_restore', 'revert'] as const;

const strictObject = (properties: Record<string, unknown>, required: string[] = []) => ({
  type: 'object',
  additionalProperties: false,
  properties,
  required,
});

const pageOf = (item: Record<string, unknown>) =>
  strictObject({ items: { type: 'array', items: item }, page: { type: 'integer' }, limit: { type: 'integer' }, total: { type: 'integer' } }, [
    'items',
    'page',
    'limit',
    'total',
  ]);

export const errorSchema = strictObject(
  { error: strictObject({ code: { type: 'string' }, message: { type: 'string' } }, ['code', 'message']) },
  ['error'],
);

const streak = strictObject(
  {
    current: { type: 'integer' },
    max: { type: 'integer' },
    multiplier: { type: 'number' },
    jokers_available: { type: 'integer' },
    jokers_used: { type: 'integer' },
  },
  ['current', 'max', 'multiplier', 'jokers_available', 'jokers_used'],
);

const redemption = strictObject(
  {
    id,
    reward_id: id,
    status: { type: 'string', enum: ['pending', 'fulfilled', 'rejected'] },
    points_spent: { type: 'integer' },
    voucher_code: nullable({ type: 'string', description: 'whole for the user and admin tokens; for a service token every character but the last 4 is *' }),
    created_at: instant,
  },
  ['id', 'reward_id', 'status', 'points_spent', 'voucher_code', 'created_at'],
);

export interface RouteSchema {
  /** Key for rate limits (RAYON_RATE_LIMITS), metrics and stored statistics. */
  key: string;
  method: 'GET' | 'POST';
  url: string;
  summary: string;
  /** Who may call it. */
  roles: string;
  querystring?: Record<string, unknown>;
  body?: Record<string, unknown>;
  response: Record<string, unknown>;
  /** Error codes the route may answer besides UNAUTHENTICATED, VALIDATION_ERROR, RATE_LIMITED, UNAVAILABLE, INTERNAL. */
  errors: string[];
  idempotencyKey?: boolean;
}

export const ROUTES: RouteSchema[] = [
  {
    key: 'balance',
    method: 'GET',
    url: '/api/points/balance',
    summary: 'Balance, lifetime points, status and points expiring in the next 30 days',
    roles: 'user (self), service, admin',
    querystring: strictObject({ user_id: userId }),
    response: strictObject(
      {
        user_id: { type: 'string' },
        balance: { type: 'integer' },
        lifetime_points: { type: 'integer' },
        status: { type: 'string' },
        expiring_soon: { type: 'array', items: strictObject({ points: { type: 'integer' }, expires_at: instant }, ['points', 'expires_at']) },
      },
      ['user_id', 'balance', 'lifetime_points', 'status', 'expiring_soon'],
    ),
    errors: ['FORBIDDEN', 'NOT_FOUND'],
  },
  {
    key: 'history',
    method: 'GET',
    url: '/api/points/history',
    summary: 'Transactions, newest first (ties by id), paginated',
    roles: 'user (self), service, admin',
    querystring: strictObject({ user_id: userId, page, limit, type: { type: 'string', enum: [...TX_TYPES] } }),
    response: pageOf(
      strictObject(
        {
          id,
          type: { type: 'string' },
          amount: { type: 'integer', description: 'credits positive, debits negative' },
          created_at: instant,
          expires_at: nullable(instant),
          action_type: nullable({ type: 'string' }),
          reference_id: nullable({ type: 'string' }),
        },
        ['id', 'type', 'amount', 'created_at', 'expires_at', 'action_type', 'reference_id'],
      ),
    ),
    errors: ['FORBIDDEN', 'NOT_FOUND'],
  },
  {
    key: 'collect-daily',
    method: 'POST',
    url: '/api/points/collect-daily',
    summary: "Collect today's daily points (once per local day)",
    roles: 'user (self), service, admin',
    body: strictObject({ user_id: userId }),
    response: strictObject(
      { transaction_id: id, points_awarded: { type: 'integer' }, balance: { type: 'integer' }, local_date: { type: 'string' }, streak },
      ['points_awarded', 'balance', 'streak'],
    ),
    errors: ['FORBIDDEN', 'NOT_FOUND', 'ACCOUNT_SUSPENDED', 'TERRITORY_NOT_LAUNCHED', 'ALREADY_COLLECTED'],
  },
  {
    key: 'earn',
    method: 'POST',
    url: '/api/points/earn',
    summary: 'Credit points for an action (once per user, action and reference)',
    roles: 'service, admin; a user token only for actions the scale marks user_reportable',
    body: strictObject(
      {
        user_id: userId,
        action_type: { type: 'string', pattern: '^[a-z][a-z0-9_]{0,63}$' },
        // The core normalises it (NFKC, invisible characters removed) and then allows 1-128
        // characters: the raw text may be longer by the invisible characters it carries.
        reference_id: {
          type: 'string', minLength: 1, maxLength: REFERENCE_ID_RAW_MAX, pattern: '^[^\\u0000-\\u001f\\u007f-\\u009f]+$',
          description: `1-${REFERENCE_ID_MAX} printable characters once normalised (NFKC, zero-width and bidi characters removed)`,
        },
      },
      ['action_type', 'reference_id'],
    ),
    response: strictObject(
      { transaction_id: id, points_awarded: { type: 'integer' }, balance: { type: 'integer' }, replay: { type: 'boolean' } },
      ['transaction_id', 'points_awarded', 'balance', 'replay'],
    ),
    errors: ['FORBIDDEN', 'NOT_FOUND', 'ACCOUNT_SUSPENDED', 'TERRITORY_NOT_LAUNCHED', 'CAP_REACHED'],
  },
  {
    key: 'streak-status',
    method: 'GET',
    url: '/api/streaks/status',
    summary: 'Streak now: current and max, multiplier and points of a collection now, collected today, jokers',
    roles: 'user (self), service, admin',
    querystring: strictObject({ user_id: userId }),
    response: strictObject(
      {
        current: { type: 'integer' },
        max: { type: 'integer' },
        multiplier: { type: 'number' },
        next_points: { type: 'integer' },
        collected_today: { type: 'boolean' },
        last_check_in: nullable({ type: 'string', description: 'local date YYYY-MM-DD' }),
        jokers_available: { type: 'integer' },
      },
      ['current', 'max', 'multiplier', 'next_points', 'collected_today', 'last_check_in', 'jokers_available'],
    ),
    errors: ['FORBIDDEN', 'NOT_FOUND'],
  },
  {
    key: 'catalog',
    method: 'GET',
    url: '/api/rewards/catalog',
    summary: "Rewards available now in a territory (a user token: its own territory by default)",
    roles: 'user, service, admin',
    querystring: strictObject({
      territory_id: { type: 'string', pattern: '^[A-Z]{2}$', description: 'territory code, e.g. RE' },
      category_id: { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]{0,31}$', description: 'category code, e.g. food' },
      page,
      limit,
    }),
    response: pageOf(
      strictObject(
        {
          id,
          sku: { type: 'string' },
          name: { type: 'string' },
          description: { type: 'string' },
          cost: { type: 'integer' },
          category: { type: 'string' },
          partner: { type: 'string' },
          territories: { type: 'array', items: { type: 'string' } },
          available_from: { type: 'string' },
          available_to: { type: 'string' },
          stock: nullable({ type: 'integer', description: 'units still available; null = unlimited' }),
          fulfilment: { type: 'string', enum: ['instant', 'manual'] },
        },
        ['id', 'sku', 'name', 'description', 'cost', 'category', 'partner', 'territories', 'available_from', 'available_to', 'stock', 'fulfilment'],
      ),
    ),
    errors: ['NOT_FOUND'],
  },
  {
    key: 'redeem',
    method: 'POST',
    url: '/api/rewards/redeem',
    summary: 'Redeem a reward (optional Idempotency-Key header, kept 24 h)',
    roles: 'user (self), service, admin',
    body: strictObject(
      {
        user_id: userId,
        reward_id: { type: ['string', 'integer'], pattern: '^[1-9][0-9]{0,14}$', minimum: 1, maximum: 999_999_999_999_999, description: "the catalog's id" },
      },
      ['reward_id'],
    ),
    response: strictObject({ redemption, balance: { type: 'integer' } }, ['redemption', 'balance']),
    errors: ['FORBIDDEN', 'NOT_FOUND', 'ACCOUNT_SUSPENDED', 'TERRITORY_NOT_LAUNCHED', 'REWARD_UNAVAILABLE', 'OUT_OF_STOCK', 'INSUFFICIENT_BALANCE', 'IDEMPOTENCY_MISMATCH'],
    idempotencyKey: true,
  },
  {
    key: 'rewards-history',
    method: 'GET',
    url: '/api/rewards/history',
    summary: 'Redemptions, newest first, paginated',
    roles: 'user (self), service, admin',
    querystring: strictObject({ user_id: userId, page, limit }),
    response: pageOf(redemption),
    errors: ['FORBIDDEN', 'NOT_FOUND'],
  },
  {
    key: 'users',
    method: 'POST',
    url: '/api/users',
    summary: 'Create or update a user (upsert by id)',
    roles: 'service, admin',
    body: strictObject(
      {
        id: { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,64}$' },
        email: { type: 'string', minLength: 3, maxLength: 254 },
        name: { type: 'string', minLength: 1, maxLength: 200 },
        territory: { type: 'string', pattern: '^[A-Z]{2}$' },
        beta: { type: 'boolean' },
      },
      ['id', 'email', 'name', 'territory'],
    ),
    response: strictObject(
      {
        id: { type: 'string' },
        email: { type: 'string' },
        name: { type: 'string' },
        territory: { type: 'string' },
        beta: { type: 'boolean' },
        created_at: instant,
        created: { type: 'boolean', description: 'true when this call inserted the user' },
      },
      ['id', 'email', 'name', 'territory', 'beta', 'created_at', 'created'],
    ),
    errors: ['FORBIDDEN'],
  },
];

export function routeSchema(key: string): RouteSchema {
  const r = ROUTES.find((x) => x.key === key);
  if (!r) throw new Error(`no schema for route ${key}`);
  return r;
}
