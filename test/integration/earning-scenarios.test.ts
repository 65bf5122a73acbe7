import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Knex } from 'knex';
import { createTestDb, type TestDb } from '../helpers/db.js';
import { at, makeUser } from '../helpers/fixtures.js';
import { collectDaily, earn, streakStatus } from '../../src/core/earning/index.js';
import { RayonError } from '../../src/core/errors.js';
import { planScaleSet, parseAssignment, writeScaleVersion } from '../../src/core/scale/index.js';
import { addDays, startOfLocalDay } from '../../src/core/time.js';

/** Multi-day scenarios with a controlled clock (SPEC "Daily collection and streaks"). */

let t: TestDb;
let k: Knex;
beforeAll(async () => {
  t = await createTestDb();
  k = t.db.knex;
  await k('territories').whereIn('code', ['NC', 'PM']).update({ state: 'open' });
});
afterAll(async () => t?.destroy());

/** 10:00 local time in La Réunion (UTC+4) on a date. */
const reMorning = (date: string) => new Date(`${date}T06:00:00Z`);

describe('a user collecting every day', () => {
  it('reaches the ×1.2, ×1.5, ×2 and ×3 multipliers on days 3, 7, 14 and 30, and earns jokers on 7, 14, 21', async () => {
    await makeUser(k, 'daily1');
    const awards: number[] = [];
    const jokers: number[] = [];
    for (let i = 0; i < 31; i++) {
      const r = await collectDaily(k, 'daily1', reMorning(addDays('2026-01-01', i)));
      awards.push(r.points_awarded);
      jokers.push(r.streak.jokers_available);
      expect(r.streak.current).toBe(i + 1);
    }
    expect(awards.slice(0, 3)).toEqual([10, 10, 12]);
    expect(awards[6]).toBe(15);
    expect(awards[13]).toBe(20);
    expect(awards[29]).toBe(30);
    expect(awards[30]).toBe(30);
    expect([jokers[5], jokers[6], jokers[13], jokers[20], jokers[27]]).toEqual([0, 1, 2, 3, 3]);
    const total = awards.reduce((s, a) => s + a, 0);
    const b = await k('points_balance').where({ user_id: 'daily1' }).first();
    expect(b).toMatchObject({ balance: total, lifetime_points: total });
    // The runs can be rebuilt from the rows alone: one run, its length is the last streak_day.
    const rows = await k('points_transactions').where({ user_id: 'daily1', type: 'daily' }).orderBy('local_date');
    expect(rows.map((r) => r.streak_day)).toEqual(Array.from({ length: 31 }, (_, i) => i + 1));
    expect(rows.map((r) => r.m100).slice(28, 31)).toEqual([200, 300, 300]);
  });
});

describe('jokers', () => {
  async function streakOf7WithJokers(user: string, jokers: number) {
    await makeUser(k, user);
    for (let i = 0; i < 5; i++) await collectDaily(k, user, reMorning(addDays('2026-02-01', i)));
    await k('streaks').where({ user_id: user }).update({ jokers_available: jokers });
  }

  it('a user missing two days with two jokers keeps the streak', async () => {
    await streakOf7WithJokers('joker2', 2);
    // Last collection 2026-02-05; misses 06 and 07; collects 08.
    const r = await collectDaily(k, 'joker2', reMorning('2026-02-08'));
    expect(r.streak).toMatchObject({ current: 6, jokers_used: 2, jokers_available: 0 });
    const tx = await k('points_transactions').where({ user_id: 'joker2', local_date: '2026-02-08' }).first();
    expect(tx).toMatchObject({ streak_day: 6, jokers_used: 2, m100: 120 });
  });

  it('a user missing three days with two jokers restarts at day 1 and keeps the jokers', async () => {
    await streakOf7WithJokers('joker3', 2);
    const status = await streakStatus(k, 'joker3', reMorning('2026-02-09'));
    expect(status).toMatchObject({ current: 0, max: 5, next_points: 10, jokers_available: 2 });
    const r = await collectDaily(k, 'joker3', reMorning('2026-02-09'));
    expect(r.streak).toMatchObject({ current: 1, max: 5, jokers_used: 0, jokers_available: 2 });
    expect(r.points_awarded).toBe(10);
  });
});

