/**
 * The audit log (SPEC "Audit"): one append-only row per mutation made by the CLI or a service
 * token, and its listing.
 *
 * The room's door: everything outside src/core/audit/ imports it through this file; the room's own
 * files import each other directly.
 */
export { audit, auditable, listAudit, type AuditEntry } from './log.js';
export { actsOnOwnAccount, actsOnOwnAccountSql } from './log.js';
