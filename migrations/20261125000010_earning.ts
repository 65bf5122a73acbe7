import type { Knex } from 'knex';
import { runSql } from '../src/db/sql.js';

/**
 * Earning: refused earns read by local date (`scale simulate`, the fraud rules' refused-earn
 * bursts). The ledger itself gets no new index here: every index on points_transactions is paid
 * by each daily collection, the hottest write of the system.
 */
export async function up(knex: Knex): Promise<void> {
  await runSql(knex, `
    create index refused_earns_day_idx on refused_earns (local_date, user_id);
  `);
}

export async function down(knex: Knex): Promise<void> {
  await runSql(knex, `
    drop index if exists refused_earns_day_idx;
  `);
}
