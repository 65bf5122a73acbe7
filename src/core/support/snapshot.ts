import type { Knex } from 'knex';
import { isTransaction } from '../../db/handle.js';

/**
 * Run the reads of one support answer in one snapshot (REPEATABLE READ, read-only), so a
 * collection or a redemption committed between two of them cannot make the screen disagree with
 * itself — nor `user explain` report a difference that is only a race. In the caller's
 * transaction, the caller's snapshot is used as it is.
 */
export function inSnapshot<T>(db: Knex, fn: (q: Knex) => Promise<T>): Promise<T> {
  if (isTransaction(db)) return fn(db);
  return db.transaction((trx) => fn(trx), { isolationLevel: 'repeatable read', readOnly: true });
}
