import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, type TestDb } from '../helpers/db.js';
import { at, makeUser } from '../helpers/fixtures.js';
import { collectDaily, earn, streakStatus } from '../../src/core/earning/index.js';
import { RayonError } from '../../src/core/errors.js';
import type { Knex } from 'knex';

let t: TestDb;
let k: Knex;
beforeAll(async () => {
  t = await createTestDb();
  k = t.db.knex;
  await k('territories').whereIn('code', ['NC', 'PM']).update({ state: 'open' });
});
afterAll(async () => t?.destroy());

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (err instanceof RayonError) return err.code;
    throw err;
  }
  return 'OK';
}

describe('collectDaily', () => {
  it('credits the first day with base points, writes the row, lot, key and streak', async () => {
    await makeUser(k, 'd1');
    const r = await collectDaily(k, 'd1', at('2026-03-01T06:00:00Z'), { actor: 'user:d1' });
    expect(r).toMatchObject({ points_awarded: 10, balance: 10, status: 'bronze', local_date: '2026-03-01' });
    expect(r.streak).toEqual({ current: 1, max: 1, multiplier: 1, jokers_available: 0, jokers_used: 0 });
    const tx = await k('points_transactions').where({ user_id: 'd1' }).first();
    expect(tx).toMatchObject({ type: 'daily', amount: 10, streak_day: 1, m100: 100, jokers_used: 0, bonus_pct: 0, scale_version: 1, idempotency_key: 'daily:d1:2026-03-01', actor: 'user:d1' });
    expect(String(tx.local_date)).toBe('2026-03-01');
    const lot = await k('points_lots').where({ user_id: 'd1' }).first();
    expect(lot).toMatchObject({ amount: 10, remaining: 10, recredit: false });
    expect(lot.expires_at.toISOString()).toBe('2027-03-01T20:00:00.000Z');
    const b = await k('points_balance').where({ user_id: 'd1' }).first();
    expect(b).toMatchObject({ balance: 10, lifetime_points: 10, status: 'bronze' });
  });

  it('refuses a second collection on the same local day, and changes nothing', async () => {
    expect(await codeOf(collectDaily(k, 'd1', at('2026-03-01T19:59:00Z')))).toBe('ALREADY_COLLECTED');
    expect(await k('points_transactions').where({ user_id: 'd1' }).count('* as n').first()).toMatchObject({ n: 1 });
    // 20:00Z is midnight in La Réunion (UTC+4): a new local day.
    const r = await collectDaily(k, 'd1', at('2026-03-01T20:00:00Z'));
    expect(r.local_date).toBe('2026-03-02');
    expect(r.streak.current).toBe(2);
  });

  it('checks not found, then suspended, then territory, before the rules', async () => {
    expect(await codeOf(collectDaily(k, 'nobody', at('2026-03-05T06:00:00Z')))).toBe('NOT_FOUND');
    await makeUser(k, 'd2', 'GP');
    expect(await codeOf(collectDaily(k, 'd2', at('2026-03-05T06:00:00Z')))).toBe('TERRITORY_NOT_LAUNCHED');
    await k('suspensions').insert({ user_id: 'd2', reason: 'test', actor: 'ops', started_at: at('2026-03-01T00:00:00Z') });
    expect(await codeOf(collectDaily(k, 'd2', at('2026-03-05T06:00:00Z')))).toBe('ACCOUNT_SUSPENDED');
    await k('territories').where({ code: 'GP' }).update({ state: 'beta' });
    await k('suspensions').where({ user_id: 'd2' }).update({ lifted_at: at('2026-03-02T00:00:00Z') });
    expect(await codeOf(collectDaily(k, 'd2', at('2026-03-05T06:00:00Z')))).toBe('TERRITORY_NOT_LAUNCHED');
    await k('users').where({ id: 'd2' }).update({ beta: true });
    expect(await codeOf(collectDaily(k, 'd2', at('2026-03-05T06:00:00Z')))).toBe('OK');
  });

  it('applies the status bonus of the status held before the credit', async () => {
    await makeUser(k, 'd3');
    await k('points_balance').where({ user_id: 'd3' }).update({ lifetime_points: 1995, status: 'bronze' });
    const r1 = await collectDaily(k, 'd3', at('2026-03-01T06:00:00Z'));
    expect(r1.points_awarded).toBe(10); // bronze before: no bonus, and this credit crosses 2000
    expect(r1.status).toBe('silver');
    expect((await k('points_balance').where({ user_id: 'd3' }).first()).status).toBe('silver');
    const r2 = await collectDaily(k, 'd3', at('2026-03-02T06:00:00Z'));
    expect(r2.points_awarded).toBe(11); // silver: floor(10 × 100 × 110 / 10000)
    const tx = await k('points_transactions').where({ user_id: 'd3', local_date: '2026-03-02' }).first();
    expect(tx.bonus_pct).toBe(10);
  });
});

