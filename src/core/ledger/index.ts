/**
 * The points ledger (SPEC "Ledger"): accounts and their lock, insert-only transactions, lots
 * consumed first-expiring-first, expiry, the balance as a reader sees it, history, and the
 * invariants `ledger verify` checks, among them that every ledger row has an audit row or a stated
 * reason.
 *
 * The room's door: everything outside src/core/ledger/ imports it through this file; the room's
 * own files import each other directly.
 */
export { expirePoints } from './expiry.js';
export { allocateFifo, type OpenLot } from './fifo.js';
export { pointsHistory } from './history.js';
export {
  assertActive,
  credit,
  debit,
  expiringSoon,
  lockAccount,
  normaliseTx,
  readBalance,
  type Account,
  type DebitSpec,
  type TxRow,
} from './post.js';
export { verifyLedger } from './verify.js';
