import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Knex } from 'knex';
import { createTestDb, type TestDb } from '../helpers/db.js';
import { makeUsers } from '../helpers/fixtures.js';
import { give } from '../helpers/ledger-setup.js';
import { RICH, seedRichUser } from '../helpers/support-seed.js';
import { explainUser, userProfile } from '../../src/core/support/index.js';
import { parseHistoryBound, pointsHistory, verifyLedger } from '../../src/core/ledger/index.js';
import { resolveUser } from '../../src/core/users/index.js';

/** The support view's core: the profile and the explanation of a balance, on a user with a rich history. */

let t: TestDb;
let k: Knex;
let seeded: Awaited<ReturnType<typeof seedRichUser>>;

beforeAll(async () => {
  t = await createTestDb();
  k = t.db.knex;
  seeded = await seedRichUser(k);
}, 120_000);
afterAll(async () => t?.destroy());

const codeOf = (p: Promise<unknown>) => p.then(() => 'resolved', (e: { code?: string }) => e.code);

describe('resolveUser', () => {
  it('finds a user by id, or by email in any case', async () => {
    expect((await resolveUser(k, RICH.id)).id).toBe(RICH.id);
    expect((await resolveUser(k, ' rich.person@example.ORG ')).id).toBe(RICH.id);
    expect(await codeOf(resolveUser(k, RICH.id.toUpperCase()))).toBe('NOT_FOUND');
    const err = await resolveUser(k, 'nobody@example.org').catch((e) => e);
    expect(err.code).toBe('NOT_FOUND');
    expect(err.message).toContain('nobody@example.org');
  });
});

describe('userProfile', () => {
  it('gathers identity, local time, status, lots, the effective streak, transactions, redemptions, suspensions and audit', async () => {
    const p = await userProfile(k, RICH.email.toUpperCase(), RICH.now);
    expect(p).toMatchObject({ id: RICH.id, email: RICH.email, name: 'Rich Person', suspended: false });
    expect(p).toMatchObject({ territory: 'RE', territory_name: 'La Réunion', timezone: 'Indian/Reunion', local_time: '2026-09-22 10:00', local_date: '2026-09-22' });
    expect(p).toMatchObject({ status: 'bronze', lifetime_points: RICH.lifetime, next_status: { code: 'silver', points_to_go: 2000 - RICH.lifetime, min_lifetime_points: 2000 } });
    expect(p.balance).toBe(RICH.balance);
    expect(p.open_lots.reduce((s, l) => s + l.remaining, 0)).toBe(RICH.balance);
    expect(p.open_lots_total).toBe(p.open_lots.length);
    // The 40 points of the 2025-10-10 lot, refunded as a re-credit: the later of the lot's expiry and 30 local days after the refund.
    expect(p.expiring_soon).toEqual([{ points: 40, expires_at: new Date('2026-10-19T20:00:00Z') }]);
    expect(p.open_lots[0]).toMatchObject({ remaining: 40, recredit: true, expires_at: new Date('2026-10-19T20:00:00Z') });
    // Stored streak 8 (joker-bridged), last collection 09-18, no joker left: broken by today.
    expect(p.streak).toMatchObject({ current: 0, max: 8, jokers_available: 0, collected_today: false, last_check_in: '2026-09-18' });
    expect(p.recent_transactions).toHaveLength(10);
    expect(p.transactions_total).toBe(16);
    expect(p.recent_transactions[0]).toMatchObject({ type: 'refund' });
    expect(p.redemptions).toEqual([expect.objectContaining({ id: seeded.redemptionId, sku: 'SUP-VOUCHER', status: 'rejected', points_spent: 50, reason: 'partner out of vouchers' })]);
    expect(p.suspensions).toEqual([expect.objectContaining({ id: seeded.suspensionId, reason: 'earn velocity under review', lifted_by: 'ops', lift_reason: 'honest heavy seller' })]);
    expect(p.open_cases).toEqual([]);
    const actions = p.audit.map((a) => a.action);
    expect(actions.slice(0, 3)).toEqual(['user.lift', 'user.suspend', 'redemption.reject']);
    expect(actions).toContain('points.revert');
    expect(actions.filter((a) => a === 'points.adjust')).toHaveLength(3);
  });

  it('names the input of an unknown user', async () => {
    expect(await codeOf(userProfile(k, 'ghost', RICH.now))).toBe('NOT_FOUND');
  });
});