describe('local days in other time zones', () => {
  it('a user in Nouméa (UTC+11) collecting at 23:30 and at 00:30 local gets two days', async () => {
    await makeUser(k, 'noumea', 'NC');
    const r1 = await collectDaily(k, 'noumea', at('2026-03-10T12:30:00Z')); // 23:30 on 03-10 in Nouméa
    const r2 = await collectDaily(k, 'noumea', at('2026-03-10T13:30:00Z')); // 00:30 on 03-11
    expect([r1.local_date, r2.local_date]).toEqual(['2026-03-10', '2026-03-11']);
    expect(r2.streak.current).toBe(2);
    // The same UTC day, but the same local day too: refused.
    await expect(collectDaily(k, 'noumea', at('2026-03-11T11:00:00Z'))).rejects.toMatchObject({ code: 'ALREADY_COLLECTED' });
  });

  it('a user in Saint-Pierre-et-Miquelon keeps correct local days across the DST change', async () => {
    // Miquelon moves from UTC-3 to UTC-2 on 2026-03-08 at 02:00 local.
    await makeUser(k, 'spm', 'PM');
    const days: string[] = [];
    for (const d of ['2026-03-06', '2026-03-07', '2026-03-08', '2026-03-09']) {
      // 23:30 local each evening, computed through the zone database (the offset changes mid-way).
      const instant = new Date(startOfLocalDay(addDays(d, 1), 'America/Miquelon').getTime() - 30 * 60_000);
      days.push((await collectDaily(k, 'spm', instant)).local_date);
    }
    expect(days).toEqual(['2026-03-06', '2026-03-07', '2026-03-08', '2026-03-09']);
    // 00:30 local on 03-10 is 02:30Z after the change (it would be 03:30Z before it).
    const r = await collectDaily(k, 'spm', at('2026-03-10T02:30:00Z'));
    expect(r).toMatchObject({ local_date: '2026-03-10', streak: { current: 5 } });
    // 01:30Z is still 03-09 23:30 local (UTC-2): already collected.
    await expect(collectDaily(k, 'spm', at('2026-03-10T01:30:00Z'))).rejects.toBeInstanceOf(RayonError);
    // Lots expire at local midnight after 365 days, in the same zone (UTC-3 in winter).
    const lot = await k('points_lots as l').join('points_transactions as t', 't.id', 'l.transaction_id').where({ 't.user_id': 'spm', 't.local_date': '2026-03-06' }).first('l.expires_at');
    expect(lot.expires_at.toISOString()).toBe('2027-03-07T03:00:00.000Z');
  });

  it('a territory change that moves the local date back refuses the collection', async () => {
    await makeUser(k, 'mover', 'NC');
    await collectDaily(k, 'mover', at('2026-03-10T14:00:00Z')); // 01:00 on 03-11 in Nouméa
    await k('users').where({ id: 'mover' }).update({ territory_code: 'PM' });
    // Same instant seen from Miquelon: 03-10 local, before last_check_in 03-11.
    await expect(collectDaily(k, 'mover', at('2026-03-10T15:00:00Z'))).rejects.toMatchObject({ code: 'ALREADY_COLLECTED' });
  });
});

describe('scale versions over time', () => {
  it("a scale change effective tomorrow changes tomorrow's award and not today's", async () => {
    await makeUser(k, 'scaled');
    const now = at('2026-11-25T09:00:00Z');
    // Tomorrow everywhere: after 2026-11-25 in every territory (it is already 11-25 in the Pacific).
    const plan = await planScaleSet(k, [parseAssignment('daily.base_points=20'), parseAssignment('actions.review_posted.points=40')], '2026-11-26', now);
    await writeScaleVersion(k, plan, { reason: 'test', actor: 'pm', now, via: 'set' });
    const today = await collectDaily(k, 'scaled', now);
    const todayEarn = await earn(k, 'scaled', 'review_posted', 'r1', now);
    expect([today.points_awarded, todayEarn.points_awarded]).toEqual([10, 10]);
    // 20:00Z is 00:00 on 11-26 in La Réunion: the new version is in force there.
    const tomorrow = await collectDaily(k, 'scaled', at('2026-11-25T20:00:00Z'));
    const tomorrowEarn = await earn(k, 'scaled', 'review_posted', 'r2', at('2026-11-25T20:00:00Z'));
    expect([tomorrow.points_awarded, tomorrowEarn.points_awarded]).toEqual([20, 40]);
    const versions = (await k('points_transactions').where({ user_id: 'scaled' }).orderBy('id')).map((r) => r.scale_version);
    expect(versions).toEqual([1, 1, plan.base.version + 1, plan.base.version + 1]);
    // The earlier rows were not rewritten.
    expect((await k('points_transactions').where({ user_id: 'scaled', local_date: '2026-11-25' })).map((r) => r.amount)).toEqual([10, 10]);
  });

  it('refuses an effective date that is today somewhere', async () => {
    // 2026-11-25T12:00Z is already 2026-11-26 in Nouméa (UTC+11) and Wallis (UTC+12).
    await expect(planScaleSet(k, [parseAssignment('daily.base_points=30')], '2026-11-26', at('2026-11-25T12:00:00Z'))).rejects.toMatchObject({ code: 'VALIDATION_ERROR' });
    await expect(planScaleSet(k, [parseAssignment('daily.base_points=30')], '2026-11-24', at('2026-11-25T12:00:00Z'))).rejects.toThrow(/never rewrite history/);
  });
});

describe('statuses', () => {
  it('rise with the credit that crosses the threshold and bring the bonus from the next credit on', async () => {
    await makeUser(k, 'climber');
    await k('points_balance').where({ user_id: 'climber' }).update({ lifetime_points: 9990, balance: 0, status: 'silver' });
    const r1 = await earn(k, 'climber', 'review_posted', 'a', at('2026-06-01T06:00:00Z'));
    expect(r1.points_awarded).toBe(11); // silver +10%
    expect((await k('points_balance').where({ user_id: 'climber' }).first()).status).toBe('gold');
    const r2 = await earn(k, 'climber', 'transaction_completed', 'b', at('2026-06-01T07:00:00Z'));
    expect(r2.points_awarded).toBe(62); // gold +25%: floor(62.5)
  });
});
