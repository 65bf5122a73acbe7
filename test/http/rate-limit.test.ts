import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { createTestDb, describeMultiConnection, type TestDb } from '../helpers/db.js';
import { makeUser } from '../helpers/fixtures.js';
import { call, startServer, token, type Running } from './helpers.js';
import { spawnServe, type ServeProcess } from './processes.js';
import { MemoryStore, RedisStore, parseRateLimits } from '../../src/http/rate-limit.js';

const NOW = '2026-11-25T08:00:00Z';
const REDIS_URL = process.env.TEST_REDIS_URL || 'redis://127.0.0.1:6379';

describe('RAYON_RATE_LIMITS', () => {
  it('defaults to the SPEC figures', () => {
    const c = parseRateLimits(undefined);
    expect(c?.rules).toEqual({
      'collect-daily': { capacity: 5, periodMs: 60_000 },
      redeem: { capacity: 10, periodMs: 60_000 },
      earn: { capacity: 120, periodMs: 60_000 },
    });
    expect(c?.fallback).toEqual({ capacity: 300, periodMs: 60_000 });
    expect(c?.caller).toEqual({ capacity: 6000, periodMs: 60_000 });
  });
  it('overrides per route, can be turned off, and names what it cannot read', () => {
    expect(parseRateLimits('earn=10/s,default=50/h')).toMatchObject({ rules: { earn: { capacity: 10, periodMs: 1000 } }, fallback: { capacity: 50, periodMs: 3_600_000 } });
    expect(parseRateLimits('service=100/s')?.caller).toEqual({ capacity: 100, periodMs: 1000 });
    expect(parseRateLimits('service=100/s')?.rules).not.toHaveProperty('service');
    expect(parseRateLimits('off')).toBeNull();
    expect(() => parseRateLimits('earnings=1/min')).toThrow(/unknown route "earnings"/);
    expect(() => parseRateLimits('earn=1/week')).toThrow(/unknown period "week"/);
    expect(() => parseRateLimits('earn=lots')).toThrow(/route=N\/period/);
  });
});

describe('token bucket (in-process store)', () => {
  it('allows the capacity at once, then refills continuously', async () => {
    let now = 1_000_000;
    const store = new MemoryStore(() => now);
    const rule = { capacity: 5, periodMs: 60_000 };
    const results = [];
    for (let i = 0; i < 6; i++) results.push((await store.take('k', rule)).allowed);
    expect(results).toEqual([true, true, true, true, true, false]);
    expect((await store.take('k', rule)).retryAfterS).toBe(12); // one token per 12 s
    now += 12_000;
    expect((await store.take('k', rule)).allowed).toBe(true);
    expect((await store.take('k', rule)).allowed).toBe(false);
    expect((await store.take('other', rule)).allowed).toBe(true);
    await store.close();
  });
});

describe('rate limits over HTTP (in-process)', () => {
  let t: TestDb;
  let s: Running;
  beforeAll(async () => {
    t = await createTestDb();
    s = await startServer(t.db, { now: NOW, rateLimits: 'earn=3/min' });
    await makeUser(t.db.knex, 'alice');
    await makeUser(t.db.knex, 'bob');
  });
  afterAll(async () => {
    await s?.close();
    await t?.destroy();
  });

  it('refuses past the limit per target user and route with 429 + Retry-After, writing nothing', async () => {
    const svc = await token('platform', 'service');
    const earn = (user: string, ref: string) => call(s.url, 'POST', '/api/points/earn', { token: svc, body: { user_id: user, action_type: 'review_posted', reference_id: ref } });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await earn('alice', `r${i}`)).status);
    expect(statuses).toEqual([200, 200, 200]);
    const refused = await earn('alice', 'r3');
    expect(refused.status).toBe(429);
    expect(refused.body).toEqual({ error: { code: 'RATE_LIMITED', message: expect.any(String) } });
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await t.db.knex('points_transactions').where({ user_id: 'alice', reference_id: 'r3' }).first()).toBeUndefined();
    expect(await t.db.knex('refused_earns').where({ user_id: 'alice' }).first()).toBeUndefined();
    // Another user, and another route of the same user, have their own buckets.
    expect((await earn('bob', 'r0')).status).toBe(200);
    expect((await call(s.url, 'GET', '/api/points/balance?user_id=alice', { token: svc })).status).toBe(200);
  });

  it('a service token is limited overall (service=N/period) while each user it acts for is far below their own limits', async () => {
    const o = await startServer(t.db, { now: NOW, rateLimits: 'service=5/min' });
    try {
      const users = Array.from({ length: 6 }, (_, i) => `many${i}`);
      for (const u of users) await makeUser(t.db.knex, u);
      const platform = await token('platform', 'service');
      const earn = (tok: string, user: string, ref: string) =>
        call(o.url, 'POST', '/api/points/earn', { token: tok, body: { user_id: user, action_type: 'review_posted', reference_id: ref } });
      const statuses = [];
      for (const u of users) statuses.push((await earn(platform, u, 'svc-1')).status);
      expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
      const refused = await earn(platform, 'many5', 'svc-2');
      expect(refused.status).toBe(429);
      expect(refused.body).toEqual({ error: { code: 'RATE_LIMITED', message: expect.stringContaining('service token') } });
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      // The refused requests wrote nothing.
      expect(await t.db.knex('points_transactions').where({ user_id: 'many5' })).toEqual([]);
      expect(await t.db.knex('refused_earns').where({ user_id: 'many5' })).toEqual([]);
      expect(await t.db.knex('audit_log').where({ target: 'many5' })).toEqual([]);
      // Reads count too; another service, an admin token and the users themselves have their own budgets.
      expect((await call(o.url, 'GET', '/api/points/balance?user_id=many0', { token: platform })).status).toBe(429);
      expect((await earn(await token('checkout', 'service'), 'many5', 'svc-3')).status).toBe(200);
      const ops = await token('ops', 'admin');
      const adminStatuses = [];
      for (let i = 0; i < 6; i++) adminStatuses.push((await call(o.url, 'GET', '/api/points/balance?user_id=many0', { token: ops })).status);
      expect(adminStatuses).toEqual([200, 200, 200, 200, 200, 429]);
      expect((await call(o.url, 'GET', '/api/points/balance', { token: await token('many0') })).status).toBe(200);
      const m = await call(o.url, 'GET', '/metrics');
      expect(m.text).toMatch(/^rayon_http_caller_rate_limited_total\{sub="platform"\} 3$/m);
    } finally {
      await o.close();
    }
  });

  it('the overall limit of service tokens is off with the other limits (benchmarks)', async () => {
    const o = await startServer(t.db, { now: NOW, rateLimits: 'off' });
    try {
      const platform = await token('platform', 'service');
      const statuses = await Promise.all(Array.from({ length: 50 }, () => call(o.url, 'GET', '/api/points/balance?user_id=alice', { token: platform })));
      expect(statuses.every((a) => a.status === 200)).toBe(true);
    } finally {
      await o.close();
    }
  });

  it('collect-daily allows 5 per minute by default', async () => {
    const d = await startServer(t.db, { now: NOW, rateLimits: parseRateLimits(undefined) });
    try {
      const alice = await token('alice');
      const statuses = [];
      for (let i = 0; i < 6; i++) statuses.push((await call(d.url, 'POST', '/api/points/collect-daily', { token: alice })).status);
      expect(statuses).toEqual([200, 409, 409, 409, 409, 429]);
    } finally {
      await d.close();
    }
  });
});

