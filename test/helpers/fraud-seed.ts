import type { Knex } from 'knex';
import { collectDaily, earn } from '../../src/core/earning/index.js';
import { adjustPoints } from '../../src/core/corrections/index.js';
import { redeem } from '../../src/core/redemption/index.js';
import { addDays } from '../../src/core/time.js';
import type { RuleName } from '../../src/core/fraud/index.js';
import { makeUsers } from './fixtures.js';
import { makeReward } from './catalog-setup.js';

/**
 * One pattern per fraud rule, and honest users around them, written through the real core
 * functions (collect, earn, redeem, adjust) at business instants. Every user is in La Réunion
 * (UTC+4). The scan these tests run ends at SCAN_NOW and looks back 7 days.
 */

export const SCAN_NOW = new Date('2026-03-10T12:00:00Z');
export const WINDOW = { since: new Date('2026-03-03T12:00:00Z'), until: SCAN_NOW };

const FARM = Array.from({ length: 10 }, (_, i) => `farm${String(i).padStart(2, '0')}`);
const RING = ['ring1', 'ring2', 'ring3', 'ring4', 'ring5'];

/** Who each rule must flag on the seeded data, and nobody else. */
export const EXPECTED: Record<RuleName, string[]> = {
  earn_velocity: ['burst'],
  refused_burst: ['refuser'],
  shared_reference: RING,
  redeem_burst: ['spree'],
  new_account_redeem: ['newbie'],
  lockstep_farm: FARM,
  operator_adjustments: ['operator:mallory'],
};

/** The four actions of the default scale, in the order their daily caps allow (5, 10, 5, 3 a day). */
function actions(n: number): string[] {
  const pool = [...Array(5).fill('listing_created'), ...Array(10).fill('transaction_completed'), ...Array(5).fill('review_posted'), ...Array(3).fill('referral_signup')];
  return pool.slice(0, n);
}

/** The actor the HTTP mode records for a user's own earn (user token): the ledger row is the record. */
const own = (user: string) => ({ actor: `user:${user}` });

const at = (base: string, minutes: number) => new Date(new Date(base).getTime() + minutes * 60_000);

/** Earns one after the other, every `step` minutes from `start`. */
async function earnRun(k: Knex, user: string, start: string, n: number, step: number, ref: string) {
  const list = actions(n);
  for (let i = 0; i < n; i++) await earn(k, user, list[i], `${ref}-${i}`, at(start, i * step), own(user));
}

const created = (iso: string) => new Date(iso);

