import { describe, expect, it } from 'vitest';
import { RayonError } from '../../src/core/errors.js';
import { failure } from '../helpers/failure.js';

/** The helper the other tests lean on must itself fail when it should. */
describe('failure()', () => {
  const refusal = new RayonError('NOT_FOUND', 'user "x" not found', { details: [{ where: 'user', message: 'unknown' }] });

  it('returns the RayonError of a function, an async function or a promise', async () => {
    expect(failure(() => { throw refusal; })).toBe(refusal);
    expect(await failure(async () => { throw refusal; })).toBe(refusal);
    expect(await failure(Promise.reject(refusal))).toBe(refusal);
  });

  it('fails when nothing is thrown', async () => {
    expect(() => failure(() => 1)).toThrow('expected a RayonError, but nothing was thrown');
    await expect(failure(async () => 1)).rejects.toThrow('expected a RayonError, but nothing was thrown');
    await expect(failure(Promise.resolve(1))).rejects.toThrow('expected a RayonError, but nothing was thrown');
  });

  it('fails on an error of another class, keeping it as the cause', async () => {
    const other = new TypeError('boom');
    expect(() => failure(() => { throw other; })).toThrow('expected a RayonError, got TypeError: boom');
    const e = await failure(Promise.reject(other)).catch((err: Error) => err);
    expect([e.message, e.cause]).toEqual(['expected a RayonError, got TypeError: boom', other]);
  });
});
