/**
 * Redemptions (SPEC "Catalog, partners, redemptions"): redeeming a reward (with its idempotency
 * key), ops' approve and reject, and the lists.
 *
 * The room's door: everything outside src/core/redemption/ imports it through this file; the
 * room's own files import each other directly.
 */
export { approveRedemption, rejectRedemption } from './decide.js';
export { listRedemptions, userRedemptions } from './list.js';
export { maskVoucherCode, redeem, redeemFingerprint, voucherCode } from './redeem.js';
export { IDEMPOTENCY_KEY_MAX, idempotencyKeyProblem, parseIdempotencyKey } from './idempotency-key.js';
