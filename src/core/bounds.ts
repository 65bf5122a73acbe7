import { validationError } from './errors.js';

/**
 * Input bounds shared by the CLI and the HTTP mode (SPEC "Security and safety" → Input bounds):
 * a figure the database would refuse, or a page deep enough to make PostgreSQL read and discard
 * most of a table, is a VALIDATION_ERROR naming the parameter before any query runs.
 */

/**
 * The largest magnitude of a points figure: the ledger's amounts, lots, balances and lifetime
 * points are PostgreSQL `integer` columns (migrations/20261125000001_foundation.ts).
 */
export const POINTS_MAX = 2_147_483_647;

/** The deepest row a paged list may reach: `page × limit` at most this many rows. */
export const MAX_PAGE_DEPTH = 10_000;

const grouped = (n: number) => n.toLocaleString('en-US');

/** Why `value` cannot be a ledger amount (a non-zero whole number within ±POINTS_MAX), or null. */
export function pointsAmountProblem(value: number): string | null {
  if (!Number.isInteger(value)) return `must be a whole number of points, got ${value}`;
  if (value === 0) return 'must not be zero';
  if (Math.abs(value) > POINTS_MAX) return `must be between -${grouped(POINTS_MAX)} and ${grouped(POINTS_MAX)} (the ledger's integer range), got ${grouped(value)}`;
  return null;
}

/** Throw VALIDATION_ERROR naming `name` when `value` is not a valid ledger amount. */
export function assertPointsAmount(value: number, name = 'amount'): void {
  const problem = pointsAmountProblem(value);
  if (problem) throw validationError(`${name} ${problem}`, [{ where: name, message: problem }]);
}

/**
 * Throw VALIDATION_ERROR naming `page` when `page × limit` reaches deeper than MAX_PAGE_DEPTH
 * rows (an OFFSET that deep reads every skipped row). `page` and `limit` are checked as whole
 * numbers ≥ 1 too; each list keeps its own ceiling on `limit`.
 */
export function assertPageDepth(page: number, limit: number): void {
  if (!Number.isInteger(page) || page < 1) throw validationError('page must be a whole number ≥ 1', [{ where: 'page', message: 'must be ≥ 1' }]);
  if (!Number.isInteger(limit) || limit < 1) throw validationError('limit must be a whole number ≥ 1', [{ where: 'limit', message: 'must be ≥ 1' }]);
  if (page * limit > MAX_PAGE_DEPTH) {
    const deepest = Math.floor(MAX_PAGE_DEPTH / limit);
    const message = `page ${grouped(page)} × limit ${limit} reaches row ${grouped(page * limit)}: lists go at most ${grouped(MAX_PAGE_DEPTH)} rows deep (page ≤ ${grouped(deepest)} with limit ${limit}); narrow the filters instead`;
    throw validationError(message, [{ where: 'page', message: `page × limit must be at most ${MAX_PAGE_DEPTH}` }]);
  }
}
