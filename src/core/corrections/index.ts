/**
 * Corrections (SPEC "Ledger"): compensating rows, never edits. A manual adjustment or a correction
 * file is a batch (actor, reason, ticket); a revert undoes one transaction or a whole batch.
 *
 * The room's door: everything outside src/core/corrections/ imports it through this file; the
 * room's own files import each other directly.
 */
export { adjustPoints, applyCorrections } from './batch.js';
export { parseCorrectionsCsv } from './csv.js';
export { revert } from './revert.js';
