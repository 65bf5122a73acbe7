import type { Knex } from 'knex';
import { scoped, type Scope } from './scope.js';

/** How long redeemed points waited: the allocations of the period's redemptions to the lots they took. */

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
            (sum(a.points * extract(epoch from (p.created_at - a.lot_credited_at))) / nullif(sum(a.points), 0) / 86400)::text as days
       from points_transactions p
       -- ids are identities, unique over the whole table: joining on them alone lets the planner
       -- hash the period's redemptions by a bigint; each allocation carries its lot's credit
       -- instant (checked by its foreign key), so the lots are not read
       join lot_allocations a on a.transaction_id = p.id
      where p.type = 'redeem' and p.local_date between params.p_from and params.p_to and p.created_at <= params.as_of
        and in_scope(p.user_id)`,
  );
  return r;
}
