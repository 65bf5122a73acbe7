import { Redis } from 'ioredis';

/**
 * Token-bucket rate limits per target user and route (SPEC "The HTTP mode"), and one overall
 * bucket per service or admin token subject (`service=`): a system acting for many users is
 * still bounded as a whole. Each bucket holds
 * `capacity` tokens and refills `capacity` tokens per `periodMs`, continuously. The in-process
 * store serves one server; the Redis store runs the same arithmetic atomically in a Lua script
 * so that several server processes share one bucket per (route, user).
 */

export interface RateRule {
  capacity: number;
  periodMs: number;
}

/**
 * `null` means limits are off (benchmarks). `caller`: every request of one service or admin
 * token (by `sub`), whatever user it acts for.
 */
export type RateLimitConfig = { rules: Record<string, RateRule>; fallback: RateRule; caller: RateRule } | null;

/** The route keys the limits are configured by. */
export const LIMITED_ROUTES = ['balance', 'history', 'collect-daily', 'earn', 'streak-status', 'catalog', 'redeem', 'rewards-history', 'users'] as const;

const DEFAULT_LIMITS = 'collect-daily=5/min,redeem=10/min,earn=120/min,default=300/min,service=6000/min';
/** The key of the overall limit per service or admin token, beside the route names. */
const CALLER_KEY = 'service';
const PERIODS: Record<string, number> = { s: 1000, sec: 1000, m: 60_000, min: 60_000, h: 3_600_000, hour: 3_600_000 };

/**
 * Parse RAYON_RATE_LIMITS: `off`, or `route=N/period,…` where route is one of LIMITED_ROUTES,
 * `default` (every other route) or `service` (all requests of one service or admin token), and
 * period is s, min or h. Unset → the SPEC's figures, and 6,000 a minute per service token.
 */
export function parseRateLimits(text: string | undefined): RateLimitConfig {
  if (text !== undefined && /^(off|none|0|false)$/i.test(text.trim())) return null;
  const merged = new Map<string, RateRule>();
  for (const src of [DEFAULT_LIMITS, text ?? '']) {
    for (const part of src.split(',').map((s) => s.trim()).filter(Boolean)) {
      const m = /^([a-z-]+)\s*=\s*(\d+)\s*\/\s*([a-z]+)$/.exec(part);
      if (!m) throw new Error(`"${part}" is not route=N/period (e.g. earn=120/min)`);
      const [, route, n, period] = m;
      if (route !== 'default' && route !== CALLER_KEY && !(LIMITED_ROUTES as readonly string[]).includes(route)) {
        throw new Error(`unknown route "${route}" (use ${[...LIMITED_ROUTES, 'default', CALLER_KEY].join(', ')})`);
      }
      if (!PERIODS[period]) throw new Error(`unknown period "${period}" in "${part}" (use s, min or h)`);
      if (Number(n) < 1) throw new Error(`the limit in "${part}" must be at least 1`);
      merged.set(route, { capacity: Number(n), periodMs: PERIODS[period] });
    }
  }
  const fallback = merged.get('default') as RateRule;
  const caller = merged.get(CALLER_KEY) as RateRule;
  merged.delete('default');
  merged.delete(CALLER_KEY);
  return { rules: Object.fromEntries(merged), fallback, caller };
}

export interface TakeResult {
  allowed: boolean;
  /** Seconds until one token is back (only when refused). */
  retryAfterS: number;
}

export interface RateLimitStore {
  take(key: string, rule: RateRule): Promise<TakeResult>;
  close(): Promise<void>;
}

