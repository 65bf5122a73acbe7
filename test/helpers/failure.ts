import { RayonError } from '../../src/core/errors.js';

/**
 * The RayonError a call must throw, for a test to assert its `.code`, `.message` and `.details`.
 * Takes a function (sync or async) or a promise; fails the test when nothing is thrown or when
 * the error is of another class (that error is kept as the cause).
 *
 *   expect(failure(() => parse('x')).code).toBe('VALIDATION_ERROR');
 *   expect((await failure(redeem(k, 'ben', sku, NOW))).code).toBe('INSUFFICIENT_BALANCE');
 */
export function failure(run: () => Promise<unknown>): Promise<RayonError>;
export function failure(run: Promise<unknown>): Promise<RayonError>;
export function failure(run: () => unknown): RayonError;
export function failure(run: (() => unknown) | Promise<unknown>): RayonError | Promise<RayonError> {
  let result: unknown = run;
  if (typeof run === 'function') {
    try {
      result = run();
    } catch (err) {
      return asRayonError(err);
    }
  }
  if (result instanceof Promise) {
    return result.then(
      () => {
        throw nothingThrown();
      },
      (err: unknown) => asRayonError(err),
    );
  }
  throw nothingThrown();
}

function asRayonError(err: unknown): RayonError {
  if (err instanceof RayonError) return err;
  const what = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  throw new Error(`expected a RayonError, got ${what}`, { cause: err });
}

function nothingThrown(): Error {
  return new Error('expected a RayonError, but nothing was thrown');
}
