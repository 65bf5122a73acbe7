import type { Knex } from 'knex';
import { scoped, type Scope } from './scope.js';

/**
 * The users family: activation, the daily collection rate, retention and frequency. "Active on D":
 * at least one daily, earn or redeem row on local date D (ops credits do not make a user active).
 */

export interface Activation {
  registered: number;
  activated: number;
}

export async function activation(db: Knex, s: Scope): Promise<Activation> {
  const [r] = await scoped<Activation>(
    db,
    s,
    `, acted as (
        select distinct p.user_id from points_transactions p
         where p.type in ('daily', 'earn', 'redeem') and p.local_date <= params.p_to and p.created_at <= params.as_of
      )
      select count(*)::int as registered, count(a.user_id)::int as activated
        from scope_users su left join acted a on a.user_id = su.id
       where su.reg_date <= params.p_to`,
  );
  return r;
}

export interface CollectionDay {
  day: string;
  collectors: number;
  registered: number;
}

export interface Collection {
  days: CollectionDay[];
  /** Mean over the days with registered users of collectors / registered, exact decimal text; null without such a day. */
  mean: string | null;
  days_counted: number;
}

export async function dailyCollection(db: Knex, s: Scope): Promise<Collection> {
  const rows = await scoped<CollectionDay & { mean: string | null; counted: number }>(
    db,
    s,
    `, days as (
        select d::date as day from generate_series(params.p_from, params.p_to, interval '1 day') d
      ), reg as materialized (
        select reg_date, count(*)::int as n from scope_users group by reg_date
      ), col as (
        -- one daily row per user and local date at most (its idempotency key is unique): count(*) counts users
        select p.local_date as day, count(*)::int as n
          from points_transactions p
         where p.type = 'daily' and p.local_date between params.p_from and params.p_to and p.created_at <= params.as_of
           and in_scope(p.user_id)
         group by p.local_date
      ), per_day as (
        -- registered by D: those registered before the period, plus a running sum over its days
        select d.day, coalesce(c.n, 0) as collectors,
               ((select coalesce(sum(r0.n), 0) from reg r0 where r0.reg_date < params.p_from)
                + sum(coalesce(r.n, 0)) over (order by d.day))::int as registered
          from days d left join col c on c.day = d.day left join reg r on r.reg_date = d.day
      )
      select to_char(day, 'YYYY-MM-DD') as day, collectors, registered,
             (avg(collectors::numeric / nullif(registered, 0)) over ())::text as mean,
             (count(*) filter (where registered > 0) over ())::int as counted
        from per_day order by day`,
  );
  return {
    days: rows.map((r) => ({ day: r.day, collectors: r.collectors, registered: r.registered })),
    mean: rows[0]?.mean ?? null,
    days_counted: rows[0]?.counted ?? 0,
  };
}

export interface ActivityCounts {
  /** Users active in the period, the baseline, and the period before it. */
  active: number;
  active_b1: number;
  active_b2: number;
  /** Σ active days per active user, per period. */
  active_days: number;
  active_days_b1: number;
  /** Active in the baseline and in the period / active in the period before the baseline and in the baseline. */
  retained: number;
  retained_b1: number;
}

export async function activityCounts(db: Knex, s: Scope): Promise<ActivityCounts> {
  const [r] = await scoped<ActivityCounts>(
    db,
    s,
    `, act as (
        select p.user_id, p.local_date
          from points_transactions p
         where p.type in ('daily', 'earn', 'redeem') and p.local_date between params.b2_from and params.p_to
           and p.created_at <= params.as_of and in_scope(p.user_id)
         group by p.user_id, p.local_date
      ), per_user as (
        select a.user_id,
               count(*) filter (where a.local_date between params.p_from and params.p_to) as d0,
               count(*) filter (where a.local_date between params.b1_from and params.b1_to) as d1,
               count(*) filter (where a.local_date between params.b2_from and params.b2_to) as d2
          from act a group by a.user_id
      )
      select count(*) filter (where d0 > 0)::int as active,
             count(*) filter (where d1 > 0)::int as active_b1,
             count(*) filter (where d2 > 0)::int as active_b2,
             coalesce(sum(d0), 0)::int as active_days,
             coalesce(sum(d1), 0)::int as active_days_b1,
             count(*) filter (where d1 > 0 and d0 > 0)::int as retained,
             count(*) filter (where d2 > 0 and d1 > 0)::int as retained_b1
        from per_user`,
  );
  return r;
}
