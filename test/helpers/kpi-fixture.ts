import type { Knex } from 'knex';
import { collectDaily, earn } from '../../src/core/earning/index.js';
import { expirePoints } from '../../src/core/ledger/index.js';
import { addRequestStats } from '../../src/core/ops/index.js';
import { redeem, rejectRedemption } from '../../src/core/redemption/index.js';
import { makeReward } from './catalog-setup.js';
import { makeUsers } from './fixtures.js';
import { give } from './ledger-setup.js';

/**
 * The hand-built KPI fixture (test/integration/kpi-fixture.test.ts computes every figure from it
 * by hand). Period 2026-11-10..2026-11-16; RE is UTC+4, PF is UTC−10 (no summer time in either).
 *
 * - ana (RE, registered 2026-10-01): collects 11-08..11-14 at 09:00 local (streak 1..7, a joker
 *   earned on day 7), skips 11-15, collects 11-16 (the joker bridges the gap: streak day 8);
 *   earns listing_created (20) on 11-11; redeems a manual reward (50) on 11-12, rejected on
 *   11-13 (a refund of 50).
 * - pia (PF, registered 2026-11-13T05:00Z = 11-12 19:00 local, mid-period): collects at 08:00Z
 *   on 11-14..11-17, i.e. 22:00 local on 11-13..11-16 (already the next day in RE and in UTC);
 *   redeems an instant reward (25) at 2026-11-17T08:30Z = 11-16 22:30 local.
 * - cleo (RE, registered 2026-10-01): collects 10-30 and 11-05 only (baselines).
 * - dan (RE, registered 2025-06-01): ops credits of 100 on 2025-11-10 (expires 2026-11-11 00:00
 *   local, written off by the expiry run of 2026-11-12 06:00 local) and 40 on 2025-12-20.
 * - HTTP statistics: 1,000 answers on 11-12 (one 5xx), and 10 on 11-20 (outside the period).
 */
export const FIXTURE_PERIOD = { from: '2026-11-10', to: '2026-11-16' };
export const FIXTURE_AS_OF = new Date('2026-11-18T00:00:00Z');
export const FIXTURE_NOW = new Date('2026-11-18T12:00:00Z');

const re = (date: string, time = '09:00') => new Date(`${date}T${time}:00+04:00`);

export async function buildKpiFixture(k: Knex): Promise<void> {
  await k('territories').where({ code: 'PF' }).update({ state: 'open' });
  await makeUsers(k, [
    { id: 'ana', territory: 'RE', created_at: new Date('2026-10-01T00:00:00Z') },
    { id: 'cleo', territory: 'RE', created_at: new Date('2026-10-01T00:00:00Z') },
    { id: 'dan', territory: 'RE', created_at: new Date('2025-06-01T00:00:00Z') },
    { id: 'pia', territory: 'PF', created_at: new Date('2026-11-13T05:00:00Z') },
  ]);
  const manual = await makeReward(k, 'KPI-MANUAL', { cost: 50, fulfilment: 'manual', territories: ['RE', 'PF'] });
  const instant = await makeReward(k, 'KPI-INSTANT', { cost: 25, fulfilment: 'instant', territories: ['RE', 'PF'] });

  await give(k, 'dan', 100, re('2025-11-10', '10:00'));
  await give(k, 'dan', 40, re('2025-12-20', '10:00'));
  await collectDaily(k, 'cleo', re('2026-10-30'), { actor: 'user:cleo' });
  await collectDaily(k, 'cleo', re('2026-11-05'), { actor: 'user:cleo' });

  for (const d of ['2026-11-08', '2026-11-09', '2026-11-10', '2026-11-11']) await collectDaily(k, 'ana', re(d), { actor: 'user:ana' });
  await earn(k, 'ana', 'listing_created', 'listing-1', re('2026-11-11', '11:00'), { actor: 'service:platform' });
  await expirePoints(k, { asOf: re('2026-11-12', '06:00'), now: re('2026-11-12', '06:00'), actor: 'test' });
  await collectDaily(k, 'ana', re('2026-11-12'), { actor: 'user:ana' });
  const r = await redeem(k, 'ana', manual, re('2026-11-12', '10:00'), { actor: 'user:ana' });
  await collectDaily(k, 'ana', re('2026-11-13'), { actor: 'user:ana' });
  await rejectRedemption(k, r.redemption.id, { actor: 'ops', now: re('2026-11-13', '10:00'), reason: 'partner out of stock' });
  await collectDaily(k, 'ana', re('2026-11-14'), { actor: 'user:ana' });
  await collectDaily(k, 'ana', re('2026-11-16'), { actor: 'user:ana' });

  for (const d of ['2026-11-14', '2026-11-15', '2026-11-16', '2026-11-17']) await collectDaily(k, 'pia', new Date(`${d}T08:00:00Z`), { actor: 'user:pia' });
  await redeem(k, 'pia', instant, new Date('2026-11-17T08:30:00Z'), { actor: 'user:pia' });

  const counts = (i: number, n: number) => Array.from({ length: 11 }, (_, j) => (j === i ? n : 0));
  await addRequestStats(k, [
    { bucket_start: new Date('2026-11-12T10:00:00Z'), route: 'balance', status_class: '2xx', requests: 900, duration_us_sum: 900 * 30_000, bucket_counts: counts(3, 900) },
    { bucket_start: new Date('2026-11-12T10:01:00Z'), route: 'collect', status_class: '2xx', requests: 99, duration_us_sum: 99 * 80_000, bucket_counts: counts(4, 99) },
    { bucket_start: new Date('2026-11-12T10:02:00Z'), route: 'redeem', status_class: '5xx', requests: 1, duration_us_sum: 400_000, bucket_counts: counts(6, 1) },
    { bucket_start: new Date('2026-11-20T10:00:00Z'), route: 'balance', status_class: '5xx', requests: 10, duration_us_sum: 10 * 3_000_000, bucket_counts: counts(9, 10) },
  ]);
}
