import type { Knex } from 'knex';
import { runSql } from '../src/db/sql.js';

/**
 * Each lot allocation carries the instant its lot was credited (`lot_credited_at`), so that how
 * long redeemed points waited (the KPI report's average redemption delay) is read from the
 * allocations and the redemptions alone, without joining every allocation to the lots table. The
 * copy cannot drift: the foreign key to the lot now includes it, against a unique key of
 * `points_lots` on (user_id, id, credited_at), and it replaces the key on (user_id, lot_id) that
 * it implies. Rows already written are filled from their lots (the table is insert-only: its guard
 * is lifted for that one statement, inside the migration's transaction).
 */
export async function up(knex: Knex): Promise<void> {
  // Filling every allocation of a large ledger outlasts the interactive statement timeout; the
  // setting ends with the migration's transaction.
  if (knex.client.config.client === 'pg') await knex.raw('set local statement_timeout = 0');
  await runSql(knex, `
    alter table lot_allocations add column lot_credited_at timestamptz;
    alter table lot_allocations disable trigger lot_allocations_append_only;
    update lot_allocations a set lot_credited_at = l.credited_at from points_lots l where l.user_id = a.user_id and l.id = a.lot_id;
    alter table lot_allocations enable trigger lot_allocations_append_only;
    alter table lot_allocations alter column lot_credited_at set not null;
    alter table points_lots add constraint points_lots_credit_key unique (user_id, id, credited_at);
    alter table lot_allocations drop constraint lot_allocations_user_id_lot_id_fkey;
    alter table lot_allocations add constraint lot_allocations_lot_fkey
      foreign key (user_id, lot_id, lot_credited_at) references points_lots (user_id, id, credited_at);
  `);
}

export async function down(knex: Knex): Promise<void> {
  await runSql(knex, `
    alter table lot_allocations drop constraint lot_allocations_lot_fkey;
    alter table lot_allocations add constraint lot_allocations_user_id_lot_id_fkey foreign key (user_id, lot_id) references points_lots (user_id, id);
    alter table points_lots drop constraint points_lots_credit_key;
    alter table lot_allocations drop column lot_credited_at;
  `);
}
