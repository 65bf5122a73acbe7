import { describe, expect, it } from 'vitest';
import { centsToText, eurCents } from '../../src/core/kpi/money.js';
import { resolvePeriods, yesterdayIn } from '../../src/core/kpi/period.js';
import { figure } from '../../src/core/kpi/figures.js';
import { KPI_DEFINITIONS } from '../../src/core/kpi/definitions.js';

describe('kpi money: exact euros, one half-up rounding', () => {
  it('rounds half-up to the cent from exact decimals', () => {
    expect(eurCents(25, '0.01', 2)).toBe(13n); // 0.125 € → 0.13 €
    expect(eurCents(24, '0.01', 2)).toBe(12n);
    expect(eurCents(1, '0.015')).toBe(2n); // 0.015 € → 0.02 €, where 0.015 as a float is 0.01499…
    expect(eurCents(-25, '0.01', 2)).toBe(-13n);
    expect(eurCents(7, '0.01', 3)).toBe(2n); // 0.0233… € → 0.02 €
    expect(eurCents(2 ** 40, '0.01')).toBe(1_099_511_627_776n); // 10,995,116,277.76 €: no float on the way
  });
  it('prints cents with two places', () => {
    expect([centsToText(0n), centsToText(5n), centsToText(197n), centsToText(-13n)]).toEqual(['0.00', '0.05', '1.97', '-0.13']);
  });
});

describe('kpi period', () => {
  const asOf = new Date('2026-11-18T05:00:00Z'); // RE 09:00 on 11-18; PF 19:00 on 11-17
  it('defaults to the 30 local days ending yesterday in the zone whose day ends last', () => {
    expect(yesterdayIn(asOf, ['Indian/Reunion'])).toBe('2026-11-17');
    expect(yesterdayIn(asOf, ['Indian/Reunion', 'Pacific/Tahiti'])).toBe('2026-11-16');
    const p = resolvePeriods({ asOf, zones: ['Indian/Reunion'] });
    expect(p.current).toEqual({ from: '2026-10-19', to: '2026-11-17', days: 30 });
    expect(p.baseline).toEqual({ from: '2026-09-19', to: '2026-10-18', days: 30 });
    expect(p.baseline2).toEqual({ from: '2026-08-20', to: '2026-09-18', days: 30 });
  });
  it('takes --from/--to as inclusive local dates and refuses bad ones by name', () => {
    expect(resolvePeriods({ from: '2026-11-10', to: '2026-11-16', asOf, zones: [] }).baseline).toEqual({ from: '2026-11-03', to: '2026-11-09', days: 7 });
    expect(() => resolvePeriods({ from: '2026-11-31', asOf, zones: [] })).toThrow(/--from must be a date/);
    expect(() => resolvePeriods({ from: '2026-11-17', to: '2026-11-16', asOf, zones: [] })).toThrow(/after --to/);
  });
});

describe('kpi marks', () => {
  it('compares each value with its target the way the spec words it', () => {
    expect(figure('activation_rate', { value: 0.7 }).mark).toBe('met'); // 70% reaches "70%"
    expect(figure('error_rate', { value: 0.001 }).mark).toBe('not met'); // "< 0.1%" is strict
    expect(figure('average_redemption_delay', { value: 31 }).mark).toBe('not met');
    expect(figure('retention', { value: 0.6, baseline: 0.5 }).mark).toBe('met'); // +10 pts
    expect(figure('retention', { value: 0.59, baseline: 0.5 }).mark).toBe('not met');
    expect(figure('frequency', { value: 5, baseline: 4 }).mark).toBe('met'); // +25%
    expect(figure('frequency', { value: 5, baseline: 0 }).change?.value).toBeNull();
    expect(figure('response_time', { value: Number.POSITIVE_INFINITY })).toMatchObject({ display: '> 5000 ms', mark: 'not met' });
  });
  it('never turns a missing figure into zero', () => {
    for (const d of KPI_DEFINITIONS) {
      const f = figure(d.id, { value: null });
      expect(f.value).toBeNull();
      expect(f.mark).toBe('n/a');
      expect(['no data', 'n/a (external data)']).toContain(f.display);
    }
  });
});
