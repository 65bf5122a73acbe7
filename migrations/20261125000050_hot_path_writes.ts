import type { Knex } from 'knex';
import { runSql } from '../src/db/sql.js';

/**
 * Less work for each daily collection, the hottest write (10,000 users at once):
 * - `streaks_user_check_in_idx` was read by nothing, and because it holds `last_check_in`,
 *   every collection's streak update had to be a non-HOT update writing two index entries;
 * - `points_transactions_expires_idx` was read by nothing (expiry reads `points_lots`);
 * - `points_lots_user_id_fkey` is implied by the lot's (user_id, transaction_id) foreign key to
 *   `points_transactions`, whose user_id references users: one foreign-key check per lot less;
 * - balance and streak rows, rewritten by every collection, keep room on their page (fillfactor
 *   80) so those updates can stay on the page (HOT) without touching the primary keys.
 */
export async function up(knex: Knex): Promise<void> {
  await runSql(knex, `
    drop index if exists streaks_user_check_in_idx;
    drop index if exists points_transactions_expires_idx;
    alter table points_lots drop constraint if exists points_lots_user_id_fkey;
    alter table points_balance set (fillfactor = 80);
    alter table streaks set (fillfactor = 80);
  `);
}

export async function down(knex: Knex): Promise<void> {
  await runSql(knex, `
    alter table streaks reset (fillfactor);
    alter table points_balance reset (fillfactor);
    alter table points_lots add constraint points_lots_user_id_fkey foreign key (user_id) references users(id);
    create index if not exists points_transactions_expires_idx on points_transactions (expires_at) where expires_at is not null;
    create index if not exists streaks_user_check_in_idx on streaks (user_id, last_check_in);
  `);
}
