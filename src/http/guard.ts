import { RayonError } from '../core/errors.js';
import type { Principal, Role } from './auth.js';

/**
 * Who a request acts on. A user token acts on its own `sub` only (`user_id` defaults to it;
 * another id is FORBIDDEN, answered before anything about that user is read). Service and admin
 * tokens name the user explicitly.
 */
export function targetUser(p: Principal, requested: string | undefined): string {
  if (p.role === 'user') {
    if (requested !== undefined && requested !== p.sub) {
      throw new RayonError('FORBIDDEN', 'a user token may act only on its own account');
    }
    return p.sub;
  }
  if (requested === undefined) throw new RayonError('VALIDATION_ERROR', `user_id is required with a ${p.role} token`);
  return requested;
}

export function requireRole(p: Principal, roles: Role[], what: string): void {
  if (!roles.includes(p.role)) throw new RayonError('FORBIDDEN', `${what} needs a ${roles.join(' or ')} token`);
}

/**
 * Voucher codes are whole only for the user themself and admin tokens: a service token (the
 * platform's systems) reads them masked, so a leaked service token cannot collect vouchers.
 */
export function seesVoucherCodes(p: Principal): boolean {
  return p.role === 'user' || p.role === 'admin';
}

/** The audit actor of the HTTP mode (SPEC "Audit"). */
export function actorOf(p: Principal): string {
  return `${p.role}:${p.sub}`;
}

export function iso(d: Date | string | null | undefined): string | null {
  if (d === null || d === undefined) return null;
  return (d instanceof Date ? d : new Date(d)).toISOString();
}
