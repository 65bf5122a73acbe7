/**
 * Tokens (SPEC "Security and safety" → Tokens): lifetimes capped per role, token ids (jti), and
 * revocations, on the real clock.
 *
 * The room's door: everything outside src/core/tokens/ imports it through this file; the room's
 * own files import each other directly.
 */
export {
  activeRevokedJtis,
  checkJti,
  checkTtl,
  DEFAULT_REVOCATION_S,
  formatDuration,
  newJti,
  parseTtl,
  revokeToken,
  TOKEN_ROLES,
} from './tokens.js';
export type { TokenRole } from './tokens.js';