export async function seedFraudPatterns(k: Knex): Promise<void> {
  await makeUsers(k, [
    { id: 'heavy', created_at: created('2025-10-01T08:00:00Z') },
    { id: 'burst', created_at: created('2026-01-01T08:00:00Z') },
    { id: 'steady', created_at: created('2026-01-02T08:00:00Z') },
    { id: 'refuser', created_at: created('2026-01-03T08:00:00Z') },
    { id: 'spree', created_at: created('2025-06-01T08:00:00Z') },
    { id: 'newbie', created_at: created('2026-03-07T10:00:00Z') },
    { id: 'pair1', created_at: created('2026-01-04T08:00:00Z') },
    { id: 'pair2', created_at: created('2026-01-05T08:00:00Z') },
    ...RING.map((id, i) => ({ id, created_at: created(`2026-01-1${i}T08:00:00Z`) })),
    ...['mule1', 'mule2', 'mule3', 'mule4', 'mule5'].map((id) => ({ id, created_at: created('2025-12-01T08:00:00Z') })),
    // Ten accounts created within 40 minutes, and a family of three created within an hour.
    ...FARM.map((id, i) => ({ id, created_at: at('2026-03-01T08:00:00Z', i * 4) })),
    ...['fam1', 'fam2', 'fam3'].map((id, i) => ({ id, created_at: at('2026-02-01T10:00:00Z', i * 10) })),
  ]);
  const r100 = await makeReward(k, 'FRAUD-R100', { cost: 100, stock: null });
  const r1000 = await makeReward(k, 'FRAUD-R1000', { cost: 1000, stock: null });
  const r5000 = await makeReward(k, 'FRAUD-R5000', { cost: 5000, stock: null });

  await seedHeavy(k, r1000);

  // earn_velocity: 23 earns from 06:40 to 07:24 UTC — no clock hour holds more than 13 of them,
  // the sliding hour holds all 23.
  await earnRun(k, 'burst', '2026-03-08T06:40:00Z', 23, 2, 'burst');
  // 21 earns every 3 minutes: the first and the last are exactly 60 minutes apart, so no 60
  // minutes hold more than 20 (the threshold).
  await earnRun(k, 'steady', '2026-03-06T06:00:00Z', 21, 3, 'steady');

  // refused_burst: the 5 listings of the day, then 12 more refused by the daily cap.
  for (let i = 0; i < 17; i++) {
    await earn(k, 'refuser', 'listing_created', `refuser-${i}`, at('2026-03-05T08:00:00Z', i), own('refuser')).catch((e: { code?: string }) => {
      if (e.code !== 'CAP_REACHED') throw e;
    });
  }

  // shared_reference: one reference on five users, spelt five ways; a pair sharing another one.
  const spellings = ['Café-42', 'Cafe\u0301-42', 'Caf\u200Bé-42', 'CAFÉ-42', 'Ｃａｆé\u2060-42'];
  for (let i = 0; i < RING.length; i++) await earn(k, RING[i], 'transaction_completed', spellings[i], at('2026-03-04T09:00:00Z', i * 90), own(RING[i]));
  await earn(k, 'pair1', 'review_posted', 'REF-7', at('2026-03-05T10:00:00Z', 0), own('pair1'));
  await earn(k, 'pair2', 'review_posted', 'ref-7', at('2026-03-05T10:00:00Z', 5), own('pair2'));

  // redeem_burst: 7 redemptions of 100 points in the morning.
  await adjustPoints(k, { userId: 'spree', amount: 2000, reason: 'welcome offer' }, { now: created('2026-02-01T08:00:00Z'), actor: 'seed' });
  for (let i = 0; i < 7; i++) await redeem(k, 'spree', r100, at('2026-03-09T06:00:00Z', i * 10), own('spree'));

  // new_account_redeem: an account two days old redeems 5,000 points.
  await adjustPoints(k, { userId: 'newbie', amount: 5000, reason: 'partner promotion' }, { now: created('2026-03-07T11:00:00Z'), actor: 'seed' });
  await redeem(k, 'newbie', r5000, created('2026-03-09T10:00:00Z'), own('newbie'));

  // lockstep_farm: the ten accounts collect on the same six local days; the family of three too.
  for (let d = 0; d < 6; d++) {
    const date = addDays('2026-03-04', d);
    for (let i = 0; i < FARM.length; i++) await collectDaily(k, FARM[i], at(`${date}T05:00:00Z`, i), own(FARM[i]));
    for (const [i, id] of ['fam1', 'fam2', 'fam3'].entries()) await collectDaily(k, id, at(`${date}T15:00:00Z`, i * 7), own(id));
  }

  // operator_adjustments: one operator credits 50,000 points in one local day.
  for (const [i, id] of ['mule1', 'mule2', 'mule3', 'mule4', 'mule5'].entries()) {
    await adjustPoints(k, { userId: id, amount: 10_000, reason: 'goodwill' }, { now: at('2026-03-06T09:00:00Z', i), actor: 'mallory' });
  }
}

/**
 * An honest heavy user: a daily collection every day for over four months and three earns a day
 * (morning, midday, afternoon), plus one redemption of 1,000 points in the window.
 */
async function seedHeavy(k: Knex, reward: number): Promise<void> {
  for (let date = '2025-11-01'; date <= '2026-03-10'; date = addDays(date, 1)) {
    await collectDaily(k, 'heavy', new Date(`${date}T04:30:00Z`), own('heavy'));
    await earn(k, 'heavy', 'listing_created', `heavy-${date}-l`, new Date(`${date}T05:15:00Z`), own('heavy'));
    await earn(k, 'heavy', 'review_posted', `heavy-${date}-r`, new Date(`${date}T08:40:00Z`), own('heavy'));
    await earn(k, 'heavy', 'transaction_completed', `heavy-${date}-t`, new Date(`${date}T11:05:00Z`), own('heavy'));
  }
  await redeem(k, 'heavy', reward, new Date('2026-03-08T09:00:00Z'), own('heavy'));
}

/** Row counts of every table of the public schema (equal before and after: nothing was written). */
export async function publicRowCounts(k: Knex): Promise<Record<string, number>> {
  const tables: Array<{ table_name: string }> = await k('information_schema.tables')
    .where({ table_schema: 'public', table_type: 'BASE TABLE' })
    .orderBy('table_name')
    .select('table_name');
  const counts: Record<string, number> = {};
  for (const { table_name } of tables) counts[table_name] = Number((await k(table_name).count({ n: '*' }).first())?.n ?? 0);
  return counts;
}
