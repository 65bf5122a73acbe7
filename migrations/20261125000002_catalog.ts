import type { Knex } from 'knex';
import { runSql } from '../src/db/sql.js';

/**
 * Partners, categories, rewards offered per territory, redemptions, and the request-level
 * idempotency keys of the HTTP mode (Idempotency-Key on redeem).
 * Units still available = stock - units_taken; units_taken counts redemptions not rejected,
 * so a catalog re-import (which rewrites stock) never resets what was sold.
 */
export async function up(knex: Knex): Promise<void> {
  await runSql(knex, `
    create table categories (
      code text primary key check (code ~ '^[a-z0-9][a-z0-9_-]{0,31}$'),
      name text not null,
      created_at timestamptz not null default now()
    );
    insert into categories (code, name) values
      ('food', 'Alimentation'), ('transport', 'Transport'), ('phone', 'Téléphonie'),
      ('culture', 'Culture'), ('charity', 'Solidarité');

    create table partners (
      id bigint generated always as identity primary key,
      code text not null unique check (code ~ '^[A-Za-z0-9_-]{1,32}$'),
      name text not null check (length(name) between 1 and 200),
      territory_code text not null references territories(code),
      commission_rate numeric(6, 5) not null check (commission_rate >= 0 and commission_rate < 1),
      contract_details text,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    );

    create table rewards (
      id bigint generated always as identity primary key,
      sku text not null unique check (length(sku) between 1 and 64),
      name text not null check (length(name) between 1 and 200),
      description text not null default '',
      cost integer not null check (cost > 0),
      category_code text not null references categories(code),
      partner_id bigint not null references partners(id),
      all_territories boolean not null default false,
      available_from date not null,
      available_to date not null,
      stock integer check (stock is null or stock >= 0),
      units_taken integer not null default 0 check (units_taken >= 0),
      fulfilment text not null default 'manual' check (fulfilment in ('instant', 'manual')),
      active boolean not null default true,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      constraint rewards_window_check check (available_to >= available_from),
      constraint rewards_units_stock_check check (stock is null or units_taken <= stock)
    );
    create index rewards_category_idx on rewards (category_code, id) where active;
    create index rewards_partner_idx on rewards (partner_id);
    create index rewards_all_territories_idx on rewards (id) where active and all_territories;

    create table reward_territories (
      territory_code text not null references territories(code),
      reward_id bigint not null references rewards(id),
      primary key (territory_code, reward_id)
    );
    create index reward_territories_reward_idx on reward_territories (reward_id);

    create table reward_redemptions (
      user_id text not null references users(id),
      id bigint generated always as identity,
      reward_id bigint not null references rewards(id),
      points_spent integer not null check (points_spent > 0),
      status text not null check (status in ('pending', 'fulfilled', 'rejected')),
      voucher_code text unique,
      territory_code text not null references territories(code),
      transaction_id bigint not null,
      refund_transaction_id bigint,
      created_at timestamptz not null,
      decided_at timestamptz,
      decided_by text,
      reason text,
      primary key (user_id, id),
      foreign key (user_id, transaction_id) references points_transactions(user_id, id)
    );
    create index reward_redemptions_id_idx on reward_redemptions (id);
    create index reward_redemptions_status_idx on reward_redemptions (status, created_at);
    create index reward_redemptions_reward_idx on reward_redemptions (reward_id);
    create index reward_redemptions_user_created_idx on reward_redemptions (user_id, created_at desc, id desc);

    create table request_idempotency (
      user_id text not null,
      route text not null,
      key text not null check (length(key) between 1 and 255),
      fingerprint text not null,
      status_code integer,
      response jsonb,
      created_at timestamptz not null default now(),
      expires_at timestamptz not null,
      primary key (user_id, route, key)
    );
    create index request_idempotency_expires_idx on request_idempotency (expires_at);
  `);
}

export async function down(knex: Knex): Promise<void> {
  await runSql(knex, `
    drop table if exists request_idempotency, reward_redemptions, reward_territories, rewards, partners, categories cascade;
  `);
}
