import { describe, expect, it } from 'vitest';
import { assertPageDepth, assertPointsAmount, MAX_PAGE_DEPTH, pointsAmountProblem, POINTS_MAX } from '../../src/core/bounds.js';
import { RayonError } from '../../src/core/errors.js';
import { parseCorrectionsCsv } from '../../src/core/corrections/index.js';
import { mapDbError } from '../../src/core/errors.js';
import { failure } from '../helpers/failure.js';

describe('page depth: page × limit at most 10,000 rows, one rule for every paged list', () => {
  it('lets the last full page through and refuses the next one, naming page and the depth', () => {
    expect(MAX_PAGE_DEPTH).toBe(10_000);
    expect(() => assertPageDepth(500, 20)).not.toThrow();
    expect(() => assertPageDepth(1, 1000)).not.toThrow();
    expect(() => assertPageDepth(10_000, 1)).not.toThrow();
    const e = failure(() => assertPageDepth(501, 20));
    expect(e.code).toBe('VALIDATION_ERROR');
    expect(e.message).toMatch(/^page 501 × limit 20 reaches row 10,020: lists go at most 10,000 rows deep \(page ≤ 500 with limit 20\)/);
    expect(e.details).toEqual([{ where: 'page', message: 'page × limit must be at most 10000' }]);
  });

  it('page=1000000 is a VALIDATION_ERROR, and so is a page or limit that is not a whole number ≥ 1', () => {
    expect(failure(() => assertPageDepth(1_000_000, 20)).message).toMatch(/^page 1,000,000 × limit 20/);
    expect(failure(() => assertPageDepth(0, 20)).details?.[0].where).toBe('page');
    expect(failure(() => assertPageDepth(1.5, 20)).details?.[0].where).toBe('page');
    expect(failure(() => assertPageDepth(1, 0)).details?.[0].where).toBe('limit');
  });
});

describe('ledger amounts stay inside the integer columns (±2,147,483,647)', () => {
  it('accepts the extremes and refuses one beyond, naming the parameter', () => {
    expect(POINTS_MAX).toBe(2_147_483_647);
    expect(pointsAmountProblem(POINTS_MAX)).toBeNull();
    expect(pointsAmountProblem(-POINTS_MAX)).toBeNull();
    expect(pointsAmountProblem(POINTS_MAX + 1)).toMatch(/between -2,147,483,647 and 2,147,483,647/);
    expect(pointsAmountProblem(0)).toBe('must not be zero');
    expect(pointsAmountProblem(1.5)).toMatch(/whole number/);
    const e = failure(() => assertPointsAmount(3_000_000_000, 'amount'));
    expect([e.code, e.exitCode, e.httpStatus]).toEqual(['VALIDATION_ERROR', 2, 400]);
    expect(e.message).toBe("amount must be between -2,147,483,647 and 2,147,483,647 (the ledger's integer range), got 3,000,000,000");
    expect(e.details?.[0].where).toBe('amount');
  });

  it('a corrections CSV names the line and column of an amount beyond the range', () => {
    const csv = 'user_id,amount,reason,ticket,ref\nu1,10,ok,,r1\nu2,3000000000,too much,,r2\nu3,-3000000000,too little,,r3\n';
    const e = failure(() => parseCorrectionsCsv(Buffer.from(csv), 'big.csv'));
    expect(e.code).toBe('VALIDATION_ERROR');
    expect(e.details).toEqual([
      { where: 'line 3, column amount', message: expect.stringMatching(/got 3,000,000,000$/) },
      { where: 'line 4, column amount', message: expect.stringMatching(/got -3,000,000,000$/) },
    ]);
  });

  it('an integer overflow reported by PostgreSQL maps to VALIDATION_ERROR, never INTERNAL', () => {
    const mapped = mapDbError(Object.assign(new Error('integer out of range'), { code: '22003' }));
    expect(mapped).toBeInstanceOf(RayonError);
    expect((mapped as RayonError).code).toBe('VALIDATION_ERROR');
  });
});
