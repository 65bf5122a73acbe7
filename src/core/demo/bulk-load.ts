import type { Knex } from 'knex';

/**
 * Indexes and keys built after the load, as pg_restore does, for an empty ledger. Maintaining a
 * dozen B-trees and a foreign-key trigger per row costs far more than building each index once
 * by sorting and checking each foreign key with one join, and the result is the same: every
 * primary key, unique index and foreign key of these tables is dropped at the start of the
 * demo's transaction and recreated, from its own definition read from the catalog, before it
 * commits. A duplicate key or a dangling reference fails the recreation, and the whole
 * transaction — data and DDL — rolls back. Meanwhile the tables are locked (ACCESS EXCLUSIVE), which
 * only matters on a database where something else is running; the demo refuses a database that
 * holds a ledger for this path (run.ts).
 */
export const DEFERRED_TABLES = ['points_transactions', 'points_lots', 'lot_allocations', 'idempotency_keys', 'reward_redemptions', 'refused_earns'];

interface Definition {
  table: string;
  name: string;
  def: string;
}

const q = (name: string) => `"${name.replace(/"/g, '""')}"`;

export async function deferKeysAndIndexes(trx: Knex.Transaction): Promise<() => Promise<void>> {
  const tables = DEFERRED_TABLES;
  const { rows: fks } = await trx.raw(
    `select conrelid::regclass::text as table, conname as name, pg_get_constraintdef(oid) as def from pg_constraint
      where contype = 'f' and (conrelid = any(?::regclass[]) or confrelid = any(?::regclass[]))
      order by 1, 2`,
    [tables, tables],
  );
  const { rows: keys } = await trx.raw(
    `select conrelid::regclass::text as table, conname as name, pg_get_constraintdef(oid) as def from pg_constraint
      where contype in ('p', 'u') and conrelid = any(?::regclass[]) order by 1, 2`,
    [tables],
  );
  const { rows: indexes } = await trx.raw(
    `select c.relname as table, i.relname as name, pg_get_indexdef(i.oid) as def
       from pg_index x join pg_class i on i.oid = x.indexrelid join pg_class c on c.oid = x.indrelid
      where x.indrelid = any(?::regclass[]) and not exists (select 1 from pg_constraint k where k.conindid = i.oid and k.contype in ('p', 'u', 'x'))
      order by 1, 2`,
    [tables],
  );
  for (const f of fks as Definition[]) await trx.raw(`alter table ${f.table} drop constraint ${q(f.name)}`);
  for (const k of keys as Definition[]) await trx.raw(`alter table ${k.table} drop constraint ${q(k.name)}`);
  for (const i of indexes as Definition[]) await trx.raw(`drop index ${q(i.name)}`);
  return async () => {
    for (const k of keys as Definition[]) await trx.raw(`alter table ${k.table} add constraint ${q(k.name)} ${k.def}`);
    for (const i of indexes as Definition[]) await trx.raw(i.def);
    for (const f of fks as Definition[]) await trx.raw(`alter table ${f.table} add constraint ${q(f.name)} ${f.def}`);
  };
}
