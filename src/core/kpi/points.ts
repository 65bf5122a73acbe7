import type { Knex } from 'knex';
import { scoped, type Scope } from './scope.js';

/** The points family: what was credited, redeemed, refunded and expired per local day, and how long points waited. */

export interface FlowDay {
  day: string;
  /** Σ daily and earn credits. */
  credited: number;
  /** Points debited by redemptions (positive). */
  redeemed: number;
  /** Points refunded for rejected redemptions. */
  refunded: number;
  /** Points expired (positive). */
  expired: number;
}

/** One row per local day of the period (zeros on days without rows). */
export async function pointFlows(db: Knex, s: Scope): Promise<FlowDay[]> {
  return scoped<FlowDay>(
    db,
    s,
    `, days as (
        select d::date as day from generate_series(params.p_from, params.p_to, interval '1 day') d
      ), f as (
        select p.local_date as day,
               coalesce(sum(p.amount) filter (where p.type in ('daily', 'earn')), 0)::bigint as credited,
               coalesce(-sum(p.amount) filter (where p.type = 'redeem'), 0)::bigint as redeemed,
               coalesce(sum(p.amount) filter (where p.type = 'refund'), 0)::bigint as refunded,
               coalesce(-sum(p.amount) filter (where p.type = 'expire'), 0)::bigint as expired
          from points_transactions p
         where p.type in ('daily', 'earn', 'redeem', 'refund', 'expire')
           and p.local_date between params.p_from and params.p_to and p.created_at <= params.as_of and in_scope(p.user_id)
         group by p.local_date
      )
      select to_char(days.day, 'YYYY-MM-DD') as day, coalesce(f.credited, 0) as credited, coalesce(f.redeemed, 0) as redeemed,
             coalesce(f.refunded, 0) as refunded, coalesce(f.expired, 0) as expired
        from days left join f on f.day = days.day order by days.day`,
  );
}

export interface RedemptionDelay {
  points: number;
  /** Σ(points × seconds waited) / Σ points / 86400, exact decimal text; null without allocations. */
  days: string | null;
}

export async function redemptionDelay(db: Knex, s: Scope): Promise<RedemptionDelay> {
  const [r] = await scoped<RedemptionDelay>(
    db,
    s,
    `select coalesce(sum(a.points), 0)::bigint as points,
            (sum(a.points * extract(epoch from (p.created_at - l.credited_at))) / nullif(sum(a.points), 0) / 86400)::text as days
       from points_transactions p
       join lot_allocations a on a.user_id = p.user_id and a.transaction_id = p.id
       join points_lots l on l.user_id = a.user_id and l.id = a.lot_id
      where p.type = 'redeem' and p.local_date between params.p_from and params.p_to and p.created_at <= params.as_of
        and in_scope(p.user_id)`,
  );
  return r;
}
