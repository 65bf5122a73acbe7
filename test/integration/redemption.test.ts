import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, type TestDb } from '../helpers/db.js';
import { makeUsers } from '../helpers/fixtures.js';
import { balanceOf, give, rejection } from '../helpers/ledger-setup.js';
import { invariantProblems, makeReward } from '../helpers/catalog-setup.js';
import { approveRedemption, listRedemptions, redeem, redeemFingerprint, rejectRedemption, userRedemptions, voucherCode } from '../../src/core/redemption/index.js';
import { verifyLedger } from '../../src/core/ledger/index.js';
import { failure } from '../helpers/failure.js';

const NOW = new Date('2026-11-25T08:00:00Z');
let t: TestDb;
beforeAll(async () => {
  t = await createTestDb();
  await makeUsers(t.db.knex, [{ id: 'ana' }, { id: 'ben' }, { id: 'gp-user', territory: 'GP' }, { id: 'sus' }, { id: 'yt-user', territory: 'YT' }]);
  await t.db.knex('territories').where({ code: 'YT' }).update({ state: 'open' });
  await t.db.knex('suspensions').insert({ user_id: 'sus', reason: 'fraud check', actor: 'ops', started_at: NOW });
});
afterAll(async () => {
  if (t) {
    expect(await invariantProblems(t.db.knex)).toEqual([]);
    expect((await verifyLedger(t.db.knex)).ok).toBe(true);
  }
  await t?.destroy();
});

describe('redeem', () => {
  it('instant: fulfilled with an unguessable voucher, points debited first-expiring-first, a unit taken', async () => {
    const k = t.db.knex;
    await give(k, 'ana', 300, '2026-02-01T08:00:00Z');
    await give(k, 'ana', 300, '2026-01-01T08:00:00Z');
    const reward = await makeReward(k, 'INSTANT', { cost: 400, stock: 2 });
    const r = await redeem(k, 'ana', reward, NOW, { actor: 'user:ana' });
    expect(r.balance).toBe(200);
    expect(r.redemption).toMatchObject({ reward_id: reward, status: 'fulfilled', points_spent: 400 });
    expect(r.redemption.voucher_code).toMatch(/^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}$/);
    expect((await k('rewards').where({ id: reward }).first()).units_taken).toBe(1);
    const tx = await k('points_transactions').where({ user_id: 'ana', type: 'redeem' }).first();
    expect(tx).toMatchObject({ amount: -400, redemption_id: r.redemption.id });
    const alloc = await k('lot_allocations as a').join('points_lots as l', 'l.id', 'a.lot_id').where('a.transaction_id', tx.id).orderBy('l.expires_at').select('a.points');
    expect(alloc.map((a: { points: number }) => a.points)).toEqual([300, 100]); // the January lot first
    const second = await failure(redeem(k, 'ben', reward, NOW, { actor: 'user:ben' }));
    expect(second.code).toBe('INSUFFICIENT_BALANCE');
  });

  it('voucher codes: 80 random bits, every symbol at every position, no repeats', () => {
    const codes = Array.from({ length: 20_000 }, () => voucherCode());
    expect(new Set(codes).size).toBe(codes.length);
    for (const c of codes) expect(c).toMatch(/^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}$/);
    // A counter, a clock or a short seed would leave most positions with few symbols: 20,000 random
    // codes show all 32 at each of the 16 positions (the chance that one is missing is below 1e-270).
    const flat = codes.map((c) => c.replace(/-/g, ''));
    for (let i = 0; i < 16; i++) expect(new Set(flat.map((c) => c[i])).size).toBe(32);
  });

  it('manual: pending, no voucher', async () => {
    const k = t.db.knex;
    await give(k, 'ben', 1000, '2026-06-01T08:00:00Z');
    const r = await redeem(k, 'ben', await makeReward(k, 'MANUAL', { fulfilment: 'manual', cost: 100 }), NOW, { actor: 'user:ben' });
    expect(r.redemption).toMatchObject({ status: 'pending', voucher_code: null, points_spent: 100 });
    expect(r.balance).toBe(900);
  });

  it('checks in the SPEC order: user, suspension, territory, reward, availability, stock, balance', async () => {
    const k = t.db.knex;
    const ok = await makeReward(k, 'CHECKS', { cost: 10_000, stock: 0, territories: ['RE', 'GP'] });
    const code = async (p: Promise<unknown>) => (await rejection(p)).code;
    expect(await code(redeem(k, 'nobody', ok, NOW))).toBe('NOT_FOUND');
    expect(await code(redeem(k, 'sus', 999_999, NOW))).toBe('ACCOUNT_SUSPENDED');
    expect(await code(redeem(k, 'gp-user', 999_999, NOW))).toBe('TERRITORY_NOT_LAUNCHED');
    expect(await code(redeem(k, 'ben', 999_999, NOW))).toBe('NOT_FOUND');
    expect(await code(redeem(k, 'ben', await makeReward(k, 'OFF', { active: false, stock: 0 }), NOW))).toBe('REWARD_UNAVAILABLE');
    expect(await code(redeem(k, 'ben', await makeReward(k, 'ELSEWHERE', { territories: ['GP'], stock: 0 }), NOW))).toBe('REWARD_UNAVAILABLE');
    // The window is in the user's local date: 2026-11-25 ends at 20:00Z in La Réunion (UTC+4).
    const until25 = await makeReward(k, 'UNTIL-25', { available_to: '2026-11-25', cost: 1 });
    expect((await redeem(k, 'ben', until25, new Date('2026-11-25T19:59:00Z'), { actor: 'user:ben' })).redemption.status).toBe('fulfilled');
    expect(await code(redeem(k, 'ben', until25, new Date('2026-11-25T20:00:00Z')))).toBe('REWARD_UNAVAILABLE');
    expect(await code(redeem(k, 'ben', ok, NOW))).toBe('OUT_OF_STOCK'); // out of stock beats the balance
    expect(await code(redeem(k, 'ben', await makeReward(k, 'DEAR', { cost: 10_000 }), NOW))).toBe('INSUFFICIENT_BALANCE');
    expect(await code(redeem(k, 'ben', 1.5, NOW))).toBe('VALIDATION_ERROR');
    // Nothing of a refusal stays behind.
    expect((await k('rewards').where({ sku: 'DEAR' }).first()).units_taken).toBe(0);
  });
});

