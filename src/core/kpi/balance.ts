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
        -- a lot's remainder at the as-of instant is its remainder now plus what was taken from it
        -- after that instant: summed as two parts, the open lots now (through the open lots'
        -- index alone) and those later takings (a handful of rows), whether their lot is open now or not
        select l.expires_at, l.remaining
          from points_lots l
         where l.remaining > 0 and l.credited_at <= params.as_of and l.expires_at > params.as_of and in_scope(l.user_id)
        union all
        select l.expires_at, later.points
          from later join points_lots l on l.user_id = later.user_id and l.id = later.lot_id
         where l.credited_at <= params.as_of and l.expires_at > params.as_of and in_scope(l.user_id)
      ), horizon as materialized (
        -- computed once, not per lot (adding an interval to an instant is not folded by the planner)
        select params.as_of + interval '30 days' as d30, params.as_of + interval '60 days' as d60, params.as_of + interval '90 days' as d90
      )
      select coalesce(sum(remaining), 0)::bigint as outstanding,
             coalesce(sum(remaining) filter (where expires_at <= horizon.d30), 0)::bigint as expiring_30,
             coalesce(sum(remaining) filter (where expires_at <= horizon.d60), 0)::bigint as expiring_60,
             coalesce(sum(remaining) filter (where expires_at <= horizon.d90), 0)::bigint as expiring_90
        from rem, horizon`,
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
