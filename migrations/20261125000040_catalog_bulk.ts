import type { Knex } from 'knex';

/**
 * Bulk catalog imports: a 200,000-row import spent more than half of its time in PostgreSQL's
 * per-row foreign-key triggers (about two million lookups: rewards -> categories, partners;
 * reward_territories -> territories, rewards; catalog_offers -> territories, rewards).
 *
 * The same guarantees, set-based:
 * - children: an AFTER INSERT statement trigger checks the whole statement's new rows with one
 *   anti-join per reference; an UPDATE is checked row by row, only when a key column changes
 *   (redeem's `units_taken` update never fires them). The error is the one the foreign key gave:
 *   SQLSTATE 23503 and the original constraint name.
 * - parents: territories, categories, partners and rewards are never deleted (rewards are
 *   deactivated), so DELETE, TRUNCATE and a change of their key are refused outright. That is
 *   what makes the child check sound without the row locks a foreign key takes: a parent seen
 *   once cannot disappear before the child's transaction commits.
 * - catalog_offers is derived data written only by the triggers of 20261125000020: its foreign
 *   keys checked what its sources already guarantee; they are dropped, columns and indexes stay.
 * One statement per knex.raw (function bodies hold several statements).
 */

const FKS = [
  { table: 'rewards', name: 'rewards_category_code_fkey', column: 'category_code', parent: 'categories', key: 'code' },
  { table: 'rewards', name: 'rewards_partner_id_fkey', column: 'partner_id', parent: 'partners', key: 'id' },
  { table: 'reward_territories', name: 'reward_territories_territory_code_fkey', column: 'territory_code', parent: 'territories', key: 'code' },
  { table: 'reward_territories', name: 'reward_territories_reward_id_fkey', column: 'reward_id', parent: 'rewards', key: 'id' },
  { table: 'catalog_offers', name: 'catalog_offers_territory_code_fkey', column: 'territory_code', parent: 'territories', key: 'code' },
  { table: 'catalog_offers', name: 'catalog_offers_reward_id_fkey', column: 'reward_id', parent: 'rewards', key: 'id' },
];

/** The parents whose rows, once there, stay: the key column and the constraint named on refusal. */
const PARENTS = [
  { table: 'territories', key: 'code', constraint: 'reward_territories_territory_code_fkey' },
  { table: 'categories', key: 'code', constraint: 'rewards_category_code_fkey' },
  { table: 'partners', key: 'id', constraint: 'rewards_partner_id_fkey' },
  { table: 'rewards', key: 'id', constraint: 'reward_territories_reward_id_fkey' },
];

/** One anti-join of `rows` against the parent, raising what the foreign key raised. */
const check = (fk: (typeof FKS)[number], rows: string) => `
     select n.${fk.column}::text into bad from ${rows} n
      where n.${fk.column} is not null and not exists (select 1 from ${fk.parent} p where p.${fk.key} = n.${fk.column})
      limit 1;
     if found then
       raise exception 'insert or update on table "${fk.table}" violates foreign key constraint "${fk.name}"'
         using errcode = 'foreign_key_violation', constraint = '${fk.name}', table = '${fk.table}', schema = tg_table_schema,
               detail = format('Key (${fk.column})=(%s) is not present in table "${fk.parent}".', bad);
     end if;`;

const childChecks = (table: string) => {
  const fks = FKS.filter((f) => f.table === table);
  const keys = fks.map((f) => f.column);
  return [
    `create function rayon_${table}_refs_ins() returns trigger language plpgsql as $$
     declare bad text;
     begin${fks.map((f) => check(f, 'new_rows')).join('')}
       return null;
     end $$`,
    `create trigger ${table}_refs_ins after insert on ${table} referencing new table as new_rows
       for each statement execute function rayon_${table}_refs_ins()`,
    `create function rayon_${table}_refs_upd() returns trigger language plpgsql as $$
     declare bad text;
     begin${fks.map((f) => check(f, '(select new.*) ')).join('')}
       return null;
     end $$`,
    `create trigger ${table}_refs_upd after update of ${keys.join(', ')} on ${table} for each row
       when ((${keys.map((k) => `old.${k}`).join(', ')}) is distinct from (${keys.map((k) => `new.${k}`).join(', ')}))
       execute function rayon_${table}_refs_upd()`,
  ];
};

const parentGuards = PARENTS.flatMap((p) => [
  `create function rayon_${p.table}_keep() returns trigger language plpgsql as $$
   begin
     raise exception '${p.table} rows are never deleted and their ${p.key} never changes (refused: %)', tg_op
       using errcode = 'foreign_key_violation', constraint = '${p.constraint}', table = '${p.table}', schema = tg_table_schema;
   end $$`,
  `create trigger ${p.table}_keep_del before delete on ${p.table} for each row execute function rayon_${p.table}_keep()`,
  `create trigger ${p.table}_keep_key before update of ${p.key} on ${p.table} for each row
     when (old.${p.key} is distinct from new.${p.key}) execute function rayon_${p.table}_keep()`,
  `create trigger ${p.table}_keep_truncate before truncate on ${p.table} for each statement execute function rayon_${p.table}_keep()`,
]);

const UP = [
  ...FKS.map((f) => `alter table ${f.table} drop constraint ${f.name}`),
  ...childChecks('rewards'),
  ...childChecks('reward_territories'),
  ...parentGuards,
];

const DOWN = [
  ...PARENTS.flatMap((p) => [
    `drop trigger if exists ${p.table}_keep_truncate on ${p.table}`,
    `drop trigger if exists ${p.table}_keep_key on ${p.table}`,
    `drop trigger if exists ${p.table}_keep_del on ${p.table}`,
    `drop function if exists rayon_${p.table}_keep()`,
  ]),
  ...['rewards', 'reward_territories'].flatMap((t) => [
    `drop trigger if exists ${t}_refs_upd on ${t}`,
    `drop trigger if exists ${t}_refs_ins on ${t}`,
    `drop function if exists rayon_${t}_refs_upd()`,
    `drop function if exists rayon_${t}_refs_ins()`,
  ]),
  ...FKS.map((f) => `alter table ${f.table} add constraint ${f.name} foreign key (${f.column}) references ${f.parent}(${f.key})`),
];

export async function up(knex: Knex): Promise<void> {
  for (const stmt of UP) await knex.raw(stmt);
}

export async function down(knex: Knex): Promise<void> {
  for (const stmt of DOWN) await knex.raw(stmt);
}
