import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { award, statusFor, statusRank, raiseStatus, type ScaleStatus } from '../../src/core/scale/index.js';
import { parseIntStrict } from '../../src/commands/context.js';
import { RayonError, ERROR_CODES, mapDbError } from '../../src/core/errors.js';

const STATUSES: ScaleStatus[] = [
  { code: 'bronze', min_lifetime_points: 0, earn_bonus_pct: 0 },
  { code: 'silver', min_lifetime_points: 2000, earn_bonus_pct: 10 },
  { code: 'gold', min_lifetime_points: 10000, earn_bonus_pct: 25 },
];

describe('statusFor thresholds (the highest whose minimum is reached)', () => {
  it.each([
    [0, 'bronze'],
    [1999, 'bronze'],
    [2000, 'silver'],
    [9999, 'silver'],
    [10000, 'gold'],
    [1_000_000, 'gold'],
  ])('%i lifetime points → %s', (points, code) => {
    expect(statusFor(points, STATUSES).code).toBe(code);
    // (The scale schema guarantees statuses in ascending order of threshold, starting at 0.)
  });

  it('raiseStatus never lowers a status by itself', () => {
    expect(raiseStatus('gold', 0, STATUSES)).toBe('gold');
    expect(raiseStatus('bronze', 2500, STATUSES)).toBe('silver');
    expect(statusRank('gold', STATUSES)).toBe(2);
  });

  it('property: the status is monotonic in lifetime points', () => {
    fc.assert(
      fc.property(fc.nat(50_000), fc.nat(50_000), (a, b) => {
        const [lo, hi] = a <= b ? [a, b] : [b, a];
        expect(statusRank(statusFor(lo, STATUSES).code, STATUSES)).toBeLessThanOrEqual(statusRank(statusFor(hi, STATUSES).code, STATUSES));
        expect(statusFor(lo, STATUSES).min_lifetime_points).toBeLessThanOrEqual(lo);
      }),
    );
  });
});

describe('award flooring', () => {
  it('floors, never rounds', () => {
    expect(award(10, 150, 10)).toBe(16); // 16.5
    expect(award(50, 100, 25)).toBe(62); // 62.5
    expect(award(10, 100, 0)).toBe(10);
    expect(award(1, 99, 0)).toBe(0); // 0.99
    expect(award(200, 120, 25)).toBe(300);
  });
  it('property: award ≤ exact value < award + 1', () => {
    fc.assert(
      fc.property(fc.nat(100_000), fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 0, max: 200 }), (p, m, b) => {
        const a = award(p, m, b);
        const num = BigInt(p) * BigInt(m) * BigInt(100 + b);
        expect(BigInt(a) * 10000n <= num).toBe(true);
        expect(num < BigInt(a + 1) * 10000n).toBe(true);
      }),
    );
  });
});

describe('parseIntStrict (command-line amounts)', () => {
  const code = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      return e instanceof RayonError ? `${e.code}: ${e.message}` : `other: ${(e as Error).message}`;
    }
    return 'no error';
  };
  it('accepts signed whole numbers', () => {
    expect(parseIntStrict('-50', 'amount')).toBe(-50);
    expect(parseIntStrict('+5', 'amount')).toBe(5);
    expect(parseIntStrict('150', 'amount')).toBe(150);
    expect(parseIntStrict(' 7 ', 'amount')).toBe(7);
    expect(parseIntStrict('0', 'n', { allowZero: true })).toBe(0);
  });
  it.each(['1.5', '1,5', '', ' ', '1e3', '0x10', 'abc', '--5', '5-'])('refuses %j as VALIDATION_ERROR naming the option', (v) => {
    expect(code(() => parseIntStrict(v, 'amount'))).toMatch(/^VALIDATION_ERROR: amount must be a whole number/);
  });
  it('refuses zero, out-of-range and bounds', () => {
    expect(code(() => parseIntStrict('0', 'amount'))).toBe('VALIDATION_ERROR: amount must not be zero');
    expect(code(() => parseIntStrict('-0', 'amount'))).toBe('VALIDATION_ERROR: amount must not be zero');
    expect(code(() => parseIntStrict('99999999999999999999', 'amount'))).toMatch(/^VALIDATION_ERROR: amount is out of range/);
    expect(code(() => parseIntStrict('101', '--limit', { min: 1, max: 100 }))).toBe('VALIDATION_ERROR: --limit must be at most 100, got 101');
    expect(code(() => parseIntStrict('-1', '--page', { min: 1 }))).toBe('VALIDATION_ERROR: --page must be at least 1, got -1');
  });
  it('property: every safe non-zero integer round-trips through its decimal text', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1_000_000_000, max: 1_000_000_000 }).filter((n) => n !== 0), (n) => {
        expect(parseIntStrict(String(n), 'amount')).toBe(n);
      }),
    );
  });
});

describe('error table', () => {
  it('maps codes to the exit codes of the spec', () => {
    expect(new RayonError('INSUFFICIENT_BALANCE', 'x').exitCode).toBe(3);
    expect(new RayonError('NOT_FOUND', 'x').exitCode).toBe(4);
    expect(new RayonError('VALIDATION_ERROR', 'x').exitCode).toBe(2);
    expect(new RayonError('CONFIRMATION_REQUIRED', 'x').exitCode).toBe(2);
    expect(new RayonError('UNAVAILABLE', 'x').exitCode).toBe(1);
    expect(new RayonError('INVALID_STATE', 'x').httpStatus).toBe(409);
    expect(ERROR_CODES.INTERNAL.http).toBe(500);
  });
  it('maps database errors to business errors', () => {
    expect((mapDbError({ code: '23514', constraint: 'points_balance_balance_check' }) as RayonError).code).toBe('INSUFFICIENT_BALANCE');
    expect((mapDbError({ code: '23514', constraint: 'rewards_stock_check' }) as RayonError).code).toBe('OUT_OF_STOCK');
    expect((mapDbError({ code: 'ECONNREFUSED' }) as RayonError).code).toBe('UNAVAILABLE');
    expect((mapDbError({ name: 'KnexTimeoutError' }) as RayonError).code).toBe('UNAVAILABLE');
    const other = { code: '23505' };
    expect(mapDbError(other)).toBe(other);
  });
});
