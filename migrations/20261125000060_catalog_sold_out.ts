import type { Knex } from 'knex';

/**
 * The catalog page excluded sold-out rewards by probing a partial index of rewards once per
 * candidate offer, and its count hashed every sold-out reward of the catalog on each request:
 * together most of a page's database work once the items scan stops after the page. The offer
 * row now carries `sold_out`, in the included columns of its indexes, so both are a filter of the
 * index-only scan. It is kept in step by the offers triggers of 20261125000020 (written whenever
 * an offer row is) and, when a reward sells out or comes back (a redemption takes the last unit, a
 * rejection gives one back, an import changes the stock), by a trigger that fires only on that
 * flip — an ordinary redemption's `units_taken` update does not touch catalog_offers.
 * One statement per knex.raw (function bodies hold several statements).
 */

const SOLD_OUT = (r: string) => `(${r}.stock is not null and ${r}.units_taken >= ${r}.stock)`;

const offersFunctions = (withSoldOut: boolean) => {
  const col = withSoldOut ? ', sold_out' : '';
  const val = (r: string) => (withSoldOut ? `, ${SOLD_OUT(r)}` : '');
  return [
    `create or replace function rayon_offers_rewards_ins() returns trigger language plpgsql as $$
     begin
       insert into catalog_offers (territory_code, reward_id, category_code, available_from, available_to${col})
       select t.code, n.id, n.category_code, n.available_from, n.available_to${val('n')}
         from new_rows n cross join territories t
        where n.active and n.all_territories;
       return null;
     end $$`,
    `create or replace function rayon_offers_rewards_upd() returns trigger language plpgsql as $$
     begin
       delete from catalog_offers where reward_id = new.id;
       if new.active then
         insert into catalog_offers (territory_code, reward_id, category_code, available_from, available_to${col})
         select t.code, new.id, new.category_code, new.available_from, new.available_to${val('new')}
           from territories t
          where new.all_territories
             or exists (select 1 from reward_territories rt where rt.reward_id = new.id and rt.territory_code = t.code);
       end if;
       return null;
     end $$`,
    `create or replace function rayon_offers_territories_ins() returns trigger language plpgsql as $$
     begin
       insert into catalog_offers (territory_code, reward_id, category_code, available_from, available_to${col})
       select n.territory_code, r.id, r.category_code, r.available_from, r.available_to${val('r')}
         from new_rows n join rewards r on r.id = n.reward_id
        where r.active and not r.all_territories
       on conflict do nothing;
       return null;
     end $$`,
  ];
};

const UP = [
  `alter table catalog_offers add column sold_out boolean not null default false`,
  `update catalog_offers o set sold_out = true from rewards r where r.id = o.reward_id and ${SOLD_OUT('r')}`,
  `alter table catalog_offers drop constraint catalog_offers_pkey`,
  `alter table catalog_offers add constraint catalog_offers_pkey primary key (territory_code, reward_id) include (available_from, available_to, sold_out)`,
  `drop index catalog_offers_category_idx`,
  `create index catalog_offers_category_idx on catalog_offers (territory_code, category_code, reward_id) include (available_from, available_to, sold_out)`,
  ...offersFunctions(true),
  `create function rayon_offers_sold_out() returns trigger language plpgsql as $$
   begin
     update catalog_offers set sold_out = ${SOLD_OUT('new')} where reward_id = new.id;
     return null;
   end $$`,
  `create trigger rewards_offers_sold_out after update of stock, units_taken on rewards
     for each row
     when (${SOLD_OUT('old')} is distinct from ${SOLD_OUT('new')})
     execute function rayon_offers_sold_out()`,
  `drop index if exists rewards_sold_out_idx`,
];

const DOWN = [
  `create index if not exists rewards_sold_out_idx on rewards (id) where stock is not null and units_taken >= stock`,
  'drop trigger if exists rewards_offers_sold_out on rewards',
  'drop function if exists rayon_offers_sold_out()',
  ...offersFunctions(false),
  `drop index catalog_offers_category_idx`,
  `create index catalog_offers_category_idx on catalog_offers (territory_code, category_code, reward_id) include (available_from, available_to)`,
  `alter table catalog_offers drop constraint catalog_offers_pkey`,
  `alter table catalog_offers add constraint catalog_offers_pkey primary key (territory_code, reward_id) include (available_from, available_to)`,
  `alter table catalog_offers drop column sold_out`,
];

export async function up(knex: Knex): Promise<void> {
  for (const stmt of UP) await knex.raw(stmt);
}

export async function down(knex: Knex): Promise<void> {
  for (const stmt of DOWN) await knex.raw(stmt);
}
