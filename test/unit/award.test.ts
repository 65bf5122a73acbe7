import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { award, raiseStatus, statusFor, toM100, versionInForce, type ScaleStatus } from '../../src/core/scale/index.js';
import { capExceeded, referenceIdProblem, dailyAward } from '../../src/core/earning/index.js';
import { localDate } from '../../src/core/time.js';

const STATUSES: ScaleStatus[] = [
  { code: 'bronze', min_lifetime_points: 0, earn_bonus_pct: 0 },
  { code: 'silver', min_lifetime_points: 2000, earn_bonus_pct: 10 },
  { code: 'gold', min_lifetime_points: 10000, earn_bonus_pct: 25 },
];

describe('award formula', () => {
  it('floors points × m100 × (100 + bonus) / 10000', () => {
    expect(award(10, 120, 0)).toBe(12);
    expect(award(10, 150, 10)).toBe(16); // 16.5 floored
    expect(award(50, 100, 25)).toBe(62); // 62.5 floored
    expect(award(10, 300, 25)).toBe(37); // 37.5 floored
    expect(toM100(1.2)).toBe(120);
    expect(toM100(1.15)).toBe(115); // 114.99999… in binary, rounded
  });

  it('property: awards are non-negative integers, equal to the integer SQL formula', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1_000_000 }), fc.integer({ min: 1, max: 10_000 }), fc.integer({ min: 0, max: 1000 }), (p, m, b) => {
        const a = award(p, m, b);
        const big = (BigInt(p) * BigInt(m) * BigInt(100 + b)) / 10000n;
        return Number.isInteger(a) && a >= 0 && BigInt(a) === big;
      }),
    );
  });

  it('daily award uses the streak day multiplier and the bonus of the status before', () => {
    const doc = {
      daily: { base_points: 10, multipliers: [{ from_day: 1, multiplier: 1 }, { from_day: 7, multiplier: 1.5 }], joker_every_days: 7, max_jokers: 3 },
      actions: {}, expiry_days: 365, statuses: STATUSES, point_value_eur: 0.01,
    };
    expect(dailyAward(doc, 7, 'silver')).toEqual({ points: 16, m100: 150, bonusPct: 10 });
    expect(dailyAward(doc, 6, 'unknown')).toEqual({ points: 10, m100: 100, bonusPct: 0 });
  });
});

describe('statuses', () => {
  it('the highest reached, never going down by itself', () => {
    expect(statusFor(1999, STATUSES).code).toBe('bronze');
    expect(statusFor(2000, STATUSES).code).toBe('silver');
    expect(statusFor(10000, STATUSES).code).toBe('gold');
    expect(raiseStatus('bronze', 2500, STATUSES)).toBe('silver');
    expect(raiseStatus('gold', 2500, STATUSES)).toBe('gold');
  });
});

describe('scale versions', () => {
  const versions = [
    { version: 1, effective_from: '2000-01-01' },
    { version: 2, effective_from: '2026-06-01' },
    { version: 3, effective_from: '2026-06-01' },
    { version: 4, effective_from: '2026-09-01' },
  ];
  it('the latest effective date ≤ the local date wins, ties by version', () => {
    expect(versionInForce(versions, '2026-05-31').version).toBe(1);
    expect(versionInForce(versions, '2026-06-01').version).toBe(3);
    expect(versionInForce(versions, '2026-12-01').version).toBe(4);
    expect(() => versionInForce(versions, '1999-12-31')).toThrow(/no scale version/);
  });

  it('property: a later version never changes an earlier event’s version (nor its award)', () => {
    const date = fc.integer({ min: 0, max: 3000 }).map((d) => new Date(Date.UTC(2020, 0, 1 + d)).toISOString().slice(0, 10));
    fc.assert(
      fc.property(date, date, (event, effective) => {
        fc.pre(effective > event);
        const before = versionInForce(versions, event).version;
        const after = versionInForce([...versions, { version: 99, effective_from: effective }], event).version;
        return before === after;
      }),
    );
  });
});

describe('caps', () => {
  it('daily and lifetime caps', () => {
    expect(capExceeded({ points: 20, daily_cap: 5 }, { today: 4, ever: 100 })).toBeNull();
    expect(capExceeded({ points: 20, daily_cap: 5 }, { today: 5, ever: 5 })).toEqual({ cap: 'daily_cap', limit: 5, used: 5 });
    expect(capExceeded({ points: 100, lifetime_cap: 1 }, { today: 0, ever: 1 })).toEqual({ cap: 'lifetime_cap', limit: 1, used: 1 });
    expect(capExceeded({ points: 100 }, { today: 1000, ever: 1000 })).toBeNull();
  });

  it('reference ids: 1-128 printable characters', () => {
    expect(referenceIdProblem('order-42')).toBeNull();
    expect(referenceIdProblem('é'.repeat(128))).toBeNull();
    expect(referenceIdProblem('')).toMatch(/1-128/);
    expect(referenceIdProblem('x'.repeat(129))).toMatch(/1-128/);
    expect(referenceIdProblem('a\tb')).toMatch(/printable/);
    expect(referenceIdProblem(42)).toMatch(/string/);
  });
});

describe('local day', () => {
  it('is the calendar date in the territory time zone', () => {
    expect(localDate(new Date('2026-03-01T12:29:00Z'), 'Pacific/Noumea')).toBe('2026-03-01'); // 23:29 local
    expect(localDate(new Date('2026-03-01T13:30:00Z'), 'Pacific/Noumea')).toBe('2026-03-02'); // 00:30 local
    expect(localDate(new Date('2026-03-01T02:00:00Z'), 'America/Miquelon')).toBe('2026-02-28'); // UTC-3
  });
});