describe('Idempotency-Key', () => {
  it('answers the first answer again, success or refusal, and refuses another body', async () => {
    const k = t.db.knex;
    await makeUsers(k, [{ id: 'idem' }]);
    await give(k, 'idem', 500, '2026-06-01T08:00:00Z');
    const reward = await makeReward(k, 'IDEM', { cost: 200 });
    const first = await redeem(k, 'idem', reward, NOW, { idempotencyKey: 'k-1', actor: 'user:idem' });
    const again = await redeem(k, 'idem', reward, new Date(NOW.getTime() + 60_000), { idempotencyKey: 'k-1', actor: 'user:idem' });
    expect(again).toEqual(first);
    expect(await balanceOf(k, 'idem')).toMatchObject({ balance: 300 });
    expect((await k('reward_redemptions').where({ user_id: 'idem' })).length).toBe(1);

    const mismatch = await rejection(redeem(k, 'idem', await makeReward(k, 'IDEM-2'), NOW, { idempotencyKey: 'k-1', actor: 'user:idem' }));
    expect(mismatch.code).toBe('IDEMPOTENCY_MISMATCH');

    const dear = await makeReward(k, 'IDEM-DEAR', { cost: 10_000 });
    expect((await rejection(redeem(k, 'idem', dear, NOW, { idempotencyKey: 'k-2', actor: 'user:idem' }))).code).toBe('INSUFFICIENT_BALANCE');
    await give(k, 'idem', 20_000, NOW);
    // Same key, same body: the stored refusal, even though the balance would now suffice.
    expect((await rejection(redeem(k, 'idem', dear, NOW, { idempotencyKey: 'k-2', actor: 'user:idem' }))).code).toBe('INSUFFICIENT_BALANCE');
    // After 24 hours the key is forgotten.
    const later = await redeem(k, 'idem', dear, new Date(NOW.getTime() + 25 * 3600_000), { idempotencyKey: 'k-2', actor: 'user:idem' });
    expect(later.redemption.points_spent).toBe(10_000);
    // Keys are scoped to the user: another user may use the same key.
    await give(k, 'ana', 500, NOW);
    expect((await redeem(k, 'ana', reward, NOW, { idempotencyKey: 'k-1', fingerprint: redeemFingerprint('ana', reward), actor: 'user:ana' })).redemption.id).not.toBe(first.redemption.id);
  });
});

