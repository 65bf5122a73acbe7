import type { Knex } from 'knex';
import { runSql } from '../src/db/sql.js';

/**
 * The ledger foundation: territories, users, versioned scales, the insert-only ledger with
 * its lots and allocations, balances, streaks, idempotency keys, correction batches,
 * suspensions, refused earns and the append-only audit log.
 * Every user-scoped table carries user_id in its primary key (see SPEC "Storage").
 */

const TERRITORIES: Array<[string, string, string]> = [
  ['RE', 'La Réunion', 'Indian/Reunion'],
  ['GP', 'Guadeloupe', 'America/Guadeloupe'],
  ['MQ', 'Martinique', 'America/Martinique'],
  ['GF', 'Guyane', 'America/Cayenne'],
  ['YT', 'Mayotte', 'Indian/Mayotte'],
  ['PM', 'Saint-Pierre-et-Miquelon', 'America/Miquelon'],
  ['BL', 'Saint-Barthélemy', 'America/St_Barthelemy'],
  ['MF', 'Saint-Martin', 'America/Marigot'],
  ['WF', 'Wallis-et-Futuna', 'Pacific/Wallis'],
  ['PF', 'Polynésie française', 'Pacific/Tahiti'],
  ['NC', 'Nouvelle-Calédonie', 'Pacific/Noumea'],
];

/** Version 1 of the scale, frozen here as it was shipped (SPEC "Scale"). */
const SCALE_V1 = {
  daily: {
    base_points: 10,
    multipliers: [
      { from_day: 1, multiplier: 1 },
      { from_day: 3, multiplier: 1.2 },
      { from_day: 7, multiplier: 1.5 },
      { from_day: 14, multiplier: 2 },
      { from_day: 30, multiplier: 3 },
    ],
    joker_every_days: 7,
    max_jokers: 3,
  },
  actions: {
    listing_created: { points: 20, daily_cap: 5 },
    transaction_completed: { points: 50, daily_cap: 10 },
    review_posted: { points: 10, daily_cap: 5 },
    referral_signup: { points: 200, daily_cap: 3 },
    profile_completed: { points: 100, lifetime_cap: 1 },
  },
  expiry_days: 365,
  statuses: [
    { code: 'bronze', min_lifetime_points: 0, earn_bonus_pct: 0 },
    { code: 'silver', min_lifetime_points: 2000, earn_bonus_pct: 10 },
    { code: 'gold', min_lifetime_points: 10000, earn_bonus_pct: 25 },
  ],
  point_value_eur: 0.01,
};

const TX_TYPES = ['daily', 'earn', 'adjustment', 'redeem', 'refund', 'expire', 'fraud_void', 'fraud_restore', 'revert'];

