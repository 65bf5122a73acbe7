import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Knex } from 'knex';
import { createTestDb, type TestDb } from '../helpers/db.js';
import { at, makeUser } from '../helpers/fixtures.js';
import { DEFAULT } from '../helpers/scale-doc.js';
import { collectDaily, earn, formatEur, simulateScale } from '../../src/core/earning/index.js';
import { addDays } from '../../src/core/time.js';

let t: TestDb;
let k: Knex;
beforeAll(async () => {
  t = await createTestDb();
  k = t.db.knex;
  await k('territories').where({ code: 'NC' }).update({ state: 'open' });
  await makeUser(k, 'sa', 'RE');
  await makeUser(k, 'sb', 'NC');
  for (let i = 0; i < 5; i++) await collectDaily(k, 'sa', at(`${addDays('2026-10-01', i)}T06:00:00Z`));
  for (let i = 0; i < 7; i++) await earn(k, 'sa', 'review_posted', `rev-${i}`, at('2026-10-02T07:00:00Z')).catch(() => undefined);
  for (let i = 0; i < 2; i++) await collectDaily(k, 'sb', at(`${addDays('2026-10-01', i)}T06:00:00Z`));
  await earn(k, 'sb', 'listing_created', 'l-1', at('2026-10-02T07:00:00Z'));
  // Outside the period: not counted.
  await collectDaily(k, 'sb', at('2026-10-10T06:00:00Z'));
});
afterAll(async () => t?.destroy());

describe('scale simulate', () => {
  it('replays the period under the proposal: by territory and action, in points and €, with status changes', async () => {
    const proposal = structuredClone(DEFAULT);
    proposal.daily.base_points = 20;
    proposal.actions.review_posted = { points: 20, daily_cap: 10 };
    proposal.statuses[1].min_lifetime_points = 100;
    proposal.point_value_eur = 0.012;
    const sim = await simulateScale(k, proposal, '2026-10-01', '2026-10-05');
    const view = sim.rows.map((r) => [r.territory, r.action, r.actual_count, r.actual_points, r.proposed_count, r.proposed_points]);
    expect(view).toEqual([
      ['NC', 'daily', 2, 20, 2, 40],
      ['NC', 'listing_created', 1, 20, 1, 20],
      ['RE', 'daily', 5, 56, 5, 118], // silver from the 3rd review on: 20, 20, then floor(20 × 1.2 × 1.1) = 26 three times
      ['RE', 'review_posted', 5, 50, 7, 148], // the 2 capped reviews are accepted under a cap of 10; 20 × 3 + 22 × 4
    ]);
    expect(sim.total).toMatchObject({ actual_points: 146, actual_eur: '1.46', proposed_points: 326, proposed_eur: '3.91', delta_points: 180 });
    expect(sim.status_changes).toEqual([{ user_id: 'sa', actual_status: 'bronze', proposed_status: 'silver', actual_lifetime: 106, proposed_lifetime: 266 }]);
    expect(sim.users).toBe(2);
  });

  it('the scale in force, simulated, gives back what was awarded', async () => {
    const sim = await simulateScale(k, DEFAULT, '2026-10-01', '2026-10-05');
    for (const r of sim.rows) expect([r.proposed_count, r.proposed_points]).toEqual([r.actual_count, r.actual_points]);
    expect(sim.status_changes).toEqual([]);
  });

  it('a tighter cap refuses what was credited', async () => {
    const proposal = structuredClone(DEFAULT);
    proposal.actions.review_posted.daily_cap = 2;
    delete (proposal.actions as Record<string, unknown>).listing_created;
    const sim = await simulateScale(k, proposal, '2026-10-01', '2026-10-05');
    expect(sim.rows.find((r) => r.action === 'review_posted')).toMatchObject({ actual_count: 5, proposed_count: 2, proposed_points: 20 });
    expect(sim.rows.find((r) => r.action === 'listing_created')).toMatchObject({ actual_count: 1, proposed_count: 0, proposed_points: 0 });
  });

  it('refuses a bad period or an invalid proposal', async () => {
    await expect(simulateScale(k, DEFAULT, '2026-10-05', '2026-10-01')).rejects.toMatchObject({ code: 'VALIDATION_ERROR' });
    await expect(simulateScale(k, DEFAULT, '2026-13-01', '2026-10-01')).rejects.toMatchObject({ code: 'VALIDATION_ERROR' });
    await expect(simulateScale(k, { ...DEFAULT, extra: 1 }, '2026-10-01', '2026-10-05')).rejects.toMatchObject({ details: [{ where: 'extra', message: 'unknown key' }] });
  });

  it('rounds € half-up to the cent from exact micro-euros', () => {
    expect(formatEur(3_912_000n)).toBe('3.91');
    expect(formatEur(5_000n)).toBe('0.01');
    expect(formatEur(4_999n)).toBe('0.00');
    expect(formatEur(-1_235_000n)).toBe('-1.24');
  });
});
