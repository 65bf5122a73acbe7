/**
 * The points ledger (SPEC "Ledger"): accounts and their lock, insert-only transactions, lots
 * consumed first-expiring-first, expiry, the balance as a reader sees it, history, and the
 * invariants `ledger verify` checks, among them that every ledger row has an audit row or a stated
 * reason.
 *
 * The room's door: everything outside src/core/ledger/ imports it through this file; the room's
 * own files import each other directly.
 */
export { assertActive, lockAccount, toAccount, type Account } from './account.js';
export { EXPIRING_SOON_DAYS, expiringSoon, expiringSoonUntil, readBalance, type ExpiringPoints } from './balance.js';
export { compareBalances, describeTransaction, explainBalance, type BalanceExplanation, type ExplainedTransaction } from './explain.js';
export { expirePoints } from './expiry.js';
export { allocateFifo, type OpenLot } from './fifo.js';
export { parseHistoryBound, pointsHistory, type HistoryBound, type HistoryItem } from './history.js';
export { credit, debit, type DebitSpec } from './post.js';
export { normaliseTx, type TxRow } from './transaction.js';
export { verifyLedger } from './verify.js';
export { dueLotsSql, duePoints, lotIsDue, shownBalance } from './balance.js';
