import type { Knex } from 'knex';
import { RayonError, validationError } from '../errors.js';
import { POINTS_MAX } from '../bounds.js';
import { allocateFifo, type Allocation } from './fifo.js';
import { localDate, lotExpiry } from '../time.js';
import { raiseStatus, type ScaleVersion } from '../scale/index.js';
import type { Account } from './account.js';
import { normaliseTx, type TxFields, type TxRow, type TxType } from './transaction.js';

/**
 * Postings to the ledger: credits, debits and the expiry of due lots. Each writes its
 * insert-only transaction row, the lot or the allocations (lots consumed first-expiring-first),
 * the idempotency key and the balance projection, in the caller's transaction. Every function
 * here expects a transaction in which the account was locked with `lockAccount` (lock order:
 * user, then reward).
 */

export interface PostResult {
  transaction: TxRow;
  replay: boolean;
  balance: number;
  lifetime: number;
  status: string;
  statusChanged: boolean;
}

async function findByKey(trx: Knex.Transaction, userId: string, key: string): Promise<TxRow | null> {
  const { rows } = await trx.raw(
    `select t.* from idempotency_keys k
       join points_transactions t on t.user_id = k.user_id and t.id = k.transaction_id
      where k.user_id = ? and k.key = ?`,
    [userId, key],
  );
  return rows[0] ?? null;
}

const TX_FIELD_NAMES: (keyof TxFields)[] = [
  'action_type', 'reference_id', 'streak_day', 'm100', 'jokers_used', 'bonus_pct', 'scale_version',
  'batch_id', 'reverses_id', 'redemption_id', 'actor', 'reason', 'ticket',
];

export interface CreditSpec {
  type: Extract<TxType, 'daily' | 'earn' | 'adjustment' | 'refund' | 'fraud_restore' | 'revert'>;
  amount: number;
  now: Date;
  key: string;
  /** Counts toward lifetime points and status (daily, earn, positive adjustment). */
  earning: boolean;
  /** The scale in force: expiry days and status thresholds. */
  scale: ScaleVersion;
  /** For re-credits: the lot's expiry (else `expiry_days` after the local date of `now`). */
  expiresAt?: Date;
  fields?: TxFields;
}

/**
 * Credit points: one transaction row, one lot, the idempotency key, the balance, lifetime and
 * status — in one statement. A key already used answers the first transaction as a replay.
 */
export async function credit(trx: Knex.Transaction, account: Account, spec: CreditSpec): Promise<PostResult> {
  if (!Number.isInteger(spec.amount) || spec.amount <= 0) throw new Error(`credit amount must be a positive integer, got ${spec.amount}`);
  const existing = await findByKey(trx, account.userId, spec.key);
  if (existing) return replayResult(account, existing);

  const expiresAt = spec.expiresAt ?? lotExpiry(spec.now, account.timezone, spec.scale.document.expiry_days);
  const lifetime = account.lifetime + (spec.earning ? spec.amount : 0);
  if (account.balance + spec.amount > POINTS_MAX || lifetime > POINTS_MAX) {
    const problem = `would take user ${account.userId}'s ${lifetime > POINTS_MAX ? 'lifetime points' : 'balance'} beyond ${POINTS_MAX} (the ledger's integer range)`;
    throw validationError(`amount ${spec.amount} ${problem}`, [{ where: 'amount', message: problem }]);
  }
  // Status rises with lifetime points and never goes down by itself.
  const status = raiseStatus(account.status, lifetime, spec.scale.document.statuses);
  const fields = spec.fields ?? {};
  const cols = TX_FIELD_NAMES.filter((f) => fields[f] !== undefined && fields[f] !== null);
  const { rows } = await trx.raw(
    `with tx as (
       insert into points_transactions
         (user_id, type, amount, created_at, local_date, territory_code, expires_at, idempotency_key${cols.map((c) => `, ${c}`).join('')})
       values (?, ?, ?, ?, ?, ?, ?, ?${cols.map(() => ', ?').join('')})
       returning *
     ), lot as (
       insert into points_lots (user_id, transaction_id, amount, remaining, credited_at, expires_at, recredit)
       select user_id, id, amount, amount, created_at, expires_at, ? from tx
     ), k as (
       insert into idempotency_keys (user_id, key, transaction_id, created_at)
       select user_id, idempotency_key, id, created_at from tx
     ), b as (
       update points_balance set balance = balance + ?, lifetime_points = ?, status = ?, updated_at = ?
        where user_id = ? returning balance, lifetime_points, status
     )
     select row_to_json(tx.*) as tx, b.balance, b.lifetime_points, b.status from tx, b`,
    [
      account.userId, spec.type, spec.amount, spec.now, localDate(spec.now, account.timezone), account.territoryCode,
      expiresAt, spec.key, ...cols.map((c) => fields[c]),
      !spec.earning,
      spec.amount, lifetime, status, spec.now, account.userId,
    ] as Knex.RawBinding[],
  );
  return applyResult(account, rows[0]);
}

