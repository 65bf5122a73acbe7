/**
 * Support (SPEC "Support: one user at a glance"): the one-screen profile of a user and the
 * explanation of their balance, each read by one call for `rayon user show` and `user explain`.
 * The rules they show live in their own rooms (ledger, earning, scale); this room gathers them.
 *
 * The room's door: everything outside src/core/support/ imports it through this file; the room's
 * own files import each other directly.
 */
export { explainUser } from './explain.js';
export { auditAbout, userProfile, type UserProfile } from './profile.js';
export { localTime, nextStatus, type NextStatus } from './status.js';
