import type { Knex } from 'knex';
import { notFound, validationError } from '../errors.js';
import type { TxType } from './transaction.js';
import { assertPageDepth } from '../bounds.js';
import { isIsoDate, parseInstant } from '../time.js';

export const TX_TYPES: readonly TxType[] = ['daily', 'earn', 'adjustment', 'redeem', 'refund', 'expire', 'fraud_void', 'fraud_restore', 'revert'];

export interface Page<T> {
  items: T[];
  page: number;
  limit: number;
  total: number;
}

export interface HistoryItem {
  id: string;
  type: TxType;
  amount: number;
  created_at: Date;
  expires_at: Date | null;
  action_type: string | null;
  reference_id: string | null;
  local_date: string;
  reason: string | null;
  actor: string | null;
  batch_id: string | null;
  streak_day: number | null;
  jokers_used: number | null;
  redemption_id: string | null;
  reverses_id: string | null;
  reverted: boolean;
}

/**
 * One end of a history period: a local date of the user's territory (inclusive, matched on the
 * row's `local_date`), or an instant (inclusive, matched on `created_at`).
 */
export type HistoryBound = { date: string } | { instant: Date };

/** Parse `--from`/`--to` (YYYY-MM-DD or an ISO instant with its zone); anything else names the option. */
export function parseHistoryBound(value: string, name: string): HistoryBound {
  const v = value.trim();
  if (isIsoDate(v)) return { date: v };
  const instant = parseInstant(v);
  if (instant) return { instant };
  throw validationError(`${name} must be a date (YYYY-MM-DD) or an ISO instant with its zone (2026-05-01T10:00:00Z), got ${JSON.stringify(value)}`, [
    { where: name, message: 'must be YYYY-MM-DD or an ISO instant' },
  ]);
}

function boundKey(b: HistoryBound): string {
  return 'date' in b ? b.date : b.instant.toISOString();
}

/** A user's transactions, newest first, ties by id (SPEC pagination: page from 1, limit ≤ 100, page × limit ≤ 10,000). */
export async function pointsHistory(
  db: Knex,
  userId: string,
  opts: { type?: string; page?: number; limit?: number; from?: HistoryBound; to?: HistoryBound } = {},
): Promise<Page<HistoryItem>> {
  const page = opts.page ?? 1;
  const limit = opts.limit ?? 20;
  if (!Number.isInteger(page) || page < 1) throw validationError('page must be an integer ≥ 1');
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw validationError('limit must be an integer from 1 to 100');
  assertPageDepth(page, limit);
  if (opts.type !== undefined && !TX_TYPES.includes(opts.type as TxType)) {
    throw validationError(`type must be one of ${TX_TYPES.join(', ')}`);
  }
  // Dates compare with dates and instants with instants; a period that ends before it starts is a mistake.
  if (opts.from && opts.to && 'date' in opts.from === 'date' in opts.to && boundKey(opts.from) > boundKey(opts.to)) {
    throw validationError(`to (${boundKey(opts.to)}) is before from (${boundKey(opts.from)})`, [{ where: 'to', message: 'must not be before from' }]);
  }
  const user = await db('users').where({ id: userId }).first('id');
  if (!user) throw notFound('user', userId);
  const base = db('points_transactions as t').where('t.user_id', userId);
  if (opts.type) base.andWhere('t.type', opts.type);
  if (opts.from) {
    if ('date' in opts.from) base.andWhere('t.local_date', '>=', opts.from.date);
    else base.andWhere('t.created_at', '>=', opts.from.instant);
  }
  if (opts.to) {
    if ('date' in opts.to) base.andWhere('t.local_date', '<=', opts.to.date);
    else base.andWhere('t.created_at', '<=', opts.to.instant);
  }
  const [{ total }] = await base.clone().count<{ total: number }[]>({ total: '*' });
  const rows = await base
    .clone()
    .leftJoin('transaction_reversals as r', function () {
      this.on('r.user_id', 't.user_id').andOn('r.transaction_id', 't.id');
    })
    .select(
      't.id', 't.type', 't.amount', 't.created_at', 't.expires_at', 't.action_type', 't.reference_id', 't.local_date',
      't.reason', 't.actor', 't.batch_id', 't.streak_day', 't.jokers_used', db.raw('t.redemption_id::text as redemption_id'),
      db.raw('t.reverses_id::text as reverses_id'), db.raw('(r.transaction_id is not null) as reverted'),
    )
    .orderBy([
      { column: 't.created_at', order: 'desc' },
      { column: 't.id', order: 'desc' },
    ])
    .limit(limit)
    .offset((page - 1) * limit);
  return {
    items: rows.map((r) => ({ ...r, id: String(r.id), local_date: String(r.local_date) })),
    page,
    limit,
    total: Number(total),
  };
}
