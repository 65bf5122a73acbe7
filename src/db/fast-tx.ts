import type { Knex } from 'knex';
import { isPostgresPool } from './handle.js';

/**
 * Statements for the hot paths, with as little client-side work as possible. Knex's own query
 * machinery costs more CPU than the database work of a daily collection (measured: ~1.7 ms of
 * client CPU per transaction vs ~0.5 ms on the bare `pg` connection for the same statements), so
 * on PostgreSQL the statements go straight to a pooled `pg` connection. Inside a caller's
 * transaction, or on the embedded database, the Knex path is used unchanged. Both run the very
 * same SQL text.
 */

export type Query = (sql: string, bindings: readonly unknown[]) => Promise<{ rows: any[] }>; // eslint-disable-line @typescript-eslint/no-explicit-any

interface RawPgConnection {
  query(text: string | { name: string; text: string; values?: readonly unknown[] }, values?: readonly unknown[]): Promise<{ rows: unknown[] }>;
}

interface PoolClient {
  acquireConnection(): Promise<RawPgConnection>;
  releaseConnection(conn: RawPgConnection): Promise<unknown>;
}

const pgText = new Map<string, { name: string; text: string }>();

/**
 * `?` placeholders (Knex style) to `$n` (pg), once per SQL text, with a statement name: named
 * statements are prepared once per connection, so PostgreSQL stops re-planning them on every
 * call (measured: planning the read-and-lock statement took ~6 ms, its execution ~3 ms).
 * The SQL given has no other `?`.
 */
export function toPgPlaceholders(sql: string): { name: string; text: string } {
  let stmt = pgText.get(sql);
  if (stmt === undefined) {
    let n = 0;
    stmt = { name: `rayon_${pgText.size + 1}`, text: sql.replace(/\?/g, () => `$${++n}`) };
    pgText.set(sql, stmt);
  }
  return stmt;
}

/** Run `body` as one transaction on the connection the statements use. */
export type InTransaction = <T>(body: () => Promise<T>) => Promise<T>;

/**
 * Statements on one pooled connection, each committing on its own (no BEGIN/COMMIT round trips):
 * for hot paths whose writes are single guarded statements; `transaction` groups some of them
 * when needed. Inside a caller's transaction, or on the embedded database (one connection), the
 * Knex path is used and `transaction` just runs its body (inside a transaction it joins it).
 */
export async function onConnection<T>(db: Knex, fn: (q: Query, transaction: InTransaction) => Promise<T>): Promise<T> {
  const client = db.client as unknown as PoolClient;
  if (!isPostgresPool(db)) {
    return fn((sql, bindings) => db.raw(sql, bindings as Knex.RawBinding[]) as unknown as Promise<{ rows: any[] }>, (body) => body()); // eslint-disable-line @typescript-eslint/no-explicit-any
  }
  const conn = await client.acquireConnection();
  const transaction: InTransaction = async (body) => {
    await conn.query('begin');
    try {
      const result = await body();
      await conn.query('commit');
      return result;
    } catch (err) {
      await conn.query('rollback').catch(() => undefined);
      throw err;
    }
  };
  try {
    return await fn((sql, bindings) => conn.query({ ...toPgPlaceholders(sql), values: bindings }) as Promise<{ rows: any[] }>, transaction); // eslint-disable-line @typescript-eslint/no-explicit-any
  } finally {
    await client.releaseConnection(conn);
  }
}

/**
 * One read statement on the hot path, outside any transaction: on PostgreSQL a named (prepared)
 * statement on a pooled connection, planned once per connection; elsewhere the Knex path.
 */
export async function preparedQuery(db: Knex, sql: string, bindings: readonly unknown[]): Promise<{ rows: any[] }> { // eslint-disable-line @typescript-eslint/no-explicit-any
  return onConnection(db, (q) => q(sql, bindings));
}
