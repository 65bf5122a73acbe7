import type { Knex } from 'knex';
import type { Periods } from './period.js';

/**
 * What every KPI query starts from: the parameters as one row (`params`) and the users in scope
 * (`scope_users`) with their local registration date in their territory's zone. Every ledger read
 * is bounded by `created_at <= as_of`, so a report rebuilds the ledger as it stood then.
 */
export interface Scope {
  asOf: Date;
  territory: string | null;
  periods: Periods;
}

export function scopeCte(s: Scope): { sql: string; bindings: Knex.RawBinding[] } {
  const { current: c, baseline: b1, baseline2: b2 } = s.periods;
  return {
    sql: `with params as (
        select ?::timestamptz as as_of, ?::text as territory, ?::date as p_from, ?::date as p_to,
               ?::date as b1_from, ?::date as b1_to, ?::date as b2_from, ?::date as b2_to
      ),
      scope_users as materialized (
        select u.id, (u.created_at at time zone t.timezone)::date as reg_date
          from users u join territories t on t.code = u.territory_code, params
         where u.created_at <= params.as_of and (params.territory is null or u.territory_code = params.territory)
      )`,
    bindings: [s.asOf, s.territory, c.from, c.to, b1.from, b1.to, b2.from, b2.to],
  };
}

/** Run `with params, scope_users, <rest>`; `rest` starts with `,` (more CTEs) or `select`. */
export async function scoped<T>(db: Knex, s: Scope, rest: string, bindings: Knex.RawBinding[] = []): Promise<T[]> {
  const base = scopeCte(s);
  const joiner = /^\s*,/.test(rest) ? '' : ' ';
  const { rows } = await db.raw(`${base.sql}${joiner}${rest}`, [...base.bindings, ...bindings]);
  return rows as T[];
}
