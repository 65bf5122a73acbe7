import type { Knex } from 'knex';
import { makeUsers } from './fixtures.js';
import { give } from './ledger-setup.js';
import { makeReward } from './catalog-setup.js';
import { collectDaily } from '../../src/core/earning/index.js';
import { expirePoints } from '../../src/core/ledger/index.js';
import { revert } from '../../src/core/corrections/index.js';
import { liftUser, suspendUser } from '../../src/core/fraud/index.js';
import { redeem, rejectRedemption } from '../../src/core/redemption/index.js';

/**
 * A user with a rich history for the support view (SPEC "Support"), in La Réunion (UTC+4), all
 * through the real core functions:
 *   2025-09-01  +100 adjustment (expires 2026-09-02 local)
 *   2025-10-10  +40 adjustment (expires 2026-10-11 local)
 *   2026-03-01  +50 correction, reverted on 2026-03-02
 *   2026-09-05  the expiry run takes the 100
 *   2026-09-10…16  seven daily collections (a joker earned on day 7), 09-17 missed,
 *   2026-09-18  collected: the joker bridges the gap, streak day 8
 *   2026-09-19  a 50-point redemption (manual reward), rejected the same day: refunded as re-credits
 *   2026-09-20…21  a suspension, lifted
 * At NOW (2026-09-22 10:00 local) the streak is broken (stored 8, effective 0) and 40 re-credited
 * points expire within 30 days.
 */
export const RICH = {
  id: 'u-rich',
  email: 'Rich.Person@Example.org',
  now: new Date('2026-09-22T06:00:00Z'),
  /** 100 + 40 + 50 − 50 − 100 + 98 (dailies) − 50 + 50 */
  balance: 138,
  /** 100 + 40 + 50 − 50 (reverted) + 98 */
  lifetime: 238,
  dailyPoints: [10, 10, 12, 12, 12, 12, 15, 15],
};

/** 10:00 in La Réunion on a local date. */
const reMorning = (date: string) => new Date(`${date}T06:00:00Z`);

export async function seedRichUser(knex: Knex): Promise<{ redemptionId: number; revertedId: number; suspensionId: string }> {
  await makeUsers(knex, [{ id: RICH.id, email: RICH.email, name: 'Rich Person', territory: 'RE' }], new Date('2025-08-01T00:00:00Z'));
  await give(knex, RICH.id, 100, reMorning('2025-09-01'));
  await give(knex, RICH.id, 40, reMorning('2025-10-10'));
  const correction = await give(knex, RICH.id, 50, reMorning('2026-03-01'));
  await revert(knex, String(correction.transactionId), { reason: 'credited twice (ticket SUP-12)', actor: 'ops', now: reMorning('2026-03-02') });
  await expirePoints(knex, { asOf: new Date('2026-09-05T00:00:00Z'), now: new Date('2026-09-05T00:00:00Z'), actor: 'ops' });
  for (const d of ['2026-09-10', '2026-09-11', '2026-09-12', '2026-09-13', '2026-09-14', '2026-09-15', '2026-09-16', '2026-09-18']) {
    await collectDaily(knex, RICH.id, reMorning(d), { actor: `user:${RICH.id}` });
  }
  const rewardId = await makeReward(knex, 'SUP-VOUCHER', { cost: 50, fulfilment: 'manual' });
  const r = await redeem(knex, RICH.id, rewardId, reMorning('2026-09-19'), { actor: `user:${RICH.id}` });
  await rejectRedemption(knex, r.redemption.id, { actor: 'ops', now: new Date('2026-09-19T10:00:00Z'), reason: 'partner out of vouchers' });
  const suspensionId = await seedLiftedSuspension(knex, RICH.id, {
    startedAt: new Date('2026-09-20T08:00:00Z'), liftedAt: new Date('2026-09-21T08:00:00Z'), reason: 'earn velocity under review', liftReason: 'honest heavy seller',
  });
  return { redemptionId: r.redemption.id, revertedId: Number(correction.transactionId), suspensionId };
}

/** A suspension already lifted, through the real core calls of `rayon fraud suspend` and `fraud lift`. */
export async function seedLiftedSuspension(
  knex: Knex,
  userId: string,
  s: { startedAt: Date; liftedAt: Date; reason: string; liftReason: string; actor?: string },
): Promise<string> {
  const actor = s.actor ?? 'ops';
  const suspended = await suspendUser(knex, { userId, reason: s.reason, actor, now: s.startedAt });
  await liftUser(knex, { userId, reason: s.liftReason, actor, now: s.liftedAt });
  return String(suspended.suspension.id);
}
