import type { Knex } from 'knex';

/**
 * A reward's territories become a column of the reward (`territories`: sorted codes, empty when
 * it is offered everywhere) instead of rows of reward_territories. A 200,000-row catalog import
 * spent more than half of its time writing those rows (about 270,000, two indexes) and the
 * trigger that joined them back to rewards to derive catalog_offers; every catalog item and the
 * import's plan aggregated them back into arrays. Now:
 * - catalog_offers is derived from the rewards row alone: one statement-level insert trigger, and
 *   a row trigger when a reward's offer columns (territories included) change;
 * - territory codes are checked by the rewards reference trigger of 20261125000040 (one hashed
 *   anti-join per statement), raising SQLSTATE 23503 like the foreign key it replaces;
 * - indexes nothing reads any more are dropped (rewards by category and offered-everywhere, read
 *   by an earlier catalog page; catalog_offers by reward, now reached through its primary key
 *   with every territory code), so an import writes fewer index entries per reward.
 * One statement per knex.raw (function bodies hold several statements).
 */

const SOLD_OUT = (r: string) => `(${r}.stock is not null and ${r}.units_taken >= ${r}.stock)`;
const OFFER_COLUMNS = 'territory_code, reward_id, category_code, available_from, available_to, sold_out';
/** The reward's territory codes: every territory when it is offered everywhere. */
const CODES = (r: string) => `case when ${r}.all_territories then array(select code from territories) else ${r}.territories end`;
/** A reward's offers, found through the primary key (territory_code, reward_id). */
const OFFERS_OF = (id: string) => `territory_code = any(array(select code from territories)) and reward_id = ${id}`;

const refCheck = (rows: string) => `
     select c into bad from ${rows} n cross join lateral unnest(n.territories) as c
      where c not in (select code from territories) limit 1;
     if found then
       raise exception 'insert or update on table "rewards" violates foreign key constraint "rewards_territories_fkey"'
         using errcode = 'foreign_key_violation', constraint = 'rewards_territories_fkey', table = 'rewards', schema = tg_table_schema,
               detail = format('Key (territories)=(%s) is not present in table "territories".', bad);
     end if;`;

/**
 * The rewards reference checks of 20261125000040 (category, partner), plus territory codes. The
 * parents are small and their keys never null: `not in` over them is one hashed lookup per row,
 * where a transition table without statistics got one index probe per row (~0.3 s of a
 * 200,000-reward insert).
 */
const fkCheck = (column: string, parent: string, key: string, name: string, rows: string) => `
     select n.${column}::text into bad from ${rows} n
      where n.${column} is not null and n.${column} not in (select p.${key} from ${parent} p)
      limit 1;
     if found then
       raise exception 'insert or update on table "rewards" violates foreign key constraint "${name}"'
         using errcode = 'foreign_key_violation', constraint = '${name}', table = 'rewards', schema = tg_table_schema,
               detail = format('Key (${column})=(%s) is not present in table "${parent}".', bad);
     end if;`;
const rewardsRefs = (rows: string, territories: boolean) =>
  fkCheck('category_code', 'categories', 'code', 'rewards_category_code_fkey', rows) +
  fkCheck('partner_id', 'partners', 'id', 'rewards_partner_id_fkey', rows) +
  (territories ? refCheck(rows) : '');

/** The two functions of the rewards reference triggers (statement-level insert, row-level update). */
const refsFunctions = (territories: boolean) =>
  (['ins', 'upd'] as const).map(
    (kind) => `create or replace function rayon_rewards_refs_${kind}() returns trigger language plpgsql as $$
   declare bad text;
   begin${rewardsRefs(kind === 'ins' ? 'new_rows' : '(select new.*) ', territories)}
     return null;
   end $$`,
  );

const keepGuard = (table: string, key: string, constraint: string) =>
  `create or replace function rayon_${table}_keep() returns trigger language plpgsql as $$
   begin
     raise exception '${table} rows are never deleted and their ${key} never changes (refused: %)', tg_op
       using errcode = 'foreign_key_violation', constraint = '${constraint}', table = '${table}', schema = tg_table_schema;
   end $$`;

