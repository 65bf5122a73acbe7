import crypto from 'node:crypto';
import type { Knex } from 'knex';
import { RayonError, mapDbError, notFound } from '../errors.js';
import { audit, auditable } from '../audit/index.js';
import { assertActive, debit, lockAccount } from '../ledger/index.js';
import { unavailability, unitLeftSql } from '../catalog/index.js';
import { parseIdempotencyKey } from './idempotency-key.js';
import { localDate } from '../time.js';

/**
 * Redemptions (SPEC "Catalog, partners, redemptions"). Stock, ledger and redemption change in
 * one transaction with one lock order — the user's balance row, then the reward row — so the
 * last unit is sold once and a balance is never spent twice, whatever the concurrency. The
 * guarantees come from row locks and guarded updates in the database, never from this process.
 */

export interface Redemption {
  id: number;
  reward_id: number;
  status: 'pending' | 'fulfilled';
  points_spent: number;
  voucher_code: string | null;
  created_at: Date;
}

export interface RedeemResult {
  redemption: Redemption;
  balance: number;
}

export interface RedeemOptions {
  /** Idempotency-Key of the request, scoped to (user, route 'redeem') and kept 24 hours. */
  idempotencyKey?: string;
  /** SHA-256 of the validated body with user_id filled in (default: computed from user and reward). */
  fingerprint?: string;
  actor?: string;
}

export const REDEEM_ROUTE = 'redeem';
const KEY_TTL_MS = 24 * 3600 * 1000;
/** Refusals that answer the same on a retry with the same key (SPEC: "business refusals alike"). */
const REPLAYED_REFUSALS = new Set(['NOT_FOUND', 'ACCOUNT_SUSPENDED', 'TERRITORY_NOT_LAUNCHED', 'REWARD_UNAVAILABLE', 'OUT_OF_STOCK', 'INSUFFICIENT_BALANCE']);

/** The fingerprint of a redeem body: SHA-256 of the canonical JSON of the validated fields. */
export function redeemFingerprint(userId: string, rewardId: number): string {
  return crypto.createHash('sha256').update(JSON.stringify({ reward_id: rewardId, user_id: userId })).digest('hex');
}

export async function redeem(db: Knex, userId: string, rewardId: number, now: Date, opts: RedeemOptions = {}): Promise<RedeemResult> {
  if (!Number.isSafeInteger(rewardId) || rewardId <= 0) {
    throw new RayonError('VALIDATION_ERROR', `reward_id must be a positive whole number, got ${JSON.stringify(rewardId)}`, { details: [{ where: 'reward_id', message: 'must be a positive whole number' }] });
  }
  const key = parseIdempotencyKey(opts.idempotencyKey);
  if (key === undefined) return db.transaction((trx) => redeemIn(trx, userId, rewardId, now, opts.actor));
  const fingerprint = opts.fingerprint ?? redeemFingerprint(userId, rewardId);
  const outcome = await db.transaction(async (trx) => {
    const previous = await claimKey(trx, userId, key, fingerprint, now);
    if (previous) {
      if (previous.fingerprint !== fingerprint) {
        throw new RayonError('IDEMPOTENCY_MISMATCH', `Idempotency-Key ${JSON.stringify(key)} was already used with another request body`);
      }
      return { replay: previous.response };
    }
    try {
      // A savepoint, so a refusal undoes the redeem's writes but keeps the key and its answer.
      const res = await trx.transaction((sp) => redeemIn(sp, userId, rewardId, now, opts.actor));
      await storeAnswer(trx, userId, key, 200, { redemption: { ...res.redemption, created_at: res.redemption.created_at.toISOString() }, balance: res.balance });
      return { res };
    } catch (raw) {
      const err = mapDbError(raw);
      if (err instanceof RayonError && REPLAYED_REFUSALS.has(err.code)) {
        await storeAnswer(trx, userId, key, err.httpStatus, { error: { code: err.code, message: err.message } });
        return { refusal: err };
      }
      throw raw;
    }
  });
  if ('res' in outcome && outcome.res) return outcome.res;
  if ('refusal' in outcome && outcome.refusal) throw outcome.refusal;
  return answerFrom((outcome as { replay: StoredAnswer }).replay);
}

type StoredAnswer =
  | { redemption: Omit<Redemption, 'created_at'> & { created_at: string }; balance: number }
  | { error: { code: RayonError['code']; message: string } };

function answerFrom(stored: StoredAnswer): RedeemResult {
  if ('error' in stored) throw new RayonError(stored.error.code, stored.error.message);
  return { redemption: { ...stored.redemption, created_at: new Date(stored.redemption.created_at) }, balance: stored.balance };
}

/**
 * Take the key, or return the answer already stored under it. A concurrent duplicate blocks on
 * the unique key until the first request commits (then reads its answer) or rolls back (then
 * takes the key itself). A key past its 24 hours is taken over as new.
 */