export async function up(knex: Knex): Promise<void> {
  await runSql(knex, `
    create function rayon_refuse_change() returns trigger language plpgsql as $$
    begin
      raise exception 'table % is append-only: % refused', tg_table_name, tg_op using errcode = '0A000';
    end $$;

    create table territories (
      code text primary key check (code ~ '^[A-Z]{2}$'),
      name text not null,
      timezone text not null,
      state text not null default 'closed' check (state in ('closed', 'beta', 'open')),
      state_changed_at timestamptz not null default now()
    );

    create table users (
      id text primary key constraint users_id_format check (id ~ '^[A-Za-z0-9_.-]{1,64}$'),
      email text not null check (length(email) between 3 and 254 and position('@' in email) > 1),
      name text not null check (length(name) between 1 and 200),
      territory_code text not null references territories(code),
      beta boolean not null default false,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    );
    create unique index users_email_lower_key on users (lower(email));
    create index users_territory_idx on users (territory_code, created_at);

    create table statuses (
      code text primary key check (code ~ '^[a-z][a-z0-9_]{0,31}$'),
      rank integer not null unique,
      name text not null
    );

    create table scale_versions (
      version integer primary key check (version > 0),
      effective_from date not null,
      document jsonb not null,
      actor text not null,
      reason text not null,
      created_at timestamptz not null default now()
    );
    create index scale_versions_effective_idx on scale_versions (effective_from, version);

    create table points_balance (
      user_id text primary key references users(id),
      balance integer not null default 0 constraint points_balance_balance_check check (balance >= 0),
      lifetime_points integer not null default 0 check (lifetime_points >= 0),
      status text not null default 'bronze' references statuses(code),
      updated_at timestamptz not null default now()
    );

    create table correction_batches (
      id text primary key check (id ~ '^batch_[A-Za-z0-9]+$'),
      kind text not null check (kind in ('manual', 'file', 'revert')),
      actor text not null,
      reason text not null check (length(reason) > 0),
      ticket text,
      file_name text,
      file_sha256 text,
      rows_total integer not null default 0,
      rows_applied integer not null default 0,
      created_at timestamptz not null default now()
    );

    create table points_transactions (
      user_id text not null references users(id),
      id bigint generated always as identity,
      type text not null check (type in (${TX_TYPES.map((t) => `'${t}'`).join(', ')})),
      amount integer not null constraint points_transactions_amount_nonzero check (amount <> 0),
      created_at timestamptz not null,
      local_date date not null,
      territory_code text not null references territories(code),
      expires_at timestamptz,
      action_type text,
      reference_id text check (reference_id is null or length(reference_id) between 1 and 128),
      streak_day integer check (streak_day is null or streak_day > 0),
      m100 integer check (m100 is null or m100 > 0),
      jokers_used integer check (jokers_used is null or jokers_used >= 0),
      bonus_pct integer,
      scale_version integer references scale_versions(version),
      batch_id text references correction_batches(id),
      reverses_id bigint,
      redemption_id bigint,
      actor text,
      reason text,
      ticket text,
      idempotency_key text not null,
      primary key (user_id, id),
      constraint points_transactions_sign check (
        (type in ('daily', 'earn', 'refund', 'fraud_restore') and amount > 0)
        or (type in ('redeem', 'expire', 'fraud_void') and amount < 0)
        or type in ('adjustment', 'revert')
      ),
      constraint points_transactions_daily_fields check (type <> 'daily' or (streak_day is not null and m100 is not null and jokers_used is not null)),
      constraint points_transactions_earn_fields check (type <> 'earn' or (action_type is not null and reference_id is not null))
    );
    create index points_transactions_user_created_idx on points_transactions (user_id, created_at desc, id desc);
    create index points_transactions_id_idx on points_transactions (id);
    create index points_transactions_created_idx on points_transactions (created_at);
    create index points_transactions_expires_idx on points_transactions (expires_at) where expires_at is not null;
    create index points_transactions_earn_cap_idx on points_transactions (user_id, action_type, local_date) where type = 'earn';
    create index points_transactions_batch_idx on points_transactions (batch_id) where batch_id is not null;
    create unique index points_transactions_reverts_once on points_transactions (user_id, reverses_id) where type = 'revert';

    create table idempotency_keys (
      user_id text not null references users(id),
      key text not null check (length(key) between 1 and 300),
      transaction_id bigint not null,
      created_at timestamptz not null default now(),
      primary key (user_id, key)
    );

    create table points_lots (
      user_id text not null references users(id),
      id bigint generated always as identity,
      transaction_id bigint not null,
      amount integer not null check (amount > 0),
      remaining integer not null constraint points_lots_remaining_check check (remaining >= 0 and remaining <= amount),
      credited_at timestamptz not null,
      expires_at timestamptz not null,
      recredit boolean not null default false,
      primary key (user_id, id),
      foreign key (user_id, transaction_id) references points_transactions(user_id, id)
    );
    create index points_lots_open_idx on points_lots (user_id, expires_at, id) where remaining > 0;
    create index points_lots_due_idx on points_lots (expires_at) where remaining > 0;

    create table lot_allocations (
      user_id text not null,
      transaction_id bigint not null,
      lot_id bigint not null,
      points integer not null check (points > 0),
      primary key (user_id, transaction_id, lot_id),
      foreign key (user_id, transaction_id) references points_transactions(user_id, id),
      foreign key (user_id, lot_id) references points_lots(user_id, id)
    );
    create index lot_allocations_lot_idx on lot_allocations (user_id, lot_id);

    -- One row per reverted transaction: the marker that it is undone (caps skip it, a second
    -- revert is refused), what was taken back, and what it removed from lifetime points.
    create table transaction_reversals (
      user_id text not null references users(id),
      transaction_id bigint not null,
      revert_transaction_id bigint,
      batch_id text references correction_batches(id),
      taken integer not null default 0,
      shortfall integer not null default 0 check (shortfall >= 0),
      lifetime_delta integer not null default 0 check (lifetime_delta >= 0),
      actor text not null,
      reason text not null,
      at timestamptz not null,
      primary key (user_id, transaction_id),
      foreign key (user_id, transaction_id) references points_transactions(user_id, id)
    );

    create table streaks (
      user_id text primary key references users(id),
      current_streak integer not null default 0 check (current_streak >= 0),
      max_streak integer not null default 0 check (max_streak >= current_streak),
      last_check_in date,
      jokers_available integer not null default 0 check (jokers_available >= 0),
      updated_at timestamptz not null default now()
    );
    create index streaks_user_check_in_idx on streaks (user_id, last_check_in);

    create table suspensions (
      user_id text not null references users(id),
      id bigint generated always as identity,
      reason text not null,
      actor text not null,
      started_at timestamptz not null,
      lifted_at timestamptz,
      lifted_by text,
      lift_reason text,
      void_transaction_id bigint,
      restore_transaction_id bigint,
      primary key (user_id, id)
    );
    create unique index suspensions_one_active on suspensions (user_id) where lifted_at is null;

    create table refused_earns (
      user_id text not null,
      id bigint generated always as identity,
      action_type text not null,
      reference_id text not null,
      reason text not null,
      local_date date,
      territory_code text,
      at timestamptz not null,
      primary key (user_id, id)
    );
    create index refused_earns_at_idx on refused_earns (at);

    create table audit_log (
      id bigint generated always as identity primary key,
      at timestamptz not null default clock_timestamp(),
      business_at timestamptz,
      actor text not null,
      action text not null,
      target text,
      details jsonb not null default '{}'::jsonb
    );
    create index audit_log_at_idx on audit_log (at);
    create index audit_log_actor_idx on audit_log (actor, at);
    create index audit_log_action_idx on audit_log (action, at);
    create index audit_log_target_idx on audit_log (target, at);

    create trigger audit_log_append_only before update or delete on audit_log
      for each row execute function rayon_refuse_change();
    create trigger audit_log_no_truncate before truncate on audit_log
      for each statement execute function rayon_refuse_change();
    create trigger points_transactions_append_only before update or delete on points_transactions
      for each row execute function rayon_refuse_change();
    create trigger points_transactions_no_truncate before truncate on points_transactions
      for each statement execute function rayon_refuse_change();
    create trigger lot_allocations_append_only before update or delete on lot_allocations
      for each row execute function rayon_refuse_change();
    create trigger lot_allocations_no_truncate before truncate on lot_allocations
      for each statement execute function rayon_refuse_change();
  `);

  await knex('territories').insert(
    TERRITORIES.map(([code, name, timezone]) => ({ code, name, timezone, state: code === 'RE' ? 'open' : 'closed' })),
  );
  await knex('statuses').insert([
    { code: 'bronze', rank: 1, name: 'Bronze' },
    { code: 'silver', rank: 2, name: 'Argent' },
    { code: 'gold', rank: 3, name: 'Or' },
  ]);
  await knex('scale_versions').insert({
    version: 1,
    effective_from: '2000-01-01',
    document: JSON.stringify(SCALE_V1),
    actor: 'system',
    reason: 'default scale (SPEC version 1)',
  });
}

export async function down(knex: Knex): Promise<void> {
  await runSql(knex, `
    drop table if exists audit_log, refused_earns, suspensions, transaction_reversals, streaks, lot_allocations, points_lots,
      idempotency_keys, points_transactions, correction_batches, points_balance, scale_versions,
      statuses, users, territories cascade;
    drop function if exists rayon_refuse_change();
  `);
}