const UP = [
  `alter table rewards add column territories text[] not null default '{}'`,
  `update rewards r set territories = x.codes
     from (select reward_id, array_agg(territory_code order by territory_code) as codes from reward_territories group by reward_id) x
    where x.reward_id = r.id and not r.all_territories`,
  `alter table rewards add constraint rewards_territories_check check (not all_territories or territories = '{}')`,

  'drop trigger reward_territories_offers_del on reward_territories',
  'drop trigger reward_territories_offers_ins on reward_territories',
  'drop trigger reward_territories_refs_ins on reward_territories',
  'drop trigger reward_territories_refs_upd on reward_territories',
  'drop function rayon_offers_territories_del()',
  'drop function rayon_offers_territories_ins()',
  'drop function rayon_reward_territories_refs_ins()',
  'drop function rayon_reward_territories_refs_upd()',
  'drop table reward_territories',

  ...refsFunctions(true),
  'drop trigger rewards_refs_upd on rewards',
  `create trigger rewards_refs_upd after update of category_code, partner_id, territories on rewards for each row
     when ((old.category_code, old.partner_id, old.territories) is distinct from (new.category_code, new.partner_id, new.territories))
     execute function rayon_rewards_refs_upd()`,
  keepGuard('territories', 'code', 'rewards_territories_fkey'),
  keepGuard('rewards', 'id', 'reward_redemptions_reward_id_fkey'),

  `create or replace function rayon_offers_rewards_ins() returns trigger language plpgsql as $$
   begin
     insert into catalog_offers (${OFFER_COLUMNS})
     select t.code, n.id, n.category_code, n.available_from, n.available_to, ${SOLD_OUT('n')}
       from new_rows n cross join lateral unnest(${CODES('n')}) as t(code)
      where n.active;
     return null;
   end $$`,
  `create or replace function rayon_offers_rewards_upd() returns trigger language plpgsql as $$
   begin
     delete from catalog_offers where ${OFFERS_OF('old.id')};
     if new.active then
       insert into catalog_offers (${OFFER_COLUMNS})
       select t.code, new.id, new.category_code, new.available_from, new.available_to, ${SOLD_OUT('new')}
         from unnest(${CODES('new')}) as t(code);
     end if;
     return null;
   end $$`,
  'drop trigger rewards_offers_upd on rewards',
  `create trigger rewards_offers_upd after update of active, category_code, available_from, available_to, all_territories, territories on rewards
     for each row
     when ((old.active, old.category_code, old.available_from, old.available_to, old.all_territories, old.territories)
           is distinct from (new.active, new.category_code, new.available_from, new.available_to, new.all_territories, new.territories))
     execute function rayon_offers_rewards_upd()`,
  `create or replace function rayon_offers_sold_out() returns trigger language plpgsql as $$
   begin
     update catalog_offers set sold_out = ${SOLD_OUT('new')} where ${OFFERS_OF('new.id')};
     return null;
   end $$`,

  'drop index rewards_category_idx',
  'drop index rewards_all_territories_idx',
  'drop index catalog_offers_reward_idx',
];

