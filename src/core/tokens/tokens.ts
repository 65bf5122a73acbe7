import crypto from 'node:crypto';
import type { Knex } from 'knex';
import { audit } from '../audit/index.js';
import { RayonError } from '../errors.js';

/**
 * Token lifetimes and revocations (SPEC "Security and safety" → Tokens). Token expiry and
 * revocations follow the real clock, never business time (--now / RAYON_NOW).
 */

export type TokenRole = 'user' | 'service' | 'admin';

/** The longest lifetime `rayon token issue` gives: an app's user token a month, a system's a day. */
export const TOKEN_TTL_CAP_S: Readonly<Record<TokenRole, number>> = { user: 30 * 86_400, service: 86_400, admin: 86_400 };

/** Every role a token may carry: the keys of the lifetime table, so a new role needs its cap. */
export const TOKEN_ROLES = Object.keys(TOKEN_TTL_CAP_S) as readonly TokenRole[];

/** A revocation whose token expiry is not given lasts as long as the longest token issued here. */
export const DEFAULT_REVOCATION_S = Math.max(...Object.values(TOKEN_TTL_CAP_S));

const UNITS = { s: 1, m: 60, h: 3600, d: 86_400 } as const;

/** 30 days → "30d", 24 hours → "24h" (days from two days up). */
export function formatDuration(seconds: number): string {
  if (seconds % 86_400 === 0 && seconds >= 2 * 86_400) return `${seconds / 86_400}d`;
  for (const [u, n] of [['h', 3600], ['m', 60]] as const) if (seconds % n === 0) return `${seconds / n}${u}`;
  return `${seconds}s`;
}

/** Parse a lifetime such as 90s, 15m, 1h, 7d, within the cap of the token's role. */
export function parseTtl(text: string, role: TokenRole): number {
  const m = /^(\d{1,9})\s*(s|m|h|d)$/.exec(text.trim());
  if (!m) throw new RayonError('VALIDATION_ERROR', `--ttl must look like 90s, 15m, 1h or 7d, got ${JSON.stringify(text)}`, { details: [{ where: '--ttl', message: 'not a duration' }] });
  const seconds = Number(m[1]) * UNITS[m[2] as keyof typeof UNITS];
  if (seconds < 1) throw new RayonError('VALIDATION_ERROR', `--ttl must be at least 1s, got ${text}`, { details: [{ where: '--ttl', message: 'must be at least 1s' }] });
  checkTtl(seconds, role, `--ttl ${text.trim()}`);
  return seconds;
}

/** Refuse a lifetime beyond the role's cap (also checked when a token is signed). */
export function checkTtl(seconds: number, role: TokenRole, what = `a lifetime of ${formatDuration(seconds)}`): void {
  const cap = TOKEN_TTL_CAP_S[role];
  if (!Number.isSafeInteger(seconds) || seconds < 1 || seconds > cap) {
    throw new RayonError('VALIDATION_ERROR', `${what} is longer than the ${formatDuration(cap)} cap of ${role} tokens`, {
      details: [{ where: '--ttl', message: `at most ${formatDuration(cap)} for a ${role} token` }],
    });
  }
}

/** A token's id: 122 random bits, so that one token can be revoked without touching the others. */
export function newJti(): string {
  return crypto.randomUUID();
}

export function checkJti(jti: string): string {
  // eslint-disable-next-line no-control-regex
  if (typeof jti !== 'string' || jti.length < 1 || jti.length > 255 || /[\x00-\x1f\x7f]/.test(jti)) {
    throw new RayonError('VALIDATION_ERROR', 'JTI must be 1-255 characters without control characters', { details: [{ where: 'JTI', message: 'not a token id' }] });
  }
  return jti;
}

export interface Revocation {
  jti: string;
  revoked_at: Date;
  actor: string;
  reason: string;
  /** After this instant the token has expired anyway: the row may be pruned. */
  expires_at: Date;
}

export interface RevokeInput {
  jti: string;
  reason: string;
  actor: string;
  /** The wall clock (never business time). */
  now: Date;
  /** The token's own expiry, when known; else now + DEFAULT_REVOCATION_S. */
  expiresAt?: Date;
}

/**
 * Revoke one token by its `jti`, with its audit row, in one transaction. Revoking a token
 * already revoked changes nothing and returns the standing revocation (`created: false`).
 * Revocations past their expiry are pruned on the way (the table refuses any other delete).
 */
export async function revokeToken(db: Knex, r: RevokeInput): Promise<{ created: boolean; revocation: Revocation }> {
  const jti = checkJti(r.jti);
  const reason = (r.reason ?? '').trim();
  if (!reason) throw new RayonError('VALIDATION_ERROR', 'a reason is required to revoke a token', { details: [{ where: '--reason', message: 'required' }] });
  if (reason.length > 1000) throw new RayonError('VALIDATION_ERROR', '--reason must be at most 1000 characters', { details: [{ where: '--reason', message: 'too long' }] });
  const expiresAt = r.expiresAt ?? new Date(r.now.getTime() + DEFAULT_REVOCATION_S * 1000);
  if (!(expiresAt.getTime() > r.now.getTime())) {
    throw new RayonError('VALIDATION_ERROR', `--expires-at ${expiresAt.toISOString()} is not in the future: that token has expired already`, { details: [{ where: '--expires-at', message: 'must be in the future' }] });
  }
  return db.transaction(async (trx) => {
    await trx('token_revocations').where('expires_at', '<=', trx.raw('now()')).delete();
    const inserted: Revocation[] = await trx('token_revocations')
      .insert({ jti, revoked_at: r.now, actor: r.actor, reason, expires_at: expiresAt })
      .onConflict('jti')
      .ignore()
      .returning(['jti', 'revoked_at', 'actor', 'reason', 'expires_at']);
    if (inserted.length === 0) {
      const standing = (await trx('token_revocations').where({ jti }).first()) as Revocation;
      return { created: false, revocation: standing };
    }
    await audit(trx, { actor: r.actor, action: 'token.revoke', target: `token:${jti}`, details: { reason, expires_at: expiresAt.toISOString() } });
    return { created: true, revocation: inserted[0] };
  });
}

/** The ids of revoked tokens that have not expired yet (what a running server refuses). */
export async function activeRevokedJtis(db: Knex): Promise<string[]> {
  const rows: Array<{ jti: string }> = await db('token_revocations').select('jti').where('expires_at', '>', db.raw('now()'));
  return rows.map((row) => row.jti);
}