describe('rate limits shared through Redis', () => {
  let redis: Redis;
  beforeAll(async () => {
    redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await redis.connect();
  });
  afterAll(async () => {
    await redis?.quit();
  });

  it('the Lua bucket is atomic under concurrency: exactly the capacity passes', async () => {
    const prefix = `rayon:test:${crypto.randomUUID()}:`;
    const a = new RedisStore(REDIS_URL, prefix);
    const b = new RedisStore(REDIS_URL, prefix);
    await Promise.all([a.ready(), b.ready()]);
    try {
      const rule = { capacity: 7, periodMs: 60_000 };
      const results = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).take('earn:alice', rule)));
      expect(results.filter((r) => r.allowed)).toHaveLength(7);
      expect(Math.min(...results.filter((r) => !r.allowed).map((r) => r.retryAfterS))).toBeGreaterThanOrEqual(1);
      expect(await redis.pttl(`${prefix}earn:alice`)).toBeGreaterThan(0); // keys expire on their own
    } finally {
      await a.close();
      await b.close();
    }
  });

  describeMultiConnection('two server processes', () => {
    let t: TestDb;
    const procs: ServeProcess[] = [];
    beforeAll(async () => {
      t = await createTestDb();
      await makeUser(t.db.knex, 'alice');
    });
    afterAll(async () => {
      for (const p of procs) await p.stop().catch(() => undefined);
      await t?.destroy();
    });

    const run = async (env: Record<string, string>) => {
      const a = await spawnServe(t.url as string, { RAYON_NOW: NOW, RAYON_RATE_LIMITS: 'earn=4/min', ...env });
      const b = await spawnServe(t.url as string, { RAYON_NOW: NOW, RAYON_RATE_LIMITS: 'earn=4/min', ...env });
      procs.push(a, b);
      const svc = await token('platform', 'service');
      const statuses: number[] = [];
      for (let i = 0; i < 8; i++) {
        const base = i % 2 ? a.url : b.url;
        const ref = `${env.RAYON_REDIS_PREFIX ?? 'local'}-${i}`;
        statuses.push((await call(base, 'POST', '/api/points/earn', { token: svc, body: { user_id: 'alice', action_type: 'listing_created', reference_id: ref } })).status);
      }
      expect(await a.stop()).toBe(0);
      expect(await b.stop()).toBe(0);
      return statuses;
    };

    it('share one bucket per user and route when RAYON_REDIS_URL is set', { timeout: 240_000 }, async () => {
      const statuses = await run({ RAYON_REDIS_URL: REDIS_URL, RAYON_REDIS_PREFIX: `rayon:test:${crypto.randomUUID()}:` });
      expect(statuses.filter((x) => x === 200)).toHaveLength(4);
      expect(statuses.filter((x) => x === 429)).toHaveLength(4);
    });

    it('(control) without Redis each process has its own bucket', { timeout: 240_000 }, async () => {
      const statuses = await run({});
      // 8 requests, 4 per process: none refused by the limiter (only caps could refuse: daily_cap 5).
      expect(statuses.filter((x) => x === 429)).toHaveLength(0);
    });
  });
});