async function claimKey(trx: Knex.Transaction, userId: string, key: string, fingerprint: string, now: Date): Promise<{ fingerprint: string; response: StoredAnswer } | null> {
  const expires = new Date(now.getTime() + KEY_TTL_MS);
  const { rows } = await trx.raw(
    `insert into request_idempotency (user_id, route, key, fingerprint, created_at, expires_at) values (?, ?, ?, ?, ?, ?)
     on conflict (user_id, route, key) do update
        set fingerprint = excluded.fingerprint, created_at = excluded.created_at, expires_at = excluded.expires_at,
            status_code = null, response = null
      where request_idempotency.expires_at <= ?
     returning 1`,
    [userId, REDEEM_ROUTE, key, fingerprint, now, expires, now],
  );
  if (rows.length) return null;
  const prev = await trx('request_idempotency').select('fingerprint', 'response').where({ user_id: userId, route: REDEEM_ROUTE, key }).first();
  return { fingerprint: prev.fingerprint, response: typeof prev.response === 'string' ? JSON.parse(prev.response) : prev.response };
}

async function storeAnswer(trx: Knex.Transaction, userId: string, key: string, status: number, response: StoredAnswer): Promise<void> {
  await trx('request_idempotency').where({ user_id: userId, route: REDEEM_ROUTE, key }).update({ status_code: status, response: JSON.stringify(response) });
}

/** The redeem itself, in the caller's transaction, with the SPEC's order of checks. */
async function redeemIn(trx: Knex.Transaction, userId: string, rewardId: number, now: Date, actor?: string): Promise<RedeemResult> {
  const account = await lockAccount(trx, userId);
  assertActive(account);
  const reward = await trx('rewards')
    .select('id', 'sku', 'cost', 'active', 'all_territories', 'territories', 'available_from', 'available_to', 'stock', 'units_taken', 'fulfilment')
    .where({ id: rewardId })
    .first();
  if (!reward) throw notFound('reward', String(rewardId));
  const day = localDate(now, account.timezone);
  // "Available now" (src/core/catalog/available.ts). A unit left is decided by the guarded update
  // below, under the reward's row lock: OUT_OF_STOCK, not REWARD_UNAVAILABLE.
  const reason = unavailability(reward, account.territoryCode, day);
  const why =
    reason === 'inactive'
      ? 'is no longer offered'
      : reason === 'not_offered'
        ? `is not offered in ${account.territoryCode}`
        : reason === 'outside_window'
          ? `is available from ${reward.available_from} to ${reward.available_to} (today is ${day} in ${account.territoryCode})`
          : null;
  if (why) throw new RayonError('REWARD_UNAVAILABLE', `reward ${reward.sku} ${why}`);

  // The guarded update takes the reward's row lock (after the user's): the last unit goes once.
  const taken = await trx.raw(
    `update rewards set units_taken = units_taken + 1 where id = ? and active and ${unitLeftSql('rewards')} returning id`,
    [rewardId],
  );
  if (taken.rows.length === 0) throw new RayonError('OUT_OF_STOCK', `reward ${reward.sku} has no unit left`);

  // The redemption id comes first so the debit's idempotency key and redemption_id can name it.
  const { rows: [{ id }] } = await trx.raw(`select nextval(pg_get_serial_sequence('reward_redemptions', 'id'))::bigint as id`);
  const d = await debit(trx, account, {
    type: 'redeem', amount: reward.cost, now, key: `redeem:${userId}:${id}`,
    fields: { redemption_id: Number(id), actor: actor ?? null },
  });
  const instant = reward.fulfilment === 'instant';
  const { rows } = await trx.raw(
    `insert into reward_redemptions (id, user_id, reward_id, points_spent, status, voucher_code, territory_code, transaction_id, created_at, decided_at)
     overriding system value values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     returning id, reward_id, status, points_spent, voucher_code, created_at`,
    [id, userId, rewardId, reward.cost, instant ? 'fulfilled' : 'pending', instant ? voucherCode() : null, account.territoryCode, d!.transaction.id, now, instant ? now : null],
  );
  // SPEC "Audit", the same rule as collections and earns: a user redeeming on their own account
  // is recorded by the ledger row (actor, idempotency key) and the redemption row.
  if (auditable(actor, userId)) {
    await audit(trx, { actor: actor!, action: 'redemption.redeem', target: `redemption:${id}`, at: now, details: { user_id: userId, reward_id: rewardId, sku: reward.sku, points: reward.cost } });
  }
  return { redemption: toRedemption(rows[0]), balance: d!.balance };
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** 80 random bits as 16 Crockford base-32 characters, XXXX-XXXX-XXXX-XXXX: unguessable, easy to read out. */
export function voucherCode(): string {
  const bytes = crypto.randomBytes(10);
  let bits = 0n;
  for (const b of bytes) bits = (bits << 8n) | BigInt(b);
  let s = '';
  for (let i = 0; i < 16; i++) {
    s = CROCKFORD[Number(bits & 31n)] + s;
    bits >>= 5n;
  }
  return s.match(/.{4}/g)!.join('-');
}

/**
 * A voucher code as a calling system sees it: every character but the last 4 replaced by `*`
 * (ASCII, same length), e.g. `***************WXYZ`; a code of 4 characters or fewer is all `*`.
 */
export function maskVoucherCode(code: string): string {
  const keep = code.length > 4 ? 4 : 0;
  return '*'.repeat(code.length - keep) + code.slice(code.length - keep);
}

function toRedemption(r: Record<string, unknown>): Redemption {
  return {
    id: Number(r.id),
    reward_id: Number(r.reward_id),
    status: r.status as Redemption['status'],
    points_spent: Number(r.points_spent),
    voucher_code: (r.voucher_code as string | null) ?? null,
    created_at: r.created_at instanceof Date ? r.created_at : new Date(String(r.created_at)),
  };
}