export interface DebitSpec {
  type: Extract<TxType, 'adjustment' | 'redeem' | 'fraud_void' | 'revert'>;
  /** Points to take, a positive integer. */
  amount: number;
  now: Date;
  key: string;
  /** Take what is left instead of refusing a debit beyond the balance. */
  clamp?: boolean;
  /** Take from these lots only (a revert takes back its own credit's lot). */
  fromLots?: number[];
  fields?: TxFields;
}

export interface DebitResult extends PostResult {
  allocations: Allocation[];
  /** Points asked for that could not be taken (only with `clamp`). */
  shortfall: number;
}

/**
 * Debit points first-expiring-first. Due lots are expired first in the same transaction, so a
 * point past its expiry is never spent. Beyond the balance: INSUFFICIENT_BALANCE, or with
 * `clamp` whatever is left (possibly nothing: then no row is written).
 */
export async function debit(trx: Knex.Transaction, account: Account, spec: DebitSpec): Promise<DebitResult | null> {
  if (!Number.isInteger(spec.amount) || spec.amount <= 0) throw new Error(`debit amount must be a positive integer, got ${spec.amount}`);
  const existing = await findByKey(trx, account.userId, spec.key);
  if (existing) return { ...replayResult(account, existing), allocations: [], shortfall: 0 };

  await expireDueLots(trx, account, spec.now, INLINE_EXPIRY_ACTOR);
  const lotsQuery = trx('points_lots')
    .select('id', 'remaining', 'expires_at')
    .where({ user_id: account.userId })
    .andWhere('remaining', '>', 0)
    .orderBy([{ column: 'expires_at' }, { column: 'id' }]);
  if (spec.fromLots) lotsQuery.whereIn('id', spec.fromLots);
  const lots = await lotsQuery;
  const { allocations, shortfall } = allocateFifo(lots, spec.amount);
  if (shortfall > 0 && !spec.clamp) {
    throw new RayonError(
      'INSUFFICIENT_BALANCE',
      `user ${account.userId} has ${spec.amount - shortfall} points available, ${spec.amount} needed`,
      { data: { available: spec.amount - shortfall, needed: spec.amount } },
    );
  }
  const taken = spec.amount - shortfall;
  if (taken === 0) return null;
  const tx = await writeDebit(trx, account, { ...spec, amount: taken }, allocations);
  return { ...tx, allocations, shortfall };
}

