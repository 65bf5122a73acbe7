import type { Knex } from 'knex';
import { RayonError } from '../core/errors.js';

/**
 * What a rollback would destroy, measured rather than declared: the `down`s run inside one
 * transaction (PostgreSQL and PGlite both have transactional DDL), and every table's row count is
 * compared before and after. A table that disappears, or whose count falls, is a loss. Nothing
 * here keeps a list per migration, so a new migration is guarded the day it is written.
 * Every query goes through the transaction: the embedded database has one connection.
 */

export interface RollbackStep {
  name: string;
  down(knex: Knex): Promise<void>;
}

export interface TableLoss {
  /** Table name, schema-qualified when it is not in the current schema. */
  table: string;
  /** Rows it held before the rollback. */
  rows: number;
  /** Rows left after it: null when the table is dropped. */
  after: number | null;
  /** The migration whose `down` dropped or emptied it (the first that did). */
  migration: string;
}

export const MIGRATIONS_TABLE = 'knex_migrations';
const LOCK_TABLE = 'knex_migrations_lock';

interface TableRef {
  key: string;
  schema: string;
  name: string;
  label: string;
}

/**
 * Ordinary and partitioned tables outside the system schemas (partitions count through their
 * parent), but for knex's own two tables: forgetting a migration is the point of a rollback.
 */
async function listTables(trx: Knex): Promise<TableRef[]> {
  const { rows } = await trx.raw(
    `select n.nspname as schema, c.relname as name, n.nspname = current_schema() as current
       from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where c.relkind in ('r', 'p') and not c.relispartition
        and n.nspname <> 'information_schema' and n.nspname !~ '^pg_'
        and c.relname not in (?, ?)
      order by 1, 2`,
    [MIGRATIONS_TABLE, LOCK_TABLE],
  );
  return (rows as Array<{ schema: string; name: string; current: boolean }>).map((r) => ({
    key: `${r.schema}.${r.name}`,
    schema: r.schema,
    name: r.name,
    label: r.current ? r.name : `${r.schema}.${r.name}`,
  }));
}

/** Exact row counts, in one statement (one round trip on the embedded database too). */
async function countRows(trx: Knex, tables: TableRef[]): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (let i = 0; i < tables.length; i += 100) {
    const part = tables.slice(i, i + 100);
    const sql = part.map(() => 'select ?::text as key, count(*)::bigint as n from ??.??').join(' union all ');
    const { rows } = await trx.raw(sql, part.flatMap((t) => [t.key, t.schema, t.name]));
    for (const r of rows as Array<{ key: string; n: number | string }>) counts.set(r.key, Number(r.n));
  }
  return counts;
}

/**
 * Take knex's migration lock row inside `trx` (so a knex run elsewhere waits for this one) and give
 * it back before the commit; refuse when a run that was killed left it set.
 */
async function takeKnexLock(trx: Knex): Promise<void> {
  const exists = (await trx.raw(`select to_regclass(?) is not null as ok`, [LOCK_TABLE])).rows[0].ok;
  if (!exists) return;
  const updated = await trx(LOCK_TABLE).where({ is_locked: 0 }).update({ is_locked: 1 });
  if (updated !== 1) {
    throw new RayonError('INVALID_STATE', 'the migration lock is held (a migration is running, or one was killed): nothing was rolled back; if none is running, clear it with `rayon migrate unlock`');
  }
}

async function freeKnexLock(trx: Knex): Promise<void> {
  const exists = (await trx.raw(`select to_regclass(?) is not null as ok`, [LOCK_TABLE])).rows[0].ok;
  if (exists) await trx(LOCK_TABLE).update({ is_locked: 0 });
}

/**
 * Run the `down`s in order in `trx`, forgetting each migration in knex's table, and return what
 * they destroyed. Counting follows only the tables that held rows at the start.
 */
