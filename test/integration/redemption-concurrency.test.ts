import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDb, describeMultiConnection, type TestDb } from '../helpers/db.js';
import { makeUsers } from '../helpers/fixtures.js';
import { give, storedBalance } from '../helpers/ledger-setup.js';
import { invariantProblems, makeReward } from '../helpers/catalog-setup.js';
import { type Db } from '../../src/db/connect.js';
import { approveRedemption, redeem, rejectRedemption } from '../../src/core/redemption/index.js';
import { expirePoints, verifyLedger } from '../../src/core/ledger/index.js';
import { RayonError } from '../../src/core/errors.js';

const NOW = new Date('2026-11-25T08:00:00Z');
let t: TestDb;
let pool: Db;
beforeAll(async () => {
  t = await createTestDb();
  if (t.url) pool = await t.open(30);
});
afterAll(async () => t?.destroy());

async function race<T>(tasks: Array<() => Promise<T>>) {
  const settled = await Promise.allSettled(tasks.map((f) => f()));
  const ok = settled.filter((s): s is PromiseFulfilledResult<Awaited<T>> => s.status === 'fulfilled').map((s) => s.value);
  const errors = settled.filter((s): s is PromiseRejectedResult => s.status === 'rejected').map((s) => (s.reason instanceof RayonError ? s.reason.code : String(s.reason)));
  return { ok, errors };
}

async function invariantsHold() {
  expect(await invariantProblems(pool.knex)).toEqual([]);
  const v = await verifyLedger(pool.knex);
  expect(v.discrepancies).toEqual([]);
}