async function writeDebit(
  trx: Knex.Transaction,
  account: Account,
  spec: { type: TxType; amount: number; now: Date; key: string; fields?: TxFields },
  allocations: Allocation[],
): Promise<PostResult> {
  const fields = spec.fields ?? {};
  const cols = TX_FIELD_NAMES.filter((f) => fields[f] !== undefined && fields[f] !== null);
  const lotIds = allocations.map((a) => a.lotId);
  const points = allocations.map((a) => a.points);
  const { rows } = await trx.raw(
    `with tx as (
       insert into points_transactions
         (user_id, type, amount, created_at, local_date, territory_code, idempotency_key${cols.map((c) => `, ${c}`).join('')})
       values (?, ?, ?, ?, ?, ?, ?${cols.map(() => ', ?').join('')})
       returning *
     ), alloc as (
       select * from unnest(?::bigint[], ?::int[]) as a(lot_id, points)
     ), lots as (
       update points_lots l set remaining = l.remaining - a.points
         from alloc a where l.user_id = ? and l.id = a.lot_id
     ), al as (
       -- each allocation carries its lot's credit instant (the foreign key to the lot checks it;
       -- a lot that is not there gives null, which the column refuses, never a dropped allocation)
       insert into lot_allocations (user_id, transaction_id, lot_id, points, lot_credited_at)
       select tx.user_id, tx.id, a.lot_id, a.points,
              (select l.credited_at from points_lots l where l.user_id = ? and l.id = a.lot_id)
         from tx, alloc a
     ), k as (
       insert into idempotency_keys (user_id, key, transaction_id, created_at)
       select user_id, idempotency_key, id, created_at from tx
     ), b as (
       update points_balance set balance = balance - ?, updated_at = ?
        where user_id = ? returning balance, lifetime_points, status
     )
     select row_to_json(tx.*) as tx, b.balance, b.lifetime_points, b.status from tx, b`,
    [
      account.userId, spec.type, -spec.amount, spec.now, localDate(spec.now, account.timezone), account.territoryCode,
      spec.key, ...cols.map((c) => fields[c]),
      lotIds, points, account.userId, account.userId,
      spec.amount, spec.now, account.userId,
    ] as Knex.RawBinding[],
  );
  return applyResult(account, rows[0]);
}

/**
 * The actor of the `expire` rows a debit writes when it first expires the user's due lots. Those
 * rows carry their attribution themselves and have no audit row: the debit that caused them is
 * audited (or is a user's own, see `auditable`), and the expiry rule decided them, not a person.
 */
export const INLINE_EXPIRY_ACTOR = 'system:expiry';

export interface ExpiredLots {
  points: number;
  lots: number;
  /** The `expire` transaction written, null when nothing was due. */
  transactionId: number | null;
}

/**
 * Expire the locked user's lots whose expiry instant has passed: one `expire` transaction
 * covering all of them, with an allocation per lot, attributed to `actor`.
 */
export async function expireDueLots(trx: Knex.Transaction, account: Account, asOf: Date, actor: string): Promise<ExpiredLots> {
  const due: Array<{ id: number; remaining: number }> = await trx('points_lots')
    .select('id', 'remaining')
    .where({ user_id: account.userId })
    .andWhere('remaining', '>', 0)
    .andWhere('expires_at', '<=', asOf)
    .orderBy('id');
  if (due.length === 0) return { points: 0, lots: 0, transactionId: null };
  const total = due.reduce((s, l) => s + l.remaining, 0);
  const r = await writeDebit(
    trx,
    account,
    { type: 'expire', amount: total, now: asOf, key: `expire:${account.userId}:${due[0].id}`, fields: { actor } },
    due.map((l) => ({ lotId: l.id, points: l.remaining })),
  );
  return { points: total, lots: due.length, transactionId: r.transaction.id };
}

function applyResult(account: Account, row: { tx: TxRow | string; balance: number; lifetime_points: number; status: string }): PostResult {
  const tx = normaliseTx(typeof row.tx === 'string' ? JSON.parse(row.tx) : row.tx);
  const statusChanged = row.status !== account.status;
  account.balance = row.balance;
  account.lifetime = row.lifetime_points;
  account.status = row.status;
  return { transaction: tx, replay: false, balance: row.balance, lifetime: row.lifetime_points, status: row.status, statusChanged };
}

function replayResult(account: Account, tx: TxRow): PostResult {
  return {
    transaction: normaliseTx(tx as unknown as Record<string, unknown>),
    replay: true,
    balance: account.balance,
    lifetime: account.lifetime,
    status: account.status,
    statusChanged: false,
  };
}