const DOWN = [
  'create index catalog_offers_reward_idx on catalog_offers (reward_id)',
  'create index rewards_all_territories_idx on rewards (id) where active and all_territories',
  'create index rewards_category_idx on rewards (category_code, id) where active',

  `create or replace function rayon_offers_sold_out() returns trigger language plpgsql as $$
   begin
     update catalog_offers set sold_out = ${SOLD_OUT('new')} where reward_id = new.id;
     return null;
   end $$`,
  'drop trigger rewards_offers_upd on rewards',
  `create or replace function rayon_offers_rewards_upd() returns trigger language plpgsql as $$
   begin
     delete from catalog_offers where reward_id = new.id;
     if new.active then
       insert into catalog_offers (${OFFER_COLUMNS})
       select t.code, new.id, new.category_code, new.available_from, new.available_to, ${SOLD_OUT('new')}
         from territories t
        where new.all_territories
           or exists (select 1 from reward_territories rt where rt.reward_id = new.id and rt.territory_code = t.code);
     end if;
     return null;
   end $$`,
  `create or replace function rayon_offers_rewards_ins() returns trigger language plpgsql as $$
   begin
     insert into catalog_offers (${OFFER_COLUMNS})
     select t.code, n.id, n.category_code, n.available_from, n.available_to, ${SOLD_OUT('n')}
       from new_rows n cross join territories t
      where n.active and n.all_territories;
     return null;
   end $$`,
  keepGuard('rewards', 'id', 'reward_territories_reward_id_fkey'),
  keepGuard('territories', 'code', 'reward_territories_territory_code_fkey'),
  'drop trigger rewards_refs_upd on rewards',
  ...refsFunctions(false),

  `create table reward_territories (
     territory_code text not null,
     reward_id bigint not null,
     primary key (territory_code, reward_id)
   )`,
  'create index reward_territories_reward_idx on reward_territories (reward_id)',
  `insert into reward_territories (territory_code, reward_id)
   select c, r.id from rewards r cross join lateral unnest(r.territories) as c`,
  // The reference checks and offer triggers of reward_territories, as 20261125000040 and 000060 left them.
  `create function rayon_reward_territories_refs_ins() returns trigger language plpgsql as $$
   declare bad text;
   begin
     select n.territory_code::text into bad from new_rows n where not exists (select 1 from territories p where p.code = n.territory_code) limit 1;
     if found then
       raise exception 'insert or update on table "reward_territories" violates foreign key constraint "reward_territories_territory_code_fkey"'
         using errcode = 'foreign_key_violation', constraint = 'reward_territories_territory_code_fkey', table = 'reward_territories', schema = tg_table_schema,
               detail = format('Key (territory_code)=(%s) is not present in table "territories".', bad);
     end if;
     select n.reward_id::text into bad from new_rows n where not exists (select 1 from rewards p where p.id = n.reward_id) limit 1;
     if found then
       raise exception 'insert or update on table "reward_territories" violates foreign key constraint "reward_territories_reward_id_fkey"'
         using errcode = 'foreign_key_violation', constraint = 'reward_territories_reward_id_fkey', table = 'reward_territories', schema = tg_table_schema,
               detail = format('Key (reward_id)=(%s) is not present in table "rewards".', bad);
     end if;
     return null;
   end $$`,
  `create trigger reward_territories_refs_ins after insert on reward_territories referencing new table as new_rows
     for each statement execute function rayon_reward_territories_refs_ins()`,
  `create function rayon_reward_territories_refs_upd() returns trigger language plpgsql as $$
   declare bad text;
   begin
     if not exists (select 1 from territories p where p.code = new.territory_code) then
       raise exception 'insert or update on table "reward_territories" violates foreign key constraint "reward_territories_territory_code_fkey"'
         using errcode = 'foreign_key_violation', constraint = 'reward_territories_territory_code_fkey', table = 'reward_territories', schema = tg_table_schema;
     end if;
     if not exists (select 1 from rewards p where p.id = new.reward_id) then
       raise exception 'insert or update on table "reward_territories" violates foreign key constraint "reward_territories_reward_id_fkey"'
         using errcode = 'foreign_key_violation', constraint = 'reward_territories_reward_id_fkey', table = 'reward_territories', schema = tg_table_schema;
     end if;
     return null;
   end $$`,
  `create trigger reward_territories_refs_upd after update of territory_code, reward_id on reward_territories for each row
     when ((old.territory_code, old.reward_id) is distinct from (new.territory_code, new.reward_id))
     execute function rayon_reward_territories_refs_upd()`,
  `create function rayon_offers_territories_ins() returns trigger language plpgsql as $$
   begin
     insert into catalog_offers (${OFFER_COLUMNS})
     select n.territory_code, r.id, r.category_code, r.available_from, r.available_to, ${SOLD_OUT('r')}
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
  `create trigger rewards_offers_upd after update of active, category_code, available_from, available_to, all_territories on rewards
     for each row
     when ((old.active, old.category_code, old.available_from, old.available_to, old.all_territories)
           is distinct from (new.active, new.category_code, new.available_from, new.available_to, new.all_territories))
     execute function rayon_offers_rewards_upd()`,
  `create trigger rewards_refs_upd after update of category_code, partner_id on rewards for each row
     when ((old.category_code, old.partner_id) is distinct from (new.category_code, new.partner_id))
     execute function rayon_rewards_refs_upd()`,
  'alter table rewards drop constraint rewards_territories_check',
  'alter table rewards drop column territories',
];

export async function up(knex: Knex): Promise<void> {
  for (const stmt of UP) await knex.raw(stmt);
}

export async function down(knex: Knex): Promise<void> {
  for (const stmt of DOWN) await knex.raw(stmt);
}
