import type { Knex } from 'knex';
import { scoped, type Scope } from './scope.js';

/**
 * Liability and the expiry forecast at the as-of instant, from lots and allocations: a lot's
 * remainder then is its remainder now plus what debits and expiries written after the as-of
 * instant took from it (only those few allocations are read), so the figure is exact for any
 * past instant. Lots already past their expiry instant are not owed (reads never show them),
 * whether or not the expiry run has written them off yet.
 */

export interface Liability {
  outstanding: number;
  expiring_30: number;
  expiring_60: number;
  expiring_90: number;
}

export async function liability(db: Knex, s: Scope): Promise<Liability> {
  const [r] = await scoped<Liability>(
    db,
    s,
    `, later as (
        select a.user_id, a.lot_id, sum(a.points) as points
          from points_transactions p join lot_allocations a on a.user_id = p.user_id and a.transaction_id = p.id
         where p.created_at > params.as_of
         group by a.user_id, a.lot_id
      ), rem as (
        select l.expires_at, l.remaining + coalesce(later.points, 0) as remaining
          from points_lots l left join later on later.user_id = l.user_id and later.lot_id = l.id
         where l.credited_at <= params.as_of and l.expires_at > params.as_of and in_scope(l.user_id)
      )
      select coalesce(sum(remaining), 0)::bigint as outstanding,
             coalesce(sum(remaining) filter (where expires_at <= params.as_of + interval '30 days'), 0)::bigint as expiring_30,
             coalesce(sum(remaining) filter (where expires_at <= params.as_of + interval '60 days'), 0)::bigint as expiring_60,
             coalesce(sum(remaining) filter (where expires_at <= params.as_of + interval '90 days'), 0)::bigint as expiring_90
        from rem`,
  );
  return r;
}

/**
 * The point's value in € as the exact decimal text of the scale in force on `date` (jsonb keeps
 * the number as written: "0.01"). A version only ever takes effect after the day it is written
 * (SPEC "Scale"), so the version in force on a past date never changes: no as-of bound needed.
 */
export async function pointValueAt(db: Knex, date: string): Promise<{ version: number; value: string } | null> {
  const { rows } = await db.raw(
    `select version, (document -> 'point_value_eur')::text as value from scale_versions
      where effective_from <= ?::date
      order by effective_from desc, version desc limit 1`,
    [date],
  );
  return rows[0] ? { version: Number(rows[0].version), value: String(rows[0].value) } : null;
}
