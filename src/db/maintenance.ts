import type { Knex } from 'knex';
import { isPostgres, isTransaction } from './handle.js';

/**
 * `VACUUM (ANALYZE)` of the given tables after a large committed change (a catalog import, the
 * demo's load): statistics for the planner and the visibility map set, so index-only scans need
 * not visit the table; autovacuum would get there later. VACUUM runs outside any transaction (in
 * one, nothing is done: the caller analyses there instead). On PostgreSQL it may outlast the
 * interactive statement timeout, so it takes one pooled connection of its own, without the
 * timeout, and hands it back with it.
 */
export async function vacuumAnalyze(db: Knex, tables: readonly string[]): Promise<void> {
  if (isTransaction(db) || tables.length === 0) return;
  const sql = `vacuum (analyze) ${tables.map((t) => `"${t.replace(/"/g, '""')}"`).join(', ')}`;
  if (!isPostgres(db)) {
    await db.raw(sql);
    return;
  }
  const conn = await db.client.acquireConnection();
  try {
    await db.raw('set statement_timeout = 0').connection(conn);
    try {
      await db.raw(sql).connection(conn);
    } finally {
      // Never hand the pool a connection without its timeout.
      await db.raw('reset statement_timeout').connection(conn);
    }
  } finally {
    await db.client.releaseConnection(conn);
  }
}