describe('explainUser', () => {
  it('rebuilds the balance row by row, with the lots each debit and the expiry consumed', async () => {
    const e = await explainUser(k, RICH.id, { now: RICH.now });
    expect(e.ok).toBe(true);
    expect(e).toMatchObject({ rebuilt_balance: RICH.balance, lots_balance: RICH.balance, stored_balance: RICH.balance, shown_balance: RICH.balance });
    expect(e.transactions.map((x) => [x.type, x.amount, x.running_balance])).toEqual([
      ['adjustment', 100, 100],
      ['adjustment', 40, 140],
      ['adjustment', 50, 190],
      ['revert', -50, 140],
      ['expire', -100, 40],
      ...RICH.dailyPoints.map((p, i) => ['daily', p, 40 + RICH.dailyPoints.slice(0, i + 1).reduce((s, x) => s + x, 0)]),
      ['redeem', -50, 88],
      ['refund', 40, 128],
      ['refund', 10, 138],
    ]);
    const byType = (type: string) => e.transactions.filter((x) => x.type === type);
    const [first] = e.transactions;
    expect(byType('expire')[0].consumed).toEqual([expect.objectContaining({ points: 100, lot_id: first.opened_lot?.lot_id, credit_transaction_id: first.id })]);
    expect(byType('revert')[0].consumed).toEqual([expect.objectContaining({ points: 50, credit_transaction_id: String(seeded.revertedId) })]);
    const redeemed = byType('redeem')[0].consumed;
    expect(redeemed.map((c) => c.points)).toEqual([40, 10]);
    expect(redeemed[1].credit_transaction_id).toBe(byType('daily')[0].id);
    expect(byType('daily')[7].detail).toContain('1 joker(s) used');
    expect(byType('refund').every((x) => x.opened_lot?.recredit)).toBe(true);
  });

  it('--as-of shows the account as it stood then: lots as the allocations up to then left them', async () => {
    const e = await explainUser(k, RICH.id, { now: RICH.now, asOf: new Date('2026-09-04T00:00:00Z') });
    expect(e.transactions.map((x) => x.type)).toEqual(['adjustment', 'adjustment', 'adjustment', 'revert']);
    expect(e).toMatchObject({ rebuilt_balance: 140, lots_balance: 140, stored_balance: null, shown_balance: 40, ok: true });
    // The 100-point lot was past its expiry (2026-09-01T20:00Z) and not yet expired by the run.
    expect(e.open_lots.map((l) => [l.remaining, l.due])).toEqual([[100, true], [40, false]]);
    expect(await codeOf(explainUser(k, RICH.id, { now: RICH.now, asOf: new Date('2026-09-23T00:00:00Z') }))).toBe('VALIDATION_ERROR');
  });

  it('reports a stored balance or a stored lot that differs from the ledger', async () => {
    await makeUsers(k, [{ id: 'tampered' }]);
    await give(k, 'tampered', 30, RICH.now);
    await k('points_balance').where({ user_id: 'tampered' }).update({ balance: 31 });
    const e = await explainUser(k, 'tampered', { now: RICH.now });
    expect(e.ok).toBe(false);
    expect(e.differences).toEqual(['the stored balance is 31 but the transactions add up to 30']);
    await k('points_lots').where({ user_id: 'tampered' }).update({ remaining: 29 });
    expect((await explainUser(k, 'tampered', { now: RICH.now })).differences).toEqual([
      'open lots hold 29 points but the transactions add up to 30',
      'the stored balance is 31 but the transactions add up to 30',
    ]);
    const v = await verifyLedger(k, { userId: RICH.id });
    expect(v.discrepancies).toEqual([]);
  });
});

describe('history --from/--to', () => {
  it('filters on local dates or instants, inclusive', async () => {
    const dates = await pointsHistory(k, RICH.id, { from: parseHistoryBound('2026-09-10', '--from'), to: parseHistoryBound('2026-09-18', '--to'), limit: 100 });
    expect(dates.items.map((x) => x.type)).toEqual(Array(8).fill('daily'));
    const instants = await pointsHistory(k, RICH.id, { from: parseHistoryBound('2026-09-19T06:00:00Z', '--from'), limit: 100 });
    expect(instants.items.map((x) => x.type)).toEqual(['refund', 'refund', 'redeem']);
    expect(await codeOf(pointsHistory(k, RICH.id, { from: { date: '2026-09-20' }, to: { date: '2026-09-10' } }))).toBe('VALIDATION_ERROR');
  });
});
