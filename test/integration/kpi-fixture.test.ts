import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectDaily } from '../../src/core/earning/index.js';
import { kpiReport, renderKpiCsv, type Figure, type KpiReport } from '../../src/core/kpi/index.js';
import { verifyLedger } from '../../src/core/ledger/index.js';
import { addRequestStats } from '../../src/core/ops/index.js';
import { createTestDb, type TestDb } from '../helpers/db.js';
import { buildKpiFixture, FIXTURE_AS_OF, FIXTURE_NOW, FIXTURE_PERIOD } from '../helpers/kpi-fixture.js';

/**
 * Every KPI of the report against the hand-built fixture of test/helpers/kpi-fixture.ts, with the
 * arithmetic written out. RE = UTC+4, PF = UTC−10. Period 11-10..11-16 (7 days), baseline
 * 11-03..11-09, the period before it 10-27..11-02. As of 2026-11-18T00:00Z.
 */
let t: TestDb;
let report: KpiReport;
const fig = (r: KpiReport, id: string): Figure => r.figures.find((f) => f.id === id)!;

beforeAll(async () => {
  t = await createTestDb();
  await buildKpiFixture(t.db.knex);
  report = await kpiReport(t.db.knex, { ...FIXTURE_PERIOD, asOf: FIXTURE_AS_OF, now: FIXTURE_NOW });
}, 120_000);
afterAll(async () => {
  if (t) expect((await verifyLedger(t.db.knex)).discrepancies).toEqual([]);
  await t?.destroy();
});

