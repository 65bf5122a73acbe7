import type { Knex } from 'knex';
import { runSql } from '../src/db/sql.js';

/**
 * A suspension names the fraud case it acts on (`rayon fraud suspend USER --case ID`), so
 * `rayon fraud list` shows it. No foreign key: `fraud_cases` belongs to the fraud migration,
 * whose `down` drops it on its own; the suspension checks the case (it exists and is the user's)
 * under the user's lock. Going down drops only this link: the `user.suspend` audit row
 * names the case too.
 */
export async function up(knex: Knex): Promise<void> {
  await runSql(knex, `alter table suspensions add column case_id bigint`);
}

export async function down(knex: Knex): Promise<void> {
  await runSql(knex, `alter table suspensions drop column if exists case_id`);
}
