import type { Knex } from 'knex';
import { notFound, validationError } from '../errors.js';
import type { TxType } from './transaction.js';
import { assertPageDepth } from '../bounds.js';

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
  reverted: boolean;
}

/** A user's transactions, newest first, ties by id (SPEC pagination: page from 1, limit ≤ 100, page × limit ≤ 10,000). */
export async function pointsHistory(
  db: Knex,
  userId: string,
  opts: { type?: string; page?: number; limit?: number } = {},
): Promise<Page<HistoryItem>> {
  const page = opts.page ?? 1;
  const limit = opts.limit ?? 20;
  if (!Number.isInteger(page) || page < 1) throw validationError('page must be an integer ≥ 1');
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw validationError('limit must be an integer from 1 to 100');
  assertPageDepth(page, limit);
  if (opts.type !== undefined && !TX_TYPES.includes(opts.type as TxType)) {
    throw validationError(`type must be one of ${TX_TYPES.join(', ')}`);
  }
  const user = await db('users').where({ id: userId }).first('id');
  if (!user) throw notFound('user', userId);
  const base = db('points_transactions as t').where('t.user_id', userId);
  if (opts.type) base.andWhere('t.type', opts.type);
  const [{ total }] = await base.clone().count<{ total: number }[]>({ total: '*' });
  const rows = await base
    .clone()
    .leftJoin('transaction_reversals as r', function () {
      this.on('r.user_id', 't.user_id').andOn('r.transaction_id', 't.id');
    })
    .select(
      't.id', 't.type', 't.amount', 't.created_at', 't.expires_at', 't.action_type', 't.reference_id', 't.local_date',
      't.reason', 't.actor', 't.batch_id', db.raw('(r.transaction_id is not null) as reverted'),
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