describe('approve and reject', () => {
  it('approve: pending → fulfilled once; reject after approve is INVALID_STATE', async () => {
    const k = t.db.knex;
    const r = await redeem(k, 'ben', await makeReward(k, 'APPROVE', { fulfilment: 'manual', cost: 50 }), NOW, { actor: 'user:ben' });
    await approveRedemption(k, r.redemption.id, { actor: 'ops:zoe', now: NOW });
    expect(await k('reward_redemptions').where({ id: r.redemption.id }).first()).toMatchObject({ status: 'fulfilled', decided_by: 'ops:zoe' });
    expect((await rejection(approveRedemption(k, r.redemption.id, { actor: 'ops', now: NOW }))).code).toBe('INVALID_STATE');
    expect((await rejection(rejectRedemption(k, r.redemption.id, { actor: 'ops', now: NOW, reason: 'x' }))).code).toBe('INVALID_STATE');
    expect((await rejection(approveRedemption(k, 987_654, { actor: 'ops', now: NOW }))).code).toBe('NOT_FOUND');
    expect(await k('audit_log').where({ action: 'redemption.approve', target: `redemption:${r.redemption.id}` }).first()).toMatchObject({ actor: 'ops:zoe' });
  });

  it('reject: the unit returns and the points come back expiring at the later of their original expiry and 30 days on (SPEC)', async () => {
    const k = t.db.knex;
    await makeUsers(k, [{ id: 'rej' }]);
    await give(k, 'rej', 100, '2025-11-20T08:00:00Z'); // expires at 2026-11-21 local: 2026-11-20T20:00Z, before the reject
    await give(k, 'rej', 100, '2025-12-10T08:00:00Z'); // expires at 2026-12-11 local: 2026-12-10T20:00Z, 15 days after the reject
    await give(k, 'rej', 100, '2026-06-01T08:00:00Z'); // expires 2027-06-02 local
    const reward = await makeReward(k, 'REJECT', { fulfilment: 'manual', cost: 250, stock: 1 });
    const r = await redeem(k, 'rej', reward, new Date('2026-11-19T08:00:00Z'), { actor: 'service:checkout' });
    expect((await k('rewards').where({ id: reward }).first()).units_taken).toBe(1);
    const res = await rejectRedemption(k, r.redemption.id, { actor: 'ops:zoe', now: NOW, reason: 'partner cannot deliver' });
    expect(res).toMatchObject({ status: 'rejected', points_refunded: 250, balance: 300 });
    expect((await k('rewards').where({ id: reward }).first()).units_taken).toBe(0);
    const refunds = await k('points_transactions').where({ user_id: 'rej', type: 'refund' }).orderBy('expires_at');
    expect(refunds.map((x: { amount: number; expires_at: Date }) => [x.amount, x.expires_at.toISOString()])).toEqual([
      // The lot already expired and the lot expiring within 30 days: end of the local day 30 days after the refund.
      [200, '2026-12-25T20:00:00.000Z'],
      [50, '2027-06-01T20:00:00.000Z'], // further away: original expiry kept
    ]);
    const lots = await k('points_lots').where({ user_id: 'rej', recredit: true });
    expect(lots).toHaveLength(2);
    const red = await k('reward_redemptions').where({ id: r.redemption.id }).first();
    expect(red).toMatchObject({ status: 'rejected', reason: 'partner cannot deliver', decided_by: 'ops:zoe', refund_transaction_id: refunds[0].id });
    expect((await rejection(rejectRedemption(k, r.redemption.id, { actor: 'ops', now: NOW, reason: 'again' }))).code).toBe('INVALID_STATE');
    expect((await rejection(rejectRedemption(k, r.redemption.id, { actor: 'ops', now: NOW, reason: ' ' }))).code).toBe('VALIDATION_ERROR');
    // Lifetime points are not raised by a refund.
    expect((await k('points_balance').where({ user_id: 'rej' }).first()).lifetime_points).toBe(300);
  });
});

describe('lists', () => {
  it('newest first, ties by id, filtered by status and user', async () => {
    const k = t.db.knex;
    const all = await listRedemptions(k, { page: 1, limit: 100 });
    expect(all.total).toBe(all.items.length);
    const keys = all.items.map((i) => [i.created_at.getTime(), i.id]);
    expect(keys).toEqual([...keys].sort((a, b) => b[0] - a[0] || b[1] - a[1]));
    const pending = await listRedemptions(k, { status: 'pending', page: 1, limit: 100 });
    expect(pending.items.every((i) => i.status === 'pending')).toBe(true);
    expect(pending.total).toBeGreaterThan(0);
    const mine = await userRedemptions(k, 'ben', { page: 1, limit: 2 });
    expect(mine).toMatchObject({ page: 1, limit: 2 });
    expect(mine.items.every((i) => i.user_id === 'ben')).toBe(true);
    expect(mine.total).toBeGreaterThan(2);
    expect((await rejection(userRedemptions(k, 'nobody', { page: 1, limit: 2 }))).code).toBe('NOT_FOUND');
    expect((await rejection(listRedemptions(k, { status: 'done', page: 1, limit: 2 }))).code).toBe('VALIDATION_ERROR');
  });
});
