import type { Knex } from 'knex';
import { RayonError, notFound, validationError } from '../errors.js';
import { POINTS_MAX } from '../bounds.js';
import { allocateFifo, type Allocation } from './fifo.js';
import { localDate, lotExpiry } from '../time.js';
import { raiseStatus, type ScaleVersion } from '../scale/index.js';

/**
 * The points ledger: insert-only transactions, lots consumed first-expiring-first, and the
 * balance projection, all written in the caller's transaction. Every function here expects a
 * transaction in which the account was locked with `lockAccount` (lock order: user, then reward).
 */

export type TxType = 'daily' | 'earn' | 'adjustment' | 'redeem' | 'refund' | 'expire' | 'fraud_void' | 'fraud_restore' | 'revert';

export const EARNING_TYPES: readonly TxType[] = ['daily', 'earn', 'adjustment'];

export interface Account {
  userId: string;
  territoryCode: string;
  timezone: string;
  territoryState: 'closed' | 'beta' | 'open';
  beta: boolean;
  balance: number;
  lifetime: number;
  status: string;
  suspended: boolean;
}

export interface TxFields {
  action_type?: string | null;
  reference_id?: string | null;
  streak_day?: number | null;
  m100?: number | null;
  jokers_used?: number | null;
  bonus_pct?: number | null;
  scale_version?: number | null;
  batch_id?: string | null;
  reverses_id?: number | null;
  redemption_id?: number | null;
  actor?: string | null;
  reason?: string | null;
  ticket?: string | null;
}

export interface TxRow extends TxFields {
  id: number;
  user_id: string;
  type: TxType;
  amount: number;
  created_at: Date;
  local_date: string;
  territory_code: string;
  expires_at: Date | null;
  idempotency_key: string;
}

export interface PostResult {
  transaction: TxRow;
  replay: boolean;
  balance: number;
  lifetime: number;
  status: string;
  statusChanged: boolean;
}

/** Lock the user's balance row for the rest of the transaction and read what the rules need. */
export async function lockAccount(trx: Knex.Transaction, userId: string): Promise<Account> {
  // Two statements on purpose: under READ COMMITTED a statement's snapshot is taken before it
  // waits for the row lock, so suspension and territory state are read by a second statement,
  // after the lock — a suspension committed while we waited is seen.
  // The lock is taken by writing the row (a new row version, same values): the daily collection
  // writes without a lock, guarded on the version it read, so anything done under this lock — a
  // suspension included — makes a collection in flight start again from a fresh read.
  const { rows: locked } = await trx.raw(
    'update points_balance set updated_at = updated_at where user_id = ? returning balance, lifetime_points, status',
    [userId],
  );
  const b = locked[0];
  if (!b) throw notFound('user', userId);
  const { rows } = await trx.raw(
    `select u.id, u.territory_code, u.beta, t.timezone, t.state,
            exists (select 1 from suspensions s where s.user_id = u.id and s.lifted_at is null) as suspended
       from users u join territories t on t.code = u.territory_code
      where u.id = ?`,
    [userId],
  );
  const r = rows[0];
  return {
    userId: r.id,
    territoryCode: r.territory_code,
    timezone: r.timezone,
    territoryState: r.state,
    beta: r.beta,
    balance: b.balance,
    lifetime: b.lifetime_points,
    status: b.status,
    suspended: r.suspended,
  };
}

/** Refuse an account that may not act: suspended, or outside a launched territory. */
export function assertActive(account: Account): void {
  if (account.suspended) throw new RayonError('ACCOUNT_SUSPENDED', `user ${account.userId} is suspended`);
  const allowed = account.territoryState === 'open' || (account.territoryState === 'beta' && account.beta);
  if (!allowed) {
    throw new RayonError(
      'TERRITORY_NOT_LAUNCHED',
      account.territoryState === 'beta'
        ? `territory ${account.territoryCode} is in closed beta and user ${account.userId} is not in it`
        : `territory ${account.territoryCode} is not launched`,
    );
  }
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
       insert into lot_allocations (user_id, transaction_id, lot_id, points)
       select tx.user_id, tx.id, a.lot_id, a.points from tx, alloc a
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
      lotIds, points, account.userId,
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

/** row_to_json gives timestamps as strings and ids as numbers; make rows uniform. */
export function normaliseTx(r: Record<string, unknown>): TxRow {
  return {
    ...(r as unknown as TxRow),
    id: Number(r.id),
    amount: Number(r.amount),
    created_at: r.created_at instanceof Date ? r.created_at : new Date(String(r.created_at)),
    expires_at: r.expires_at == null ? null : r.expires_at instanceof Date ? r.expires_at : new Date(String(r.expires_at)),
    local_date: String(r.local_date).slice(0, 10),
    reverses_id: r.reverses_id == null ? null : Number(r.reverses_id),
    redemption_id: r.redemption_id == null ? null : Number(r.redemption_id),
  };
}

/** Balance as a reader should see it at `now`: without lots already past their expiry. */
export async function readBalance(db: Knex, userId: string, now: Date) {
  const { rows } = await db.raw(
    `select b.balance, b.lifetime_points, b.status,
            coalesce((select sum(remaining) from points_lots l
                       where l.user_id = b.user_id and l.remaining > 0 and l.expires_at <= ?), 0)::int as due
       from points_balance b where b.user_id = ?`,
    [now, userId],
  );
  const r = rows[0];
  if (!r) throw notFound('user', userId);
  return { balance: r.balance - r.due, lifetime_points: r.lifetime_points, status: r.status as string };
}

/** Points expiring in the window, grouped by expiry instant, soonest first. */
export async function expiringSoon(db: Knex, userId: string, now: Date, days = 30) {
  const until = new Date(now.getTime() + days * 86_400_000);
  const rows = await db('points_lots')
    .select('expires_at')
    .sum({ points: 'remaining' })
    .where({ user_id: userId })
    .andWhere('remaining', '>', 0)
    .andWhere('expires_at', '>', now)
    .andWhere('expires_at', '<=', until)
    .groupBy('expires_at')
    .orderBy('expires_at');
  return (rows as Array<{ points: unknown; expires_at: string | Date }>).map((r) => ({ points: Number(r.points), expires_at: new Date(r.expires_at) }));
}
