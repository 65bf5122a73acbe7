import type { Knex } from 'knex';
import { scoped, type Scope } from './scope.js';

/**
 * The period day by day, in one pass over its ledger rows: users who collected (the daily
 * collection rate), points credited by daily and earn rows, debited by redemptions, refunded for
 * them and expired; and the users registered by each day.
 */

export interface Day {
  day: string;
  /** Users with a daily row that day: one daily row per user and local date at most (its key is unique). */
  collectors: number;
  registered: number;
  credited: number;
  redeemed: number;
  refunded: number;
  expired: number;
}

export interface Days {
  days: Day[];
  /** Mean over the days with registered users of collectors / registered, exact decimal text; null without such a day. */
  collection_mean: string | null;
  days_counted: number;
}

export async function periodDays(db: Knex, s: Scope): Promise<Days> {
  const rows = await scoped<Day & { mean: string | null; counted: number }>(
    db,
    s,
    `, days as (
        select d::date as day from generate_series(params.p_from, params.p_to, interval '1 day') d
      ), reg as materialized (
        select reg_date, count(*)::int as n from scope_users group by reg_date
      ), f as (
        select p.local_date as day,
               count(*) filter (where p.type = 'daily')::int as collectors,
               coalesce(sum(p.amount) filter (where p.type in ('daily', 'earn')), 0)::bigint as credited,
               coalesce(-sum(p.amount) filter (where p.type = 'redeem'), 0)::bigint as redeemed,
               coalesce(sum(p.amount) filter (where p.type = 'refund'), 0)::bigint as refunded,
               coalesce(-sum(p.amount) filter (where p.type = 'expire'), 0)::bigint as expired
          from points_transactions p
         where p.type in ('daily', 'earn', 'redeem', 'refund', 'expire')
           and p.local_date between params.p_from and params.p_to and p.created_at <= params.as_of and in_scope(p.user_id)
         group by p.local_date
      ), per_day as (
        -- registered by D: those registered before the period, plus a running sum over its days
        select d.day, coalesce(f.collectors, 0) as collectors,
               ((select coalesce(sum(r0.n), 0) from reg r0 where r0.reg_date < params.p_from)
                + sum(coalesce(r.n, 0)) over (order by d.day))::int as registered,
               coalesce(f.credited, 0) as credited, coalesce(f.redeemed, 0) as redeemed,
               coalesce(f.refunded, 0) as refunded, coalesce(f.expired, 0) as expired
          from days d left join f on f.day = d.day left join reg r on r.reg_date = d.day
      )
      select to_char(day, 'YYYY-MM-DD') as day, collectors, registered, credited, redeemed, refunded, expired,
             (avg(collectors::numeric / nullif(registered, 0)) over ())::text as mean,
             (count(*) filter (where registered > 0) over ())::int as counted
        from per_day order by day`,
  );
  return {
    days: rows.map(({ mean: _m, counted: _c, ...d }) => d),
    collection_mean: rows[0]?.mean ?? null,
    days_counted: rows[0]?.counted ?? 0,
  };
}
