import type { Knex } from 'knex';
import { isPostgres } from './handle.js';

/**
 * Hold a session-level advisory lock on one pooled connection while `fn` runs on the others.
 * The embedded database is single-process: no lock is needed (and its one connection is busy).
 */
export async function withSessionLock<T>(db: Knex, key: number, fn: () => Promise<T>): Promise<T> {
  if (!isPostgres(db)) return fn();
  const conn = await db.client.acquireConnection();
  try {
    await db.raw('set lock_timeout = 0; set statement_timeout = 0').connection(conn);
    await db.raw('select pg_advisory_lock(?)', [key]).connection(conn);
    try {
      return await fn();
    } finally {
      try {
        await db.raw('select pg_advisory_unlock(?)', [key]).connection(conn);
      } finally {
        // Never hand the pool a connection without its timeouts.
        await db.raw('reset lock_timeout; reset statement_timeout').connection(conn);
      }
    }
  } finally {
    await db.client.releaseConnection(conn);
  }
}
