import type { Knex } from 'knex';

/**
 * The app's catalog page must stay fast on a 200,000-reward catalog with a territory and a
 * category filter, and it returns `total`, so every request counts all the matches. Joining
 * reward_territories to rewards for that count costs a scan of rewards per request; instead
 * `catalog_offers` holds one narrow row per (territory, active reward) — rewards offered
 * everywhere expanded to every territory — with the window dates, so the count is an index-only
 * range scan. Triggers keep it in step with rewards and reward_territories whoever writes them
 * (the importer, tests, benchmarks, a manual fix); redeem's `units_taken` update does not fire
 * them. Sold-out rewards are few: they are excluded through a small partial index.
 * Each statement runs on its own (function bodies hold several statements).
 */
const UP = [
  `create table catalog_offers (
     territory_code text not null references territories(code),
     reward_id bigint not null references rewards(id),
     category_code text not null,
     available_from date not null,
     available_to date not null,
     constraint catalog_offers_pkey primary key (territory_code, reward_id) include (available_from, available_to)
   )`,
  `create index catalog_offers_category_idx on catalog_offers (territory_code, category_code, reward_id) include (available_from, available_to)`,
  `create index catalog_offers_reward_idx on catalog_offers (reward_id)`,
  `create index rewards_sold_out_idx on rewards (id) where stock is not null and units_taken >= stock`,

  `create function rayon_offers_rewards_ins() returns trigger language plpgsql as $$
   begin
     insert into catalog_offers (territory_code, reward_id, category_code, available_from, available_to)
     select t.code, n.id, n.category_code, n.available_from, n.available_to
       from new_rows n cross join territories t
      where n.active and n.all_territories;
     return null;
   end $$`,
  `create trigger rewards_offers_ins after insert on rewards referencing new table as new_rows
     for each statement execute function rayon_offers_rewards_ins()`,

  `create function rayon_offers_rewards_upd() returns trigger language plpgsql as $$
   begin
     delete from catalog_offers where reward_id = new.id;
     if new.active then
       insert into catalog_offers (territory_code, reward_id, category_code, available_from, available_to)
       select t.code, new.id, new.category_code, new.available_from, new.available_to
         from territories t
        where new.all_territories
           or exists (select 1 from reward_territories rt where rt.reward_id = new.id and rt.territory_code = t.code);
     end if;
     return null;
   end $$`,
  `create trigger rewards_offers_upd after update of active, category_code, available_from, available_to, all_territories on rewards
     for each row
     when ((old.active, old.category_code, old.available_from, old.available_to, old.all_territories)
           is distinct from (new.active, new.category_code, new.available_from, new.available_to, new.all_territories))
     execute function rayon_offers_rewards_upd()`,

  `create function rayon_offers_territories_ins() returns trigger language plpgsql as $$
   begin
     insert into catalog_offers (territory_code, reward_id, category_code, available_from, available_to)
     select n.territory_code, r.id, r.category_code, r.available_from, r.available_to
       from new_rows n join rewards r on r.id = n.reward_id
      where r.active and not r.all_territories
     on conflict do nothing;
     return null;
   end $$`,
  `create trigger reward_territories_offers_ins after insert on reward_territories referencing new table as new_rows
     for each statement execute function rayon_offers_territories_ins()`,

  `create function rayon_offers_territories_del() returns trigger language plpgsql as $$
   begin
     delete from catalog_offers o
      using old_rows d join rewards r on r.id = d.reward_id
      where o.territory_code = d.territory_code and o.reward_id = d.reward_id and not r.all_territories;
     return null;
   end $$`,
  `create trigger reward_territories_offers_del after delete on reward_territories referencing old table as old_rows
     for each statement execute function rayon_offers_territories_del()`,

  `insert into catalog_offers (territory_code, reward_id, category_code, available_from, available_to)
   select t.code, r.id, r.category_code, r.available_from, r.available_to
     from rewards r join territories t
       on r.all_territories or exists (select 1 from reward_territories rt where rt.reward_id = r.id and rt.territory_code = t.code)
    where r.active`,
];

const DOWN = [
  'drop trigger if exists reward_territories_offers_del on reward_territories',
  'drop trigger if exists reward_territories_offers_ins on reward_territories',
  'drop trigger if exists rewards_offers_upd on rewards',
  'drop trigger if exists rewards_offers_ins on rewards',
  'drop function if exists rayon_offers_territories_del()',
  'drop function if exists rayon_offers_territories_ins()',
  'drop function if exists rayon_offers_rewards_upd()',
  'drop function if exists rayon_offers_rewards_ins()',
  'drop index if exists rewards_sold_out_idx',
  'drop table if exists catalog_offers',
];

export async function up(knex: Knex): Promise<void> {
  for (const stmt of UP) await knex.raw(stmt);
}

export async function down(knex: Knex): Promise<void> {
  for (const stmt of DOWN) await knex.raw(stmt);
}
