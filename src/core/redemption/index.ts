/**
 * Redemptions (SPEC "Catalog, partners, redemptions"): redeeming a reward (with its idempotency
 * key), ops' approve and reject, and the lists.
 *
 * The room's door: everything outside src/core/redemption/ imports it through this file; the
 * room's own files import each other directly.
 */
export {
  approveRedemption,
  listRedemptions,
  maskVoucherCode,
  redeem,
  redeemFingerprint,
  rejectRedemption,
  userRedemptions,
  voucherCode,
} from './redeem.js';