async function runAndMeasure(trx: Knex.Transaction, steps: RollbackStep[]): Promise<TableLoss[]> {
  await takeKnexLock(trx);
  const tables = await listTables(trx);
  const initial = await countRows(trx, tables);
  const tracked = tables.filter((t) => (initial.get(t.key) ?? 0) > 0);
  const state = new Map<string, { after: number | null; migration?: string }>();
  for (const step of steps) {
    await step.down(trx);
    await trx(MIGRATIONS_TABLE).where({ name: step.name }).del();
    const present = new Set((await listTables(trx)).map((t) => t.key));
    const counts = await countRows(trx, tracked.filter((t) => present.has(t.key)));
    for (const t of tracked) {
      const after = present.has(t.key) ? (counts.get(t.key) ?? 0) : null;
      const prev = state.get(t.key);
      const lost = after === null || after < (initial.get(t.key) ?? 0);
      state.set(t.key, { after, migration: prev?.migration ?? (lost ? step.name : undefined) });
    }
  }
  await freeKnexLock(trx);
  const losses: TableLoss[] = [];
  for (const t of tracked) {
    const s = state.get(t.key);
    const rows = initial.get(t.key) ?? 0;
    if (s && (s.after === null || s.after < rows)) losses.push({ table: t.label, rows, after: s.after, migration: s.migration ?? steps[steps.length - 1].name });
  }
  return losses;
}

class Probed extends Error {
  constructor(readonly losses: TableLoss[]) {
    super('rollback probe');
  }
}

/** Run the `down`s in a transaction that is always rolled back: what would they destroy? */
export async function probeRollback(knex: Knex, steps: RollbackStep[]): Promise<TableLoss[]> {
  try {
    await knex.transaction(async (trx) => {
      throw new Probed(await runAndMeasure(trx, steps));
    });
  } catch (err) {
    if (err instanceof Probed) return err.losses;
    throw err;
  }
  throw new Error('unreachable: the probe transaction always rolls back');
}

/**
 * The real rollback, in one transaction: all the steps or none. It measures again and rolls back
 * if it would destroy a table that was not accepted (data written since the probe, say).
 */
export async function applyRollback(knex: Knex, steps: RollbackStep[], expectedTop: string[], accepted: TableLoss[], database: string): Promise<TableLoss[]> {
  return knex.transaction(async (trx) => {
    const top = await lastApplied(trx, expectedTop.length);
    if (top.join() !== expectedTop.join()) {
      throw new RayonError('INVALID_STATE', `the applied migrations changed while rolling back (now last: ${top.join(', ') || 'none'}): nothing was rolled back; run it again`);
    }
    const losses = await runAndMeasure(trx, steps);
    const ok = new Set(accepted.map((l) => l.table));
    const unexpected = losses.filter((l) => !ok.has(l.table));
    if (unexpected.length) throw dataLossRefusal(steps.map((s) => s.name), unexpected, database, 'rows were written since the check; ');
    return losses;
  });
}

/** Names of the last `n` applied migrations, most recent first (knex's id order: the order they were applied). */
export async function lastApplied(knex: Knex, n: number | null): Promise<string[]> {
  const exists = (await knex.raw(`select to_regclass(?) is not null as ok`, [MIGRATIONS_TABLE])).rows[0].ok;
  if (!exists) return [];
  const q = knex(MIGRATIONS_TABLE).select('name').orderBy('id', 'desc');
  if (n !== null) q.limit(n);
  return ((await q) as Array<{ name: string }>).map((r) => r.name);
}

export function describeLoss(l: TableLoss): string {
  const rows = `${l.rows} row${l.rows === 1 ? '' : 's'}`;
  return l.after === null ? `${rows}, dropped by ${l.migration}` : `${rows}, ${l.after} left after ${l.migration}`;
}

export function dataLossRefusal(migrations: string[], losses: TableLoss[], database: string, why = ''): RayonError {
  const what = migrations.length === 1 ? migrations[0] : `${migrations.length} migrations (${migrations[migrations.length - 1]} … ${migrations[0]})`;
  return new RayonError(
    'INVALID_STATE',
    `${why}rolling back ${what} would drop or empty ${losses.length} table(s) holding rows: nothing was rolled back. ` +
      `Back the database up first; to drop the rows anyway, run again with --drop-data --confirm-database ${JSON.stringify(database)}`,
    { details: losses.map((l) => ({ where: l.table, message: describeLoss(l) })), data: { migrations, tables: losses } },
  );
}
