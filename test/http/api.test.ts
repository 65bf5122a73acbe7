import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, onPostgres, type TestDb } from '../helpers/db.js';
import { makeUser } from '../helpers/fixtures.js';
import { call, makeRewards, startServer, token, type Running } from './helpers.js';
import { requestStatsSummary } from '../../src/core/ops/index.js';

const NOW = '2026-11-25T08:00:00Z';
let t: TestDb;
let s: Running;
let svc: string;

beforeAll(async () => {
  t = await createTestDb();
  s = await startServer(t.db, { now: NOW });
  await makeUser(t.db.knex, 'alice');
  svc = await token('checkout', 'service');
});
afterAll(async () => {
  await s?.close();
  await t?.destroy();
});

const ISO_Z = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describe('HTTP endpoints answer the SPEC fields', () => {
  it('collect-daily credits once and answers points, balance and streak', async () => {
    const a = await call(s.url, 'POST', '/api/points/collect-daily', { token: await token('alice') });
    expect(a.status).toBe(200);
    expect(a.body).toMatchObject({ points_awarded: 10, balance: 10, streak: { current: 1, max: 1, multiplier: 1, jokers_available: 0, jokers_used: 0 } });
    expect(typeof a.body.transaction_id).toBe('string');
    const again = await call(s.url, 'POST', '/api/points/collect-daily', { token: await token('alice'), body: {} });
    expect(again.status).toBe(409);
    expect(again.body).toEqual({ error: { code: 'ALREADY_COLLECTED', message: expect.any(String) } });
  });

  it('earn (service token) credits, and a replay answers the first result', async () => {
    const body = { user_id: 'alice', action_type: 'listing_created', reference_id: 'listing-1' };
    const a = await call(s.url, 'POST', '/api/points/earn', { token: svc, body });
    expect(a.status).toBe(200);
    expect(a.body).toEqual({ transaction_id: expect.stringMatching(/^\d+$/), points_awarded: 20, balance: 30, replay: false });
    const b = await call(s.url, 'POST', '/api/points/earn', { token: svc, body });
    expect(b.body).toEqual({ ...a.body, replay: true });
  });

  it('balance: balance, lifetime, status and expiring_soon', async () => {
    const a = await call(s.url, 'GET', '/api/points/balance', { token: await token('alice') });
    expect(a.status).toBe(200);
    expect(a.body).toEqual({ user_id: 'alice', balance: 30, lifetime_points: 30, status: 'bronze', expiring_soon: [] });
    const viaService = await call(s.url, 'GET', '/api/points/balance?user_id=alice', { token: svc });
    expect(viaService.body).toEqual(a.body);
  });

  it('balance lists points expiring in the next 30 days, grouped and soonest first', async () => {
    await makeUser(t.db.knex, 'old');
    // A credit a year ago (RAYON_NOW of an earlier server) expires within 30 days of NOW.
    const past = await startServer(t.db, { now: '2025-12-10T08:00:00Z' });
    await call(past.url, 'POST', '/api/points/collect-daily', { token: await token('old') });
    await past.close();
    const a = await call(s.url, 'GET', '/api/points/balance', { token: await token('old') });
    expect(a.body.expiring_soon).toEqual([{ points: 10, expires_at: '2026-12-10T20:00:00.000Z' }]);
  });

  it('history: newest first, paginated, filtered by type, instants in UTC with Z', async () => {
    const a = await call(s.url, 'GET', '/api/points/history?limit=1', { token: await token('alice') });
    expect(a.status).toBe(200);
    expect(a.body).toMatchObject({ page: 1, limit: 1, total: 2 });
    expect(a.body.items).toHaveLength(1);
    expect(Object.keys(a.body.items[0]).sort()).toEqual(['action_type', 'amount', 'created_at', 'expires_at', 'id', 'reference_id', 'type']);
    expect(a.body.items[0]).toMatchObject({ type: 'earn', amount: 20, action_type: 'listing_created', reference_id: 'listing-1' });
    expect(a.body.items[0].created_at).toMatch(ISO_Z);
    const p2 = await call(s.url, 'GET', '/api/points/history?limit=1&page=2', { token: await token('alice') });
    expect(p2.body.items[0]).toMatchObject({ type: 'daily', amount: 10, action_type: null, reference_id: null });
    const daily = await call(s.url, 'GET', '/api/points/history?type=daily', { token: await token('alice') });
    expect(daily.body.total).toBe(1);
    expect(daily.body.limit).toBe(20);
  });

  it('streak status: the effective state now', async () => {
    const a = await call(s.url, 'GET', '/api/streaks/status', { token: await token('alice') });
    expect(a.status).toBe(200);
    expect(a.body).toEqual({ current: 1, max: 1, multiplier: 1, next_points: 10, collected_today: true, last_check_in: '2026-11-25', jokers_available: 0 });
  });

  it('catalog: rewards available now in the user territory, newest first, with units left', async () => {
    const [r1, r2] = await makeRewards(t.db.knex, [
      { sku: 'A', cost: 100, stock: 5, category: 'food', territories: ['RE'] },
      { sku: 'B', cost: 50, category: 'transport' },
      { sku: 'C', cost: 50, category: 'food', territories: ['MQ'] },
    ]);
    const a = await call(s.url, 'GET', '/api/rewards/catalog', { token: await token('alice') });
    expect(a.status).toBe(200);
    expect(a.body.total).toBe(2);
    expect(a.body.items.map((i: { id: string }) => i.id)).toEqual([String(r2), String(r1)]);
    expect(a.body.items[1]).toEqual({
      id: String(r1), sku: 'A', name: 'Reward A', description: '', cost: 100, category: 'food', partner: 'P1', territories: ['RE'],
      available_from: '2026-01-01', available_to: '2027-12-31', stock: 5, fulfilment: 'instant',
    });
    expect(a.body.items[0].stock).toBeNull();
    const food = await call(s.url, 'GET', '/api/rewards/catalog?category_id=food', { token: await token('alice') });
    expect(food.body.items.map((i: { sku: string }) => i.sku)).toEqual(['A']);
    const mq = await call(s.url, 'GET', '/api/rewards/catalog?territory_id=MQ&category_id=food', { token: svc });
    expect(mq.body.items.map((i: { sku: string }) => i.sku)).toEqual(['C']);
    const noTerritory = await call(s.url, 'GET', '/api/rewards/catalog', { token: svc });
    expect(noTerritory.status).toBe(400);
    expect(noTerritory.body.error.message).toContain('territory_id');
  });

  it('redeem: redemption with voucher, points spent, balance left; Idempotency-Key replays; rewards history', async () => {
    const [rid] = await makeRewards(t.db.knex, [{ sku: 'R', cost: 20, stock: 3, fulfilment: 'instant' }]);
    const alice = await token('alice');
    const headers = { 'idempotency-key': 'k-1' };
    const a = await call(s.url, 'POST', '/api/rewards/redeem', { token: alice, body: { reward_id: String(rid) }, headers });
    expect(a.status).toBe(200);
    expect(a.body).toEqual({
      redemption: { id: expect.stringMatching(/^\d+$/), reward_id: String(rid), status: 'fulfilled', points_spent: 20, voucher_code: expect.any(String), created_at: NOW.replace('Z', '.000Z') },
      balance: 10,
    });
    // Same key, same body (user_id filled in explicitly this time): the first answer again.
    const replay = await call(s.url, 'POST', '/api/rewards/redeem', { token: alice, body: { reward_id: rid, user_id: 'alice' }, headers });
    expect(replay.status).toBe(200);
    expect(replay.body).toEqual(a.body);
    const mismatch = await call(s.url, 'POST', '/api/rewards/redeem', { token: alice, body: { reward_id: rid + 1 }, headers });
    expect(mismatch.status).toBe(422);
    expect(mismatch.body.error.code).toBe('IDEMPOTENCY_MISMATCH');
    const poor = await call(s.url, 'POST', '/api/rewards/redeem', { token: alice, body: { reward_id: rid } });
    expect(poor.status).toBe(422);
    expect(poor.body.error.code).toBe('INSUFFICIENT_BALANCE');
    const missing = await call(s.url, 'POST', '/api/rewards/redeem', { token: alice, body: { reward_id: 999999 } });
    expect(missing.status).toBe(404);
    const h = await call(s.url, 'GET', '/api/rewards/history', { token: alice });
    expect(h.status).toBe(200);
    expect(h.body).toEqual({ items: [a.body.redemption], page: 1, limit: 20, total: 1 });
  });

  it('POST /api/users upserts a user (service role) and audits it as service:<sub>', async () => {
    const body = { id: 'bob', email: 'bob@example.org', name: 'Bob', territory: 'RE' };
    const a = await call(s.url, 'POST', '/api/users', { token: svc, body });
    expect(a.status).toBe(200);
    expect(a.body).toMatchObject({ id: 'bob', email: 'bob@example.org', name: 'Bob', territory: 'RE', beta: false, created: true });
    expect(a.body.created_at).toMatch(ISO_Z);
    const b = await call(s.url, 'POST', '/api/users', { token: svc, body: { ...body, name: 'Bobby' } });
    expect(b.body).toMatchObject({ name: 'Bobby', created: false });
    const audit = await t.db.knex('audit_log').where({ target: 'bob' }).orderBy('id').select('actor', 'action');
    expect(audit).toEqual([
      { actor: 'service:checkout', action: 'user.add' },
      { actor: 'service:checkout', action: 'user.update' },
    ]);
    const bad = await call(s.url, 'POST', '/api/users', { token: svc, body: { ...body, id: 'carol', territory: 'ZZ' } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('VALIDATION_ERROR');
  });

  it('an unknown route is 404 NOT_FOUND in the error shape', async () => {
    const a = await call(s.url, 'GET', '/api/nothing', { token: svc });
    expect(a.status).toBe(404);
    expect(a.body).toEqual({ error: { code: 'NOT_FOUND', message: expect.any(String) } });
  });
});

describe('operations endpoints', () => {
  it('/healthz answers 200 when the database answers', async () => {
    const a = await call(s.url, 'GET', '/healthz');
    expect(a.status).toBe(200);
    expect(a.body).toEqual({ status: 'ok' });
  });

  it('/metrics has per-route counts, latency histograms, error counts and pool usage', async () => {
    const a = await call(s.url, 'GET', '/metrics');
    expect(a.status).toBe(200);
    expect(a.text).toMatch(/rayon_http_requests_total\{route="collect-daily",method="POST",status="200"\} \d+/);
    expect(a.text).toMatch(/rayon_http_request_duration_seconds_bucket\{le="0.05",route="balance",method="GET",status_class="2xx"\} \d+/);
    expect(a.text).toMatch(/rayon_http_errors_total\{route="collect-daily",code="ALREADY_COLLECTED"\} 1/);
    expect(a.text).toMatch(/rayon_db_pool_max \d+/);
    expect(a.text).toMatch(/rayon_db_pool_used \d+/);
    if (onPostgres()) {
      // Collections go through batches on PostgreSQL: at least the ones made above.
      expect(Number(/rayon_daily_batch_written (\d+)/.exec(a.text)?.[1])).toBeGreaterThan(0);
      expect(a.text).toMatch(/rayon_daily_failed_batches 0/);
      expect(a.text).toMatch(/rayon_daily_waiting 0/);
    }
  });

  it('/openapi.json is OpenAPI 3 built from the route schemas', async () => {
    const a = await call(s.url, 'GET', '/openapi.json');
    expect(a.status).toBe(200);
    expect(a.body.openapi).toMatch(/^3\./);
    const paths = Object.keys(a.body.paths);
    for (const p of ['/api/points/balance', '/api/points/history', '/api/points/collect-daily', '/api/points/earn', '/api/streaks/status',
      '/api/rewards/catalog', '/api/rewards/redeem', '/api/rewards/history', '/api/users', '/healthz', '/metrics']) {
      expect(paths).toContain(p);
    }
    const earn = a.body.paths['/api/points/earn'].post;
    expect(earn.requestBody.content['application/json'].schema.additionalProperties).toBe(false);
    expect(Object.keys(earn.responses)).toEqual(expect.arrayContaining(['200', '400', '401', '403', '409', '413', '429', '503']));
    const hist = a.body.paths['/api/points/history'].get.parameters.map((p: { name: string }) => p.name);
    expect(hist).toEqual(['user_id', 'page', 'limit', 'type']);
  });

  it('request statistics are stored aggregated per minute, route and status class', async () => {
    await s.server.close(); // flushes what is pending
    const rows = await t.db.knex('http_request_stats').select('*');
    const collect = rows.filter((r) => r.route === 'collect-daily');
    // The requests may straddle a minute: one row per minute and class, so classes are compared as a set.
    expect([...new Set(collect.map((r) => r.status_class))].sort()).toEqual(['2xx', '4xx']);
    expect(collect.length).toBeLessThanOrEqual(2 * new Set(collect.map((r) => new Date(r.bucket_start).getTime())).size);
    for (const r of rows) expect(new Date(r.bucket_start).getTime() % (Number(r.bucket_seconds) * 1000)).toBe(0);
    const total = rows.reduce((n, r) => n + Number(r.requests), 0);
    expect(total).toBeGreaterThan(10);
    expect(rows.length).toBeLessThan(total); // aggregated, not one row per request
    for (const r of rows) expect(r.bucket_counts.reduce((a: number, b: number) => a + Number(b), 0)).toBe(Number(r.requests));
    const sum = await requestStatsSummary(t.db.knex, new Date(Date.now() - 3_600_000), new Date(Date.now() + 60_000));
    expect(sum.requests).toBe(total);
    expect(sum.p95_ms_upper_bound).not.toBeNull();
    s = await startServer(t.db, { now: NOW });
  });
});