describeMultiConnection('redemption concurrency on PostgreSQL', () => {
  it('50 users race for the last unit: one redemption, stock 0', async () => {
    const k = pool.knex;
    const users = Array.from({ length: 50 }, (_, i) => ({ id: `race${i}` }));
    await makeUsers(k, users);
    for (const u of users) await give(k, u.id, 500, '2026-06-01T08:00:00Z');
    const reward = await makeReward(k, 'LAST-ONE', { stock: 1, cost: 100 });
    const { ok, errors } = await race(users.map((u) => () => redeem(k, u.id, reward, NOW, { actor: `user:${u.id}` })));
    expect(ok).toHaveLength(1);
    expect(errors).toEqual(Array(49).fill('OUT_OF_STOCK'));
    const r = await k('rewards').where({ id: reward }).first();
    expect(r.stock - r.units_taken).toBe(0);
    expect(Number((await k('reward_redemptions').where({ reward_id: reward }).count({ n: '*' }))[0].n)).toBe(1);
    await invariantsHold();
  });

  it('balance 100, 20 parallel redeems costing 30: exactly 3 succeed, balance 10', async () => {
    const k = pool.knex;
    await makeUsers(k, [{ id: 'hundred' }]);
    await give(k, 'hundred', 60, '2026-03-01T08:00:00Z');
    await give(k, 'hundred', 40, '2026-05-01T08:00:00Z');
    const reward = await makeReward(k, 'THIRTY', { stock: null, cost: 30 });
    const { ok, errors } = await race(Array.from({ length: 20 }, () => () => redeem(k, 'hundred', reward, NOW, { actor: 'user:hundred' })));
    expect(ok).toHaveLength(3);
    expect(errors).toEqual(Array(17).fill('INSUFFICIENT_BALANCE'));
    expect((await storedBalance(k, 'hundred')).balance).toBe(10);
    expect(ok.map((o) => o.balance).sort((a, b) => b - a)).toEqual([70, 40, 10]);
    await invariantsHold();
  });

  it('reject racing approve, and two operators rejecting at once: exactly one decision wins each time', async () => {
    const k = pool.knex;
    await makeUsers(k, [{ id: 'decide' }]);
    await give(k, 'decide', 10_000, '2026-06-01T08:00:00Z');
    const reward = await makeReward(k, 'DECIDE', { stock: 20, cost: 100, fulfilment: 'manual' });
    const ids: number[] = [];
    for (let i = 0; i < 10; i++) ids.push((await redeem(k, 'decide', reward, NOW, { actor: 'service:checkout' })).redemption.id);
    for (const [i, id] of ids.entries()) {
      const tasks =
        i % 2 === 0
          ? [() => approveRedemption(k, id, { actor: 'ops:a', now: NOW }), () => rejectRedemption(k, id, { actor: 'ops:b', now: NOW, reason: 'race' })]
          : [() => rejectRedemption(k, id, { actor: 'ops:a', now: NOW, reason: 'race a' }), () => rejectRedemption(k, id, { actor: 'ops:b', now: NOW, reason: 'race b' })];
      const { ok, errors } = await race<unknown>(tasks);
      expect(ok).toHaveLength(1);
      expect(errors).toEqual(['INVALID_STATE']);
    }
    const rejected = await k('reward_redemptions').where({ reward_id: reward, status: 'rejected' }).pluck('id');
    // Each rejected redemption refunded exactly once.
    const refunds = await k('points_transactions').where({ user_id: 'decide', type: 'refund' }).sum({ s: 'amount' });
    expect(Number(refunds[0].s)).toBe(rejected.length * 100);
    expect((await storedBalance(k, 'decide')).balance).toBe(10_000 - (10 - rejected.length) * 100);
    await invariantsHold();
  });

  it('redeem racing the expiry run on a lot expiring now: each point consumed once', async () => {
    const k = pool.knex;
    const users = Array.from({ length: 20 }, (_, i) => `exp${i}`);
    await makeUsers(k, users.map((id) => ({ id })));
    // A lot credited 2025-11-24 (local) expires at 2026-11-25 00:00 local = 2026-11-24T20:00Z: the race
    // runs at that very instant, when the lot is due and no longer spendable.
    const AT = new Date('2026-11-24T20:00:00Z');
    for (const u of users) {
      await give(k, u, 50, '2025-11-24T08:00:00Z');
      await give(k, u, 100, '2026-06-01T08:00:00Z');
    }
    const reward = await makeReward(k, 'VS-EXPIRY', { stock: null, cost: 60 });
    const { ok, errors } = await race<unknown>([
      ...users.map((u) => () => redeem(k, u, reward, AT, { actor: `user:${u}` })),
      () => expirePoints(k, { asOf: AT, now: AT, actor: 'ops:cron' }),
      () => expirePoints(k, { asOf: AT, now: AT, actor: 'ops:cron2' }),
    ]);
    expect(errors).toEqual([]);
    expect(ok).toHaveLength(22);
    for (const u of users) {
      expect((await storedBalance(k, u)).balance).toBe(40);
      const expired = await k('points_transactions').where({ user_id: u, type: 'expire' }).sum({ s: 'amount' });
      expect(Number(expired[0].s)).toBe(-50);
    }
    await invariantsHold();

    // A redeem one millisecond before the lot is due, racing the run at the due instant: the lot is
    // still spendable for the redeem, so either it takes the 50 points first (nothing left to
    // expire) or the run expires them first (the redeem takes all 60 from the later lot).
    const late = users.map((u) => `${u}-late`);
    await makeUsers(k, late.map((id) => ({ id })));
    for (const u of late) {
      await give(k, u, 50, '2025-11-24T08:00:00Z');
      await give(k, u, 100, '2026-06-01T08:00:00Z');
    }
    // Staggered over 0.3 s, longer than the run takes, so both orders happen (whichever wins, each point is consumed once).
    const redeems = late.map((u, i) => () => new Promise((r) => setTimeout(r, i * 15)).then(() => redeem(k, u, reward, new Date(AT.getTime() - 1), { actor: `user:${u}` })));
    const second = await race<unknown>([() => expirePoints(k, { asOf: AT, now: AT, actor: 'ops:cron' }), ...redeems]);
    expect(second.errors).toEqual([]);
    for (const u of late) {
      const expired = -Number((await k('points_transactions').where({ user_id: u, type: 'expire' }).sum({ s: 'amount' }))[0].s);
      expect([0, 50]).toContain(expired);
      expect((await storedBalance(k, u)).balance).toBe(150 - 60 - expired);
      expect(Number((await k('points_lots').where({ user_id: u }).whereRaw('expires_at <= ?', [AT]).sum({ s: 'remaining' }))[0].s)).toBe(0);
    }
    await invariantsHold();
  });

  it('concurrent duplicates of one Idempotency-Key: one redemption, the same answer for all', async () => {
    const k = pool.knex;
    await makeUsers(k, [{ id: 'dupkey' }]);
    await give(k, 'dupkey', 1000, '2026-06-01T08:00:00Z');
    const reward = await makeReward(k, 'DUPKEY', { stock: 5, cost: 100 });
    const { ok, errors } = await race(Array.from({ length: 10 }, () => () => redeem(k, 'dupkey', reward, NOW, { idempotencyKey: 'tap-twice', actor: 'user:dupkey' })));
    expect(errors).toEqual([]);
    expect(new Set(ok.map((o) => o.redemption.id)).size).toBe(1);
    expect(ok.every((o) => o.balance === 900 && o.redemption.voucher_code === ok[0].redemption.voucher_code)).toBe(true);
    expect((await storedBalance(k, 'dupkey')).balance).toBe(900);
    await invariantsHold();
  });
});
