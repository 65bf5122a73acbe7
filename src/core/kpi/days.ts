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

/** The whole ledger up to the as-of instant (the manifest's high-water mark), counted in the same pass. */
export interface LedgerTotals {
  rows: number;
  sum: number;
  last_id: number | null;
  last_at: string | null;
}

export interface Days {
  days: Day[];
  ledger: LedgerTotals;
  /** Mean over the days with registered users of collectors / registered, exact decimal text; null without such a day. */
  collection_mean: string | null;
  days_counted: number;
}

export async function periodDays(db: Knex, s: Scope): Promise<Days> {
  const rows = await scoped<Day & { mean: string | null; counted: number; ledger_rows: string; ledger_sum: string; ledger_last_id: string | null; ledger_last_at: Date | string | null }>(
    db,
    s,
    `, days as (
        select d::date as day from generate_series(params.p_from, params.p_to, interval '1 day') d
      ), reg as materialized (
        select reg_date, count(*)::int as n from scope_users group by reg_date
      ), all_days as materialized (
        -- every local date of the ledger up to the as-of instant: the period's figures as filters,
        -- the whole ledger's count, sum and last id (the high-water mark) in the same scan
        select p.local_date as day,
               count(*) filter (where p.type = 'daily' and p.mine)::int as collectors,
               coalesce(sum(p.amount) filter (where p.type in ('daily', 'earn') and p.mine), 0)::bigint as credited,
               coalesce(-sum(p.amount) filter (where p.type = 'redeem' and p.mine), 0)::bigint as redeemed,
               coalesce(sum(p.amount) filter (where p.type = 'refund' and p.mine), 0)::bigint as refunded,
               coalesce(-sum(p.amount) filter (where p.type = 'expire' and p.mine), 0)::bigint as expired,
               count(*)::bigint as ledger_rows, sum(p.amount)::bigint as ledger_sum, max(p.id) as ledger_last_id
          from (select t.local_date, t.type, t.amount, t.id, in_scope(t.user_id) as mine
                  from points_transactions t where t.created_at <= params.as_of) p
         group by p.local_date
      ), ledger as (
        select coalesce(sum(ledger_rows), 0)::bigint as n, coalesce(sum(ledger_sum), 0)::bigint as s, max(ledger_last_id) as last_id from all_days
      ), f as (
        select * from all_days where day between params.p_from and params.p_to
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
             (count(*) filter (where registered > 0) over ())::int as counted,
             ledger.n::text as ledger_rows, ledger.s::text as ledger_sum, ledger.last_id::text as ledger_last_id,
             (select max(p.created_at) from points_transactions p where p.id = ledger.last_id) as ledger_last_at
        from per_day, ledger order by day`,
  );
  const first = rows[0];
  return {
    days: rows.map(({ mean: _m, counted: _c, ledger_rows: _n, ledger_sum: _s, ledger_last_id: _i, ledger_last_at: _a, ...d }) => d),
    ledger: {
      rows: Number(first?.ledger_rows ?? 0),
      sum: Number(first?.ledger_sum ?? 0),
      last_id: first?.ledger_last_id == null ? null : Number(first.ledger_last_id),
      last_at: first?.ledger_last_at ? new Date(first.ledger_last_at).toISOString() : null,
    },
    collection_mean: rows[0]?.mean ?? null,
    days_counted: rows[0]?.counted ?? 0,
  };
}
