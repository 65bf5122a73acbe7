import { validationError } from '../errors.js';

/**
 * The `Idempotency-Key` of a redeem request (SPEC "Catalog, partners, redemptions"): one header,
 * 1-255 printable ASCII characters (U+0020–U+007E), compared as sent. The one format: the HTTP
 * route validates the header with it before anything else, and `redeem` checks any key it is
 * given with it again.
 */
export const IDEMPOTENCY_KEY_MAX = 255;
const PRINTABLE_ASCII = /^[\x20-\x7e]+$/;

/** Why `raw` (a header's value: a string, several, or none) is not a valid key, or null. */
export function idempotencyKeyProblem(raw: unknown): string | null {
  if (raw === undefined) return null;
  if (Array.isArray(raw)) return 'send one Idempotency-Key header';
  if (typeof raw !== 'string' || raw.length < 1 || raw.length > IDEMPOTENCY_KEY_MAX || !PRINTABLE_ASCII.test(raw)) {
    return `Idempotency-Key must be 1-${IDEMPOTENCY_KEY_MAX} printable ASCII characters`;
  }
  return null;
}

/** The key, undefined when none was sent, or VALIDATION_ERROR naming `Idempotency-Key`. */
export function parseIdempotencyKey(raw: unknown): string | undefined {
  const problem = idempotencyKeyProblem(raw);
  if (problem) throw validationError(problem, [{ where: 'Idempotency-Key', message: problem }]);
  return raw as string | undefined;
}