describe('composition', () => {
  it("runs inside a caller's transaction, and rolls back with it", async () => {
    await makeUser(k, 'comp');
    await expect(
      k.transaction(async (trx) => {
        const r = await collectDaily(trx, 'comp', at('2026-03-01T06:00:00Z'));
        expect(r.points_awarded).toBe(10);
        throw new Error('caller aborts');
      }),
    ).rejects.toThrow('caller aborts');
    expect(await k('points_transactions').where({ user_id: 'comp' })).toHaveLength(0);
    const r = await k.transaction((trx) => collectDaily(trx, 'comp', at('2026-03-01T06:00:00Z')));
    expect(r).toMatchObject({ points_awarded: 10, balance: 10, streak: { current: 1 } });
  });
});

describe('earn', () => {
  it('credits an action, answers a replay with the first result, and refuses beyond the daily cap', async () => {
    await makeUser(k, 'e1');
    const now = at('2026-04-01T08:00:00Z');
    const r1 = await earn(k, 'e1', 'listing_created', 'L-1', now, { actor: 'service:platform' });
    expect(r1).toMatchObject({ points_awarded: 20, balance: 20, replay: false, status: 'bronze' });
    const again = await earn(k, 'e1', 'listing_created', 'L-1', at('2026-04-02T08:00:00Z'));
    expect(again).toEqual({ ...r1, replay: true });
    for (let i = 2; i <= 5; i++) await earn(k, 'e1', 'listing_created', `L-${i}`, now);
    expect(await codeOf(earn(k, 'e1', 'listing_created', 'L-6', now))).toBe('CAP_REACHED');
    // The replay check comes before the cap.
    expect((await earn(k, 'e1', 'listing_created', 'L-3', now)).replay).toBe(true);
    // Next local day: the daily cap starts again.
    expect((await earn(k, 'e1', 'listing_created', 'L-6', at('2026-04-01T20:30:00Z'))).replay).toBe(false);
    const refused = await k('refused_earns').where({ user_id: 'e1' });
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({ action_type: 'listing_created', reference_id: 'L-6', reason: 'CAP_REACHED', territory_code: 'RE' });
    expect(String(refused[0].local_date)).toBe('2026-04-01');
  });

  it('enforces a lifetime cap whatever the day', async () => {
    await makeUser(k, 'e2');
    await earn(k, 'e2', 'profile_completed', 'p', at('2026-04-01T08:00:00Z'));
    expect(await codeOf(earn(k, 'e2', 'profile_completed', 'p2', at('2026-06-01T08:00:00Z')))).toBe('CAP_REACHED');
  });

  it('does not count a reverted earn toward the cap', async () => {
    await makeUser(k, 'e3');
    const r = await earn(k, 'e3', 'profile_completed', 'p', at('2026-04-01T08:00:00Z'));
    await k('transaction_reversals').insert({ user_id: 'e3', transaction_id: r.transaction_id, actor: 'ops', reason: 'test', at: at('2026-04-01T09:00:00Z') });
    expect((await earn(k, 'e3', 'profile_completed', 'p2', at('2026-04-02T08:00:00Z'))).points_awarded).toBe(100);
  });

  it('refuses bad input, unknown actions, users and user-reported platform actions', async () => {
    await makeUser(k, 'e4');
    const now = at('2026-04-01T08:00:00Z');
    expect(await codeOf(earn(k, 'e4', 'listing_created', '', now))).toBe('VALIDATION_ERROR');
    expect(await codeOf(earn(k, 'e4', 'listing_created', 'x'.repeat(129), now))).toBe('VALIDATION_ERROR');
    expect(await codeOf(earn(k, 'e4', 'listing_created', 'a\nb', now))).toBe('VALIDATION_ERROR');
    expect(await codeOf(earn(k, 'e4', 'listing_created', 'x'.repeat(128), now))).toBe('OK');
    expect(await codeOf(earn(k, 'e4', 'bought_a_boat', 'r1', now))).toBe('VALIDATION_ERROR');
    expect(await codeOf(earn(k, 'ghost', 'listing_created', 'r1', now))).toBe('NOT_FOUND');
    expect(await codeOf(earn(k, 'e4', 'review_posted', 'r1', now, { userReported: true }))).toBe('FORBIDDEN');
    const reasons = (await k('refused_earns').where({ user_id: 'e4' }).orderBy('id')).map((r) => r.reason);
    expect(reasons).toEqual(['VALIDATION_ERROR', 'FORBIDDEN']);
  });

  it('refuses a suspended user and records it', async () => {
    await makeUser(k, 'e5');
    await k('suspensions').insert({ user_id: 'e5', reason: 'test', actor: 'ops', started_at: at('2026-03-01T00:00:00Z') });
    expect(await codeOf(earn(k, 'e5', 'listing_created', 'r', at('2026-04-01T08:00:00Z')))).toBe('ACCOUNT_SUSPENDED');
    expect(await k('refused_earns').where({ user_id: 'e5', reason: 'ACCOUNT_SUSPENDED' })).toHaveLength(1);
    expect(await k('points_transactions').where({ user_id: 'e5' })).toHaveLength(0);
  });
});

