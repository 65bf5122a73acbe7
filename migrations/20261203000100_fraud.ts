import type { Knex } from 'knex';
import { runSql } from '../src/db/sql.js';

/**
 * Fraud rules and their review queue (SPEC "Fraud and suspensions"):
 * - `fraud_settings`: one integer parameter per row, changed by `rayon fraud rules set` (audited);
 * - `fraud_cases`: one case per (user, rule), opened or refreshed by `rayon fraud scan`. A case
 *   of the `operator_adjustments` rule is keyed `operator:<actor>` (an actor is not a user, and
 *   `:` never appears in a user id), so `user_id` carries no foreign key.
 * The default parameters are frozen here as shipped; the code's registry names the same ones.
 */

const DEFAULTS: Array<[string, string, number]> = [
  ['earn_velocity', 'max_per_hour', 20],
  ['refused_burst', 'max_refused', 10],
  ['shared_reference', 'min_users', 3],
  ['redeem_burst', 'max_count', 5],
  ['redeem_burst', 'max_points', 5000],
  ['new_account_redeem', 'min_age_days', 7],
  ['new_account_redeem', 'max_points', 2000],
  ['lockstep_farm', 'min_accounts', 5],
  ['lockstep_farm', 'min_days', 5],
  ['operator_adjustments', 'max_points', 20000],
  ['operator_adjustments', 'max_rows', 50],
];

export async function up(knex: Knex): Promise<void> {
  await runSql(knex, `
    create table fraud_settings (
      rule text not null check (rule ~ '^[a-z][a-z0-9_]{0,63}$'),
      param text not null check (param ~ '^[a-z][a-z0-9_]{0,63}$'),
      value integer not null check (value >= 0),
      updated_at timestamptz not null default now(),
      updated_by text not null,
      primary key (rule, param)
    );

    create table fraud_cases (
      user_id text not null constraint fraud_cases_subject_check
        check (user_id ~ '^[A-Za-z0-9_.-]{1,64}$' or (user_id like 'operator:%' and length(user_id) between 10 and 300)),
      id bigint generated always as identity,
      rule text not null check (rule ~ '^[a-z][a-z0-9_]{0,63}$'),
      status text not null default 'open' check (status in ('open', 'dismissed', 'actioned')),
      first_seen timestamptz not null,
      last_seen timestamptz not null,
      score integer not null check (score between 0 and 100),
      evidence text not null check (length(evidence) > 0),
      figures jsonb not null default '{}'::jsonb,
      -- the latest event that contributed to the evidence: a dismissed case reopens only on later events
      evidence_until timestamptz not null,
      dismissed_at timestamptz,
      dismissed_by text,
      dismiss_reason text,
      actioned_at timestamptz,
      primary key (user_id, id),
      constraint fraud_cases_one_per_rule unique (user_id, rule),
      constraint fraud_cases_seen_order check (first_seen <= last_seen),
      constraint fraud_cases_dismissed_fields check (
        (status = 'dismissed') = (dismissed_at is not null)
        and (dismissed_at is null or (dismissed_by is not null and length(dismiss_reason) > 0))
      ),
      constraint fraud_cases_actioned_fields check ((status = 'actioned') = (actioned_at is not null))
    );
    create index fraud_cases_id_idx on fraud_cases (id);
    create index fraud_cases_status_idx on fraud_cases (status, last_seen desc, id desc);
  `);
  await knex('fraud_settings').insert(DEFAULTS.map(([rule, param, value]) => ({ rule, param, value, updated_by: 'system' })));
}

export async function down(knex: Knex): Promise<void> {
  await runSql(knex, `drop table if exists fraud_cases, fraud_settings`);
}
