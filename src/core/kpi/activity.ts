import type { Knex } from 'knex';
import { scoped, type Scope } from './scope.js';

/**
 * The users family: activation, retention and frequency. "Active on D": at least one daily, earn
 * or redeem row on local date D (ops credits do not make a user active).
 */

export interface Activity {
  /** Users registered by the period end, and those of them with a daily/earn/redeem row by then. */
  registered: number;
  activated: number;
  /** Users active in the period, the baseline, and the period before it. */
  active: number;
  active_b1: number;
  active_b2: number;
  /** Σ active days of the active users, in the period and in the baseline. */
  active_days: number;
  active_days_b1: number;
  /** Active in the baseline and in the period / active in the period before the baseline and in the baseline. */
  retained: number;
  retained_b1: number;
}

/**
 * One pass over the ledger up to the period end, grouped by user only: each user's active days of
 * the three consecutive periods (before the baseline, baseline, period) are set as bits of one
 * bit string (bit i = day b2_from + i), OR-ed together, then counted per period. A user-day
 * grouping would hash every (user, day) pair; this hashes users.
 */
export async function activity(db: Knex, s: Scope): Promise<Activity> {
  const bits = 3 * s.periods.current.days;
  const [r] = await scoped<Activity>(
    db,
    s,
    `, per_user as (
        select p.user_id,
               bit_or(case when p.local_date >= params.b2_from then set_bit(repeat('0', ${bits})::bit(${bits}), p.local_date - params.b2_from, 1) end) as days
          from points_transactions p
         where p.type in ('daily', 'earn', 'redeem') and p.local_date <= params.p_to and p.created_at <= params.as_of
           and in_scope(p.user_id)
         group by p.user_id
      ), counted as (
        select user_id,
               coalesce(bit_count(substring(days from ${2 * s.periods.current.days + 1} for ${s.periods.current.days})), 0) as d0,
               coalesce(bit_count(substring(days from ${s.periods.current.days + 1} for ${s.periods.current.days})), 0) as d1,
               coalesce(bit_count(substring(days from 1 for ${s.periods.current.days})), 0) as d2
          from per_user
      ), reg as (
        select count(*)::int as registered, count(c.user_id)::int as activated
          from scope_users su left join counted c on c.user_id = su.id
         where su.reg_date <= params.p_to
      )
      select reg.registered, reg.activated,
             count(*) filter (where d0 > 0)::int as active,
             count(*) filter (where d1 > 0)::int as active_b1,
             count(*) filter (where d2 > 0)::int as active_b2,
             coalesce(sum(d0), 0)::int as active_days,
             coalesce(sum(d1), 0)::int as active_days_b1,
             count(*) filter (where d1 > 0 and d0 > 0)::int as retained,
             count(*) filter (where d2 > 0 and d1 > 0)::int as retained_b1
        from reg left join counted on true
       group by reg.registered, reg.activated`,
  );
  return r;
}