describe('audit', () => {
  it('service and admin actors leave an audit row in the same transaction; a user on itself does not', async () => {
    await makeUser(k, 'au1');
    await collectDaily(k, 'au1', at('2026-08-01T06:00:00Z'), { actor: 'user:au1' });
    const c = await collectDaily(k, 'au1', at('2026-08-02T06:00:00Z'), { actor: 'service:app' });
    const e = await earn(k, 'au1', 'listing_created', 'L-9', at('2026-08-02T07:00:00Z'), { actor: 'admin:ops' });
    await earn(k, 'au1', 'listing_created', 'L-9', at('2026-08-02T07:00:00Z'), { actor: 'admin:ops' }); // replay: nothing new
    const rows = await k('audit_log').where({ target: 'au1' }).orderBy('id');
    expect(rows.map((r) => [r.actor, r.action, r.details.transaction_id])).toEqual([
      ['service:app', 'points.collect_daily', c.transaction_id],
      ['admin:ops', 'points.earn', e.transaction_id],
    ]);
  });
});

describe('streakStatus', () => {
  it('shows today’s offer, then tomorrow’s once collected, and 0 once broken beyond the jokers', async () => {
    await makeUser(k, 's1');
    const before = await streakStatus(k, 's1', at('2026-05-01T06:00:00Z'));
    expect(before).toEqual({ current: 0, max: 0, multiplier: 1, next_points: 10, collected_today: false, last_check_in: null, jokers_available: 0 });
    await collectDaily(k, 's1', at('2026-05-01T06:00:00Z'));
    await collectDaily(k, 's1', at('2026-05-02T06:00:00Z'));
    const done = await streakStatus(k, 's1', at('2026-05-02T10:00:00Z'));
    expect(done).toMatchObject({ current: 2, max: 2, multiplier: 1.2, next_points: 12, collected_today: true, last_check_in: '2026-05-02' });
    const nextDay = await streakStatus(k, 's1', at('2026-05-03T10:00:00Z'));
    expect(nextDay).toMatchObject({ current: 2, multiplier: 1.2, next_points: 12, collected_today: false });
    const broken = await streakStatus(k, 's1', at('2026-05-05T10:00:00Z'));
    expect(broken).toMatchObject({ current: 0, max: 2, multiplier: 1, next_points: 10, collected_today: false });
    expect(await codeOf(streakStatus(k, 'ghost', at('2026-05-05T10:00:00Z')))).toBe('NOT_FOUND');
  });
});
