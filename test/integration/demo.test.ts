import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Knex } from 'knex';
import { createTestDb, type TestDb } from '../helpers/db.js';
import { loadDemo, type DemoResult } from '../../src/core/demo/index.js';
import { verifyLedger } from '../../src/core/ledger/index.js';
import { scanFraud, scanWindow } from '../../src/core/fraud/index.js';
import { RayonError } from '../../src/core/errors.js';
import { localDate } from '../../src/core/time.js';

/** `rayon demo` on a real database: a 200-user × 40-day history, twice for determinism. */
vi.setConfig({ testTimeout: 300_000, hookTimeout: 600_000 });

const NOW = new Date('2026-12-03T10:00:00Z');
const OPTS = { users: 200, days: 40, seed: 7, now: NOW, actor: 'demo-test', batchSize: 64 };

/** The tables a demo writes, each with the order that makes its dump canonical. */
const DUMPED: Array<[string, string]> = [
  ['users', 'id'],
  ['points_balance', 'user_id'],
  ['streaks', 'user_id'],
  ['points_transactions', 'user_id, id'],
  ['points_lots', 'user_id, id'],
  ['lot_allocations', 'user_id, transaction_id, lot_id'],
  ['idempotency_keys', 'user_id, key'],
  ['reward_redemptions', 'user_id, id'],
  ['refused_earns', 'user_id, id'],
  ['correction_batches', 'id'],
  ['rewards', 'id'],
  ['http_request_stats', 'bucket_start, route, status_class'],
];

/** One hash per table over its rows in key order: equal hashes, identical rows (values and ids). */
async function dump(k: Knex): Promise<Record<string, { rows: number; md5: string }>> {
  const out: Record<string, { rows: number; md5: string }> = {};
  for (const [table, order] of DUMPED) {
    // created_at/updated_at of catalog rows are the demo's `now`, so they compare as well.
    const { rows } = await k.raw(`select count(*)::int as n, md5(coalesce(string_agg(md5(t::text), '' order by ${order}), '')) as h from ${table} t`);
    out[table] = { rows: rows[0].n, md5: rows[0].h };
  }
  return out;
}

let a: TestDb;
let b: TestDb;
let result: DemoResult;
beforeAll(async () => {
  a = await createTestDb();
  b = await createTestDb();
  result = await loadDemo(a.db.knex, OPTS);
});
afterAll(async () => {
  await a?.destroy();
  await b?.destroy();
});

