import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, type TestDb } from '../helpers/db.js';
import { makeUsers } from '../helpers/fixtures.js';
import { give, rejection } from '../helpers/ledger-setup.js';
import { verifyLedger } from '../../src/core/ledger/index.js';

let t: TestDb;
const NOW = '2026-11-25T08:00:00Z';

beforeAll(async () => {
  t = await createTestDb();
  const k = t.db.knex;
  await makeUsers(k, [{ id: 'v1' }, { id: 'v2' }]);
  await give(k, 'v1', 100, NOW);
  await give(k, 'v1', -40, NOW);
  await give(k, 'v2', 10, NOW);
});
afterAll(async () => t?.destroy());

const failing = (r: Awaited<ReturnType<typeof verifyLedger>>) => r.checks.filter((c) => c.problems > 0).map((c) => c.name);

describe('ledger verification', () => {
  it('a clean ledger verifies', async () => {
    const r = await verifyLedger(t.db.knex);
    expect(r.ok).toBe(true);
    expect(r.users).toBe(2);
    expect(r.checks.length).toBeGreaterThanOrEqual(10);
    expect(r.discrepancies).toEqual([]);
  });

  it('a balance tampered with in SQL fails the balance checks, for that user only', async () => {
    const k = t.db.knex;
    await k.raw("update points_balance set balance = balance + 7 where user_id = 'v1'");
    try {
      const r = await verifyLedger(k);
      expect(r.ok).toBe(false);
      expect(failing(r)).toEqual(['balance_equals_transactions', 'balance_equals_open_lots']);
      expect(r.discrepancies[0]).toEqual({ check: 'balance_equals_transactions', user_id: 'v1', detail: { balance: 67, transactions: 60 } });
      expect((await verifyLedger(k, { userId: 'v2' })).ok).toBe(true);
      expect((await verifyLedger(k, { userId: 'v1' })).ok).toBe(false);
    } finally {
      await k.raw("update points_balance set balance = balance - 7 where user_id = 'v1'");
    }
    expect((await verifyLedger(k)).ok).toBe(true);
  });

  it('tampered lifetime points and lot remainders fail their own checks', async () => {
    const k = t.db.knex;
    await k.raw("update points_balance set lifetime_points = lifetime_points + 1 where user_id = 'v2'");
    try {
      expect(failing(await verifyLedger(k))).toEqual(['lifetime_equals_earning_credits']);
    } finally {
      await k.raw("update points_balance set lifetime_points = lifetime_points - 1 where user_id = 'v2'");
    }
    await k.raw("update points_lots set remaining = remaining - 1 where user_id = 'v2'");
    try {
      expect(failing(await verifyLedger(k))).toEqual(['balance_equals_open_lots', 'lot_remaining_matches_allocations']);
    } finally {
      await k.raw("update points_lots set remaining = remaining + 1 where user_id = 'v2'");
    }
    expect((await verifyLedger(k)).ok).toBe(true);
  });

  it('the balance cannot go negative in the database', async () => {
    const e = await rejection(t.db.knex.raw("update points_balance set balance = -1 where user_id = 'v2'"));
    expect((e as { code?: string }).code).toBe('23514');
  });
});

describe('append-only tables', () => {
  for (const table of ['audit_log', 'points_transactions', 'lot_allocations']) {
    it(`${table}: UPDATE, DELETE and TRUNCATE are refused by the database`, async () => {
      const k = t.db.knex;
      const n = Number((await k(table).count({ n: '*' }).first())!.n);
      expect(n).toBeGreaterThan(0);
      const col = table === 'audit_log' ? 'actor' : table === 'points_transactions' ? 'reason' : 'points';
      const value = table === 'lot_allocations' ? k.raw('points') : 'tampered';
      const ops: Array<() => Promise<unknown>> = [async () => k(table).update({ [col]: value }), async () => k(table).delete()];
      ops.push(async () => k.raw(`truncate ${table} cascade`));
      for (const op of ops) {
        const e = await rejection(op());
        expect(e.message).toMatch(new RegExp(`${table} is append-only`));
      }
      expect(Number((await k(table).count({ n: '*' }).first())!.n)).toBe(n);
    });
  }
});
