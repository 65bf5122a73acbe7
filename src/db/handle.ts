import type { Knex } from 'knex';

/**
 * What a Knex handle is, asked in one place. Core functions take the root handle or a
 * transaction, on PostgreSQL (`pg`) or on the embedded database, and a few paths depend on
 * which: the hot paths' own pooled connection, the daily batches, the session lock, the
 * vacuum after a bulk change.
 */

/** A transaction (or a savepoint inside one), not the root handle. */
export function isTransaction(db: Knex): boolean {
  return Boolean((db as Knex & { isTransaction?: boolean }).isTransaction);
}

/** The handle speaks to PostgreSQL through `pg` (not to the embedded database). */
export function isPostgres(db: Knex): boolean {
  return (db.client as { config?: { client?: unknown } }).config?.client === 'pg';
}

/** One round trip to the database and back (what the HTTP mode's health probe asks). */
export async function ping(db: Knex): Promise<void> {
  await db.raw('select 1');
}

/** The root handle of a PostgreSQL pool: a statement may take a pooled connection of its own. */
export function isPostgresPool(db: Knex): boolean {
  return !isTransaction(db) && isPostgres(db);
}