describe('rayon demo', () => {
  it('writes a history ending yesterday that `ledger verify` accepts, every row attributed and audited', async () => {
    const k = a.db.knex;
    const v = await verifyLedger(k);
    expect(v.discrepancies).toEqual([]);
    expect(v.ok).toBe(true);
    expect(v.users).toBe(200);
    expect(v.audit.reduce((n, c) => n + c.missing, 0)).toBe(0);
    const types = Object.fromEntries(v.audit.map((c) => [c.type, c.rows]));
    for (const type of ['daily', 'earn', 'redeem', 'refund', 'expire', 'adjustment']) expect(types[type], type).toBeGreaterThan(0);

    const yesterday = localDate(new Date(NOW.getTime() - 86_400_000), 'Indian/Reunion');
    const span = (await k.raw(`select min(local_date)::text as first, max(local_date)::text as last from points_transactions`)).rows[0];
    expect(span.last).toBe(yesterday);
    expect(result.territories).toEqual([{ code: 'RE', from: span.first, to: yesterday }]);
    expect(result.deferred_indexes).toBe(true);
  });

  it('has real breakage, refunds, joker-bridged streaks, caps reached and HTTP statistics with 5xx', async () => {
    const k = a.db.knex;
    const q = async (sql: string) => (await k.raw(sql)).rows[0];
    expect(result.points.expired).toBeGreaterThan(0);
    expect((await q(`select -sum(amount)::int as n from points_transactions where type = 'expire'`)).n).toBe(result.points.expired);
    expect((await q(`select count(*)::int as n from reward_redemptions where status = 'rejected' and refund_transaction_id is not null`)).n).toBe(result.redemptions.rejected);
    expect(result.redemptions.rejected).toBeGreaterThan(0);
    expect((await q(`select count(*)::int as n from points_transactions where type = 'daily' and jokers_used > 0`)).n).toBeGreaterThan(0);
    expect((await q(`select count(*)::int as n from refused_earns where reason = 'CAP_REACHED'`)).n).toBeGreaterThan(0);
    expect((await q(`select count(distinct status)::int as n from points_balance`)).n).toBeGreaterThanOrEqual(2);
    const http = await q(`select sum(requests)::int as total, sum(requests) filter (where status_class = '5xx')::int as errors from http_request_stats`);
    expect(http.errors).toBeGreaterThan(0);
    expect(http.errors).toBeLessThan(http.total / 20);
    // Users registered through the period, and others before it.
    const reg = await q(`select count(*) filter (where created_at >= '${result.territories[0].from}')::int as new, count(*)::int as all from users`);
    expect(reg.new).toBeGreaterThan(0);
    expect(reg.new).toBeLessThan(reg.all);
  });

  it('names a showcase user whose history has a joker-bridged streak, an expiry and a refund', async () => {
    const u = result.showcase_user!;
    expect(u).toMatch(/^d7-re-\d{6}$/);
    const { rows } = await a.db.knex.raw(
      `select count(*) filter (where type = 'daily' and jokers_used > 0)::int as bridged, count(*) filter (where type = 'expire')::int as expired,
              count(*) filter (where type = 'refund')::int as refunds from points_transactions where user_id = ?`,
      [u],
    );
    expect(rows[0].bridged).toBeGreaterThan(0);
    expect(rows[0].expired).toBeGreaterThan(0);
    expect(rows[0].refunds).toBeGreaterThan(0);
  });

  it('is deterministic: the same seed and now give identical rows in another database', async () => {
    await loadDemo(b.db.knex, OPTS);
    const [da, db] = [await dump(a.db.knex), await dump(b.db.knex)];
    expect(da.points_transactions.rows).toBe(result.rows.transactions);
    expect(db).toEqual(da);
  });

  it('plants fraud patterns that `fraud scan` finds, each on the users named', async () => {
    const r = await scanFraud(a.db.knex, { window: scanWindow('5d', NOW), actor: 'demo-test', now: NOW });
    const planted = Object.entries(result.fraud_patterns);
    expect(planted.map(([rule]) => rule).sort()).toEqual(
      ['earn_velocity', 'lockstep_farm', 'new_account_redeem', 'operator_adjustments', 'redeem_burst', 'refused_burst', 'shared_reference'],
    );
    for (const [rule, subjects] of planted) {
      const found = r.findings.filter((f) => f.rule === rule).map((f) => f.user_id);
      for (const s of subjects) expect(found, `${rule} finds ${s}`).toContain(s);
    }
  });

  it('refuses a database that holds users unless told to add beside them, and never the same seed twice', async () => {
    const k = a.db.knex;
    const before = (await dump(k)).points_transactions;
    await expect(loadDemo(k, OPTS)).rejects.toMatchObject({ code: 'INVALID_STATE', message: expect.stringMatching(/already holds 200 user\(s\): rerun with --yes/) });
    await expect(loadDemo(k, { ...OPTS, allowExisting: true })).rejects.toMatchObject({ code: 'INVALID_STATE', message: expect.stringMatching(/demo of seed 7/) });
    expect((await dump(k)).points_transactions).toEqual(before);
  });

  it('adds a second seed beside the first on --yes, and the ledger still verifies', async () => {
    const k = b.db.knex;
    const r = await loadDemo(k, { ...OPTS, seed: 8, users: 30, days: 10, allowExisting: true });
    expect(r.deferred_indexes).toBe(false);
    expect(r.scale_version).toBeNull();
    expect((await verifyLedger(k)).ok).toBe(true);
  });

  it('names the bad option', async () => {
    const k = b.db.knex;
    const fail = async (p: Promise<unknown>) => (await p.then(() => null, (e: unknown) => e)) as RayonError;
    const users = await fail(loadDemo(k, { ...OPTS, users: 0 }));
    expect([users.code, users.message]).toEqual(['VALIDATION_ERROR', '--users must be a whole number from 1 to 1000000, got 0']);
    const unknown = await fail(loadDemo(k, { ...OPTS, seed: 9, territories: ['RE', 'XX'] }));
    expect(unknown.code).toBe('VALIDATION_ERROR');
    expect(unknown.message).toMatch(/^--territories: unknown territory "XX"/);
    const closed = await fail(loadDemo(k, { ...OPTS, seed: 9, territories: ['MQ'] }));
    expect(closed.code).toBe('INVALID_STATE');
    expect(closed.message).toMatch(/MQ is closed.*rayon territory launch MQ/);
  });
});