export class MemoryStore implements RateLimitStore {
  private readonly buckets = new Map<string, { tokens: number; ts: number }>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly clock: () => number = Date.now) {
    // A bucket left alone for an hour is full again: forget it, so memory stays bounded.
    this.sweeper = setInterval(() => this.sweep(3_600_000), 60_000);
    this.sweeper.unref();
  }

  async take(key: string, rule: RateRule): Promise<TakeResult> {
    const now = this.clock();
    const rate = rule.capacity / rule.periodMs;
    const b = this.buckets.get(key) ?? { tokens: rule.capacity, ts: now };
    b.tokens = Math.min(rule.capacity, b.tokens + (now - b.ts) * rate);
    b.ts = now;
    this.buckets.set(key, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return { allowed: true, retryAfterS: 0 };
    }
    return { allowed: false, retryAfterS: Math.max(1, Math.ceil((1 - b.tokens) / rate / 1000)) };
  }

  sweep(idleMs: number): void {
    const limit = this.clock() - idleMs;
    for (const [k, b] of this.buckets) if (b.ts < limit) this.buckets.delete(k);
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
  }
}

// The bucket is read, refilled and debited in one script, so concurrent servers never both
// take the last token. Redis's own clock is used so server clocks need not agree.
const TAKE_SCRIPT = `
local cap = tonumber(ARGV[1])
local period = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local b = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(b[1])
local ts = tonumber(b[2])
if tokens == nil or ts == nil then tokens = cap; ts = now end
local rate = cap / period
tokens = math.min(cap, tokens + math.max(0, now - ts) * rate)
local allowed = 0
local retry = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  retry = math.ceil((1 - tokens) / rate)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('PEXPIRE', KEYS[1], period * 2)
return {allowed, retry}
`;

export class RedisStore implements RateLimitStore {
  private readonly redis: Redis;
  /** Redis failures are counted here; the limiter lets requests through meanwhile. */
  errors = 0;

  constructor(url: string, private readonly prefix: string = 'rayon:rl:') {
    this.redis = new Redis(url, {
      // Never let a slow or absent Redis hold requests: fail fast, the caller decides.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      commandTimeout: 500,
      lazyConnect: false,
    });
    this.redis.on('error', () => {
      this.errors++;
    });
    this.redis.defineCommand('rayonTake', { numberOfKeys: 1, lua: TAKE_SCRIPT });
  }

  async ready(): Promise<void> {
    if (this.redis.status === 'ready') return;
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('Redis did not answer within 3 s')), 3000);
      this.redis.once('ready', () => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  async take(key: string, rule: RateRule): Promise<TakeResult> {
    const [allowed, retryMs] = (await (this.redis as unknown as { rayonTake(k: string, c: number, p: number): Promise<[number, number]> }).rayonTake(
      this.prefix + key,
      rule.capacity,
      rule.periodMs,
    )) as [number, number];
    return { allowed: allowed === 1, retryAfterS: allowed === 1 ? 0 : Math.max(1, Math.ceil(retryMs / 1000)) };
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

export class RateLimiter {
  storeErrors = 0;
  constructor(
    private readonly config: RateLimitConfig,
    private readonly store: RateLimitStore | null,
  ) {}

  get enabled(): boolean {
    return this.config !== null && this.store !== null;
  }

  /**
   * Take one token for (route, user). A store failure lets the request through (and is counted
   * for /metrics): the limits protect the service, the database still guarantees correctness.
   */
  async take(route: string, userId: string): Promise<TakeResult> {
    if (!this.config) return { allowed: true, retryAfterS: 0 };
    return this.takeKey(`${route}:${userId}`, this.config.rules[route] ?? this.config.fallback);
  }

  /** Take one token of a service or admin token's overall bucket (keys apart from route:user ones). */
  async takeCaller(sub: string): Promise<TakeResult> {
    if (!this.config) return { allowed: true, retryAfterS: 0 };
    return this.takeKey(`${CALLER_KEY}:${sub}`, this.config.caller);
  }

  private async takeKey(key: string, rule: RateRule): Promise<TakeResult> {
    if (!this.store) return { allowed: true, retryAfterS: 0 };
    try {
      return await this.store.take(key, rule);
    } catch {
      this.storeErrors++;
      return { allowed: true, retryAfterS: 0 };
    }
  }

  async close(): Promise<void> {
    await this.store?.close();
  }
}