describe('kpi report on the hand-built fixture', () => {
  it('activation: 3 of the 4 users registered by 11-16 have a daily/earn/redeem row (dan has only ops credits) = 75%', () => {
    const f = fig(report, 'activation_rate');
    expect(f.inputs).toEqual({ registered: 4, activated: 3 });
    expect(f.value).toBe(3 / 4);
    expect(f.display).toBe('75.00%');
    expect(f.mark).toBe('met'); // ≥ 70%
  });

  it('daily collection rate: registered 3 on 11-10/11 (pia arrives on 11-12 local), collectors on local days', () => {
    // 11-10 ana 1/3 · 11-11 ana 1/3 · 11-12 ana 1/4 · 11-13 ana+pia 2/4 (pia's 2026-11-14T08:00Z is
    // 11-13 22:00 in PF) · 11-14 2/4 · 11-15 pia 1/4 (ana skipped) · 11-16 ana+pia 2/4 (pia at
    // 2026-11-17T08:00Z, still 11-16 in PF). Mean = (2/3 + 8/4) / 7 = (8/3) / 7 = 8/21 = 38.10%.
    const f = fig(report, 'daily_collection_rate');
    expect(report.series.days.map((d) => [d.day, d.collectors, d.registered])).toEqual([
      ['2026-11-10', 1, 3], ['2026-11-11', 1, 3], ['2026-11-12', 1, 4], ['2026-11-13', 2, 4],
      ['2026-11-14', 2, 4], ['2026-11-15', 1, 4], ['2026-11-16', 2, 4],
    ]);
    expect(f.value).toBeCloseTo(8 / 21, 12);
    expect(f.display).toBe('38.10%');
    expect(f.mark).toBe('met'); // ≥ 25%
  });

  it('average streak length: ana 8 (11-08..11-14 then 11-16 across a joker) and pia 4; cleo\'s runs lie outside = 6 days', async () => {
    const f = fig(report, 'average_streak_length');
    expect(report.series.streaks).toEqual([{ length: 4, runs: 1 }, { length: 8, runs: 1 }]);
    expect(f.value).toBe(12 / 2);
    expect(f.display).toBe('6.00 days');
    expect(f.mark).toBe('met'); // ≥ 3
    const bridged = await t.db.knex('points_transactions').where({ user_id: 'ana', type: 'daily', local_date: '2026-11-16' }).first('streak_day', 'jokers_used');
    expect(bridged).toEqual({ streak_day: 8, jokers_used: 1 });
  });

  it('points usage: (75 redeemed − 50 refunded) / 142 credited = 17.61%', () => {
    // credited by daily/earn in the period: ana 12+12+12+12+15+15 (streak days 3..8) + 20 (earn)
    // = 98; pia 10+10+12+12 = 44; total 142. Redeemed: ana 50 (11-12) + pia 25 (11-16) = 75.
    // Refunded: ana's 50 (rejected 11-13). 25 / 142.
    const f = fig(report, 'points_usage_rate');
    expect(f.inputs).toEqual({ redeemed: 75, refunded: 50, credited: 142 });
    expect(f.value).toBe(25 / 142);
    expect(f.display).toBe('17.61%');
    expect(f.mark).toBe('not met'); // < 60%
  });

  it('average redemption delay from the allocations: 4058.5 point-hours / 75 points = 2.2547 days', () => {
    // ana's 50 at 11-12T06:00Z took (FIFO) 10 of 11-08T05:00Z (97 h), 10 of 11-09T05:00Z (73 h),
    // 12 of 11-10T05:00Z (49 h), 12 of the 11-11T05:00Z daily (25 h), 6 of the 11-11T07:00Z earn
    // (23 h): 970 + 730 + 588 + 300 + 138 = 2726. pia's 25 at 11-17T08:30Z took 10 of
    // 11-14T08:00Z (72.5 h), 10 of 11-15T08:00Z (48.5 h), 5 of 11-16T08:00Z (24.5 h):
    // 725 + 485 + 122.5 = 1332.5. (2726 + 1332.5) / 75 / 24 = 2.254722… days.
    const f = fig(report, 'average_redemption_delay');
    expect(f.inputs).toEqual({ points: 75 });
    expect(f.value).toBeCloseTo(4058.5 / 75 / 24, 12);
    expect(f.display).toBe('2.25 days');
    expect(f.mark).toBe('met'); // ≤ 30 days
  });

  it('retention: of ana and cleo (active in the baseline) only ana is active now = 50%; baseline 1/1 = 100%: −50 pts', () => {
    const f = fig(report, 'retention');
    expect(f.value).toBe(1 / 2);
    expect(f.baseline).toEqual({ value: 1, display: '100.00%' }); // cleo: 10-30 and 11-05
    expect(f.change?.value).toBeCloseTo(-0.5, 12);
    expect(f.change?.display).toBe('-50.00 pts');
    expect(f.mark).toBe('not met');
  });

  it('frequency: ana 6 active days (not 11-15), pia 4 → 10/2 = 5; baseline ana 2 + cleo 1 → 3/2 = 1.5: +233.33%', () => {
    const f = fig(report, 'frequency');
    expect(f.inputs).toMatchObject({ active_days: 10, active_users: 2, active_days_baseline: 3, active_users_baseline: 2 });
    expect(f.value).toBe(5);
    expect(f.baseline?.value).toBe(1.5);
    expect(f.change?.value).toBeCloseTo(3.5 / 1.5, 12);
    expect(f.change?.display).toBe('+233.33%');
    expect(f.mark).toBe('met');
  });

  it('response time and error rate from the stored buckets of the period (UTC days): p95 ≤ 100 ms, 1/1000 = 0.1%', () => {
    // 1,000 answers: 900 ≤ 50 ms, 99 ≤ 100 ms, 1 ≤ 500 ms (the 5xx); the 950th is in the ≤ 100 ms
    // bucket. The 10 answers of 11-20 are outside the period.
    const rt = fig(report, 'response_time');
    expect(rt.value).toBe(100);
    expect(rt.display).toBe('≤ 100 ms');
    expect(rt.mark).toBe('met');
    const er = fig(report, 'error_rate');
    expect(er.inputs).toEqual({ errors_5xx: 1, requests: 1000 });
    expect(er.value).toBe(0.001);
    expect(er.mark).toBe('not met'); // the target is strictly below 0.1%
  });

  it('cost per user: 25 points net × 0.01 € / 2 active users = 0.125 € → 0.13 € (half-up)', () => {
    const f = fig(report, 'cost_per_user');
    expect(f.exact).toBe('0.13');
    expect(f.display).toBe('0.13 €');
    expect(f.mark).toBe('met'); // < 0.5 €
  });

  it('external figures say so', () => {
    for (const id of ['conversion', 'availability', 'roi_revenue_share']) {
      expect(fig(report, id)).toMatchObject({ value: null, display: 'n/a (external data)', mark: 'n/a' });
    }
  });

  it('liability, breakage and forecast: 118 + 19 + 20 + 40 = 197 points (1.97 €); 100 expired; 40 within 60 days', () => {
    // ana 118 (credits 10+10+12+12+20+12+12+15+15, −50 +50), pia 44 − 25 = 19, cleo 20, dan 40
    // (his 100 expired on 11-12 local). dan's 40 (credited 2025-12-20) expire 2026-12-21 00:00 RE
    // = 2026-12-20T20:00Z: after as-of + 30 days (12-18), before + 60 days. Everything else in 2027.
    expect(report.liability).toEqual({ points: 197, eur: '1.97', display: '197 pts (1.97 €)' });
    expect(report.breakage).toMatchObject({ points: 100, eur: '1.00' });
    expect(report.forecast.map((f) => [f.within_days, f.points])).toEqual([[30, 0], [60, 40], [90, 40]]);
    expect(report.series.days.find((d) => d.day === '2026-11-12')).toMatchObject({ credited: 12, redeemed: 50, expired: 100 });
  });

  it('manifest: parameters, as-of, the high-water mark (24 rows summing to 197) and the version', () => {
    // rows: ana 9 credits + redeem + 4 refund rows (one per expiry of the lots it took back:
    // 10, 10, 12, 12+6) = 14, pia 4 + redeem = 5, cleo 2, dan 2 credits + expire = 3.
    const m = report.manifest;
    expect(m.parameters).toEqual({ from: '2026-11-10', to: '2026-11-16', territory: null, as_of_given: true });
    expect(m.as_of).toBe('2026-11-18T00:00:00.000Z');
    expect(m.baseline).toEqual({ from: '2026-11-03', to: '2026-11-09' });
    expect(m.high_water_mark).toMatchObject({ rows: 24, sum: 197, last_transaction_at: '2026-11-17T08:30:00.000Z' });
    expect(m.point_value_eur).toBe('0.01');
    expect(m.software_version).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('per territory: PF holds pia only (registered 11-12 local), RE the three others', async () => {
    const pf = await kpiReport(t.db.knex, { ...FIXTURE_PERIOD, asOf: FIXTURE_AS_OF, now: FIXTURE_NOW, territory: 'PF' });
    // pia: collection 0/0 on 11-10, 11-11 (not counted), 0/1 on 11-12, then 1/1 for 11-13..11-16 → 4/5.
    expect(fig(pf, 'daily_collection_rate').value).toBeCloseTo(4 / 5, 12);
    expect(fig(pf, 'activation_rate').inputs).toEqual({ registered: 1, activated: 1 });
    expect(pf.liability.points).toBe(19);
    const reOnly = await kpiReport(t.db.knex, { ...FIXTURE_PERIOD, asOf: FIXTURE_AS_OF, now: FIXTURE_NOW, territory: 're' });
    expect(reOnly.liability.points).toBe(178);
    expect(fig(reOnly, 'retention').value).toBe(1 / 2); // ana and cleo are both RE
  });

  it('--as-of gives identical figures before and after later activity; without it the new rows show', async () => {
    const again = await kpiReport(t.db.knex, { ...FIXTURE_PERIOD, asOf: FIXTURE_AS_OF, now: FIXTURE_NOW });
    expect(again).toEqual(report);
    const csvBefore = await renderKpiCsv(report);
    // "today" (11-18): ana and cleo collect, pia's balance stays, a request fails.
    const k = t.db.knex;
    await collectDaily(k, 'ana', new Date('2026-11-18T05:00:00Z'), { actor: 'user:ana' });
    await collectDaily(k, 'cleo', new Date('2026-11-18T06:00:00Z'), { actor: 'user:cleo' });
    await addRequestStats(k, [{ bucket_start: new Date('2026-11-18T06:00:00Z'), route: 'collect', status_class: '5xx', requests: 3, duration_us_sum: 3, bucket_counts: [3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0] }]);
    const later = new Date('2026-11-18T12:00:00Z');
    const after = await kpiReport(k, { ...FIXTURE_PERIOD, asOf: FIXTURE_AS_OF, now: later });
    expect(after).toEqual(report);
    expect(await renderKpiCsv(after)).toBe(csvBefore);
    const now = await kpiReport(k, { ...FIXTURE_PERIOD, now: later });
    expect(now.manifest.high_water_mark.rows).toBe(26);
    expect(now.liability.points).toBe(197 + 10 + 10); // streak restarts: 10 each
  });

  it('CSV for a French spreadsheet: ";", BOM, decimal commas, one row per figure', async () => {
    const csv = await renderKpiCsv(report, { excel: true });
    expect(csv.startsWith('\ufeffsection;id;name;value;')).toBe(true);
    expect(csv).toContain('kpi;cost_per_user;cost per user;0,13;0.13 €;eur;< 0.5 €;met;');
    expect(csv).toContain('kpi;activation_rate;activation rate;0,75;');
    expect(csv).toContain("kpi;retention;retention;0,5;50.00%;percent;'+10 pts vs baseline;not met;100.00%;'-50.00 pts;");
    expect(csv).toContain('programme;liability_eur;liability (€);1,97;');
  });

  it('refuses an as-of later than now, an unknown territory and a reversed period', async () => {
    const k = t.db.knex;
    await expect(kpiReport(k, { asOf: new Date('2026-12-01T00:00:00Z'), now: FIXTURE_NOW })).rejects.toMatchObject({ code: 'VALIDATION_ERROR' });
    await expect(kpiReport(k, { now: FIXTURE_NOW, territory: 'XX' })).rejects.toMatchObject({ code: 'VALIDATION_ERROR', details: [{ where: '--territory' }] });
    await expect(kpiReport(k, { now: FIXTURE_NOW, from: '2026-11-16', to: '2026-11-10' })).rejects.toMatchObject({ code: 'VALIDATION_ERROR' });
  });
});
