import type { Knex } from 'knex';

/**
 * Reading one snapshot on several connections (the KPI report's families, the fraud scan's rules).
 * On PostgreSQL the reader's transaction exports its snapshot (`pg_export_snapshot()`) and extra
 * read-only repeatable-read transactions adopt it (`set transaction snapshot`), so independent
 * queries run at the same time and still see exactly the same ledger. The embedded database has
 * one connection: there everything runs in sequence on the reader's own transaction.
 */

/** Session settings every reading connection takes (statement timeout, work_mem…), as `set local` statements. */
export type Prepare = (trx: Knex.Transaction) => Promise<void>;

/** How many connections may read at once: the reader's own plus extra ones the pool can give. */
export function parallelism(db: Knex, wanted: number): number {
  const cfg = (db.client as { config?: { client?: unknown; pool?: { max?: number } } }).config;
  if (cfg?.client !== 'pg') return 1;
  const max = cfg.pool?.max ?? 1;
  return Math.max(1, Math.min(wanted, max));
}

/**
 * Run `tasks` over `trx` (the reader's transaction) and up to `lanes - 1` extra transactions that
 * share its snapshot; each task gets one connection at a time. Results keep the tasks' order.
 */
export async function inLanes<T>(
  db: Knex,
  trx: Knex.Transaction,
  lanes: number,
  prepare: Prepare,
  tasks: Array<(q: Knex) => Promise<T>>,
): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  const drain = async (q: Knex) => {
    while (next < tasks.length) {
      const i = next++;
      results[i] = await tasks[i](q);
    }
  };
  const extra = Math.min(lanes, tasks.length) - 1;
  if (extra <= 0) {
    await drain(trx);
    return results;
  }
  const { rows } = await trx.raw('select pg_export_snapshot() as id');
  const snapshot = String(rows[0].id);
  if (!/^[0-9A-F-]+$/i.test(snapshot)) throw new Error(`unexpected snapshot id ${snapshot}`);
  const lane = () =>
    db.transaction(
      async (t) => {
        // Must be the transaction's first statement: it then sees the reader's snapshot.
        await t.raw(`set transaction snapshot '${snapshot}'`);
        await prepare(t);
        await drain(t);
      },
      { isolationLevel: 'repeatable read', readOnly: true },
    );
  // The exporting transaction stays open (and busy with its own share) until every lane is done.
  const settled = await Promise.allSettled([drain(trx), ...Array.from({ length: extra }, lane)]);
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return results;
}
