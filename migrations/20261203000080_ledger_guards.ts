import type { Knex } from 'knex';
import { runSql } from '../src/db/sql.js';

/**
 * The database guards the ledger's keys as it guards the ledger (SPEC "Security and safety" →
 * Database roles):
 * - `idempotency_keys` becomes insert-only like `points_transactions`, `lot_allocations` and
 *   `audit_log`: UPDATE and DELETE refused row by row and TRUNCATE per statement, by the same
 *   `rayon_refuse_change()` of the foundation migration, whoever runs them (the owner included).
 *   No code path edits or deletes a key: the 24-hour Idempotency-Key store of redeem requests is
 *   its own table (`request_idempotency`), where a key past its 24 hours is taken over by an
 *   upsert, never deleted; a revert leaves the reverted row's key in place on purpose (a retried
 *   earn still answers "replay").
 * - `points_transactions` gets a unique index on (user_id, idempotency_key). The column is
 *   NOT NULL, so "where the key is set" is every row: a full index holds the same rows and can
 *   serve as an ON CONFLICT arbiter. Until now only the primary key of `idempotency_keys` made a
 *   key unique, and a ledger row written without its key row (a bulk load, a hand-made insert)
 *   could repeat one. When the ledger is partitioned by month this index must take the partition
 *   key and becomes per partition; `idempotency_keys`, unpartitioned, stays the global guard.
 *   Each ledger insert pays one more index entry, the price the SPEC asks for.
 * Existing duplicates are named before the index is built, so the migration fails with something
 * to act on. Down drops the triggers and the index only: no row is touched.
 */
export async function up(knex: Knex): Promise<void> {
  const { rows: dups } = await knex.raw(
    `select user_id, idempotency_key, count(*)::int as n from points_transactions
      group by user_id, idempotency_key having count(*) > 1 order by user_id, idempotency_key limit 5`,
  );
  if (dups.length) {
    const list = (dups as Array<{ user_id: string; idempotency_key: string; n: number }>).map((d) => `${d.user_id} ${d.idempotency_key} (${d.n} rows)`);
    throw new Error(`points_transactions repeats idempotency keys, so they cannot be made unique: ${list.join('; ')}`);
  }
  await runSql(knex, `
    create unique index points_transactions_user_key_unique on points_transactions (user_id, idempotency_key);
    create trigger idempotency_keys_append_only before update or delete on idempotency_keys
      for each row execute function rayon_refuse_change();
    create trigger idempotency_keys_no_truncate before truncate on idempotency_keys
      for each statement execute function rayon_refuse_change();
  `);
}

export async function down(knex: Knex): Promise<void> {
  await runSql(knex, `
    drop trigger if exists idempotency_keys_no_truncate on idempotency_keys;
    drop trigger if exists idempotency_keys_append_only on idempotency_keys;
    drop index if exists points_transactions_user_key_unique;
  `);
}
