import type { Knex } from 'knex';
import { scoped, type Scope } from './scope.js';

/**
 * Streak runs rebuilt from the ledger (SPEC "Daily collection and streaks"): a run is the sequence
 * of a user's daily rows from a `streak_day = 1` row to the next one, its length its last
 * `streak_day`. A joker-bridged gap stays inside one run (the streak went on). Rows after the
 * period end are not read, so a past period's figure does not move as runs go on.
 *
 * Only the period's rows are needed: a run with a row in the period ends at a row in the period
 * (its last row up to the period end), and that row is the one whose next daily row in the period
 * is missing or starts a new run (`streak_day = 1`); its `streak_day` is the run's length.
 */

export interface RunLength {
  length: number;
  runs: number;
}

export async function streakRuns(db: Knex, s: Scope): Promise<RunLength[]> {
  return scoped<RunLength>(
    db,
    s,
    `, d as (
        -- one daily row per user and local date (a unique index): the daily index's order, no sort
        select p.streak_day, lead(p.streak_day) over (partition by p.user_id order by p.local_date) as next_day
          from points_transactions p
         where p.type = 'daily' and p.local_date between params.p_from and params.p_to and p.created_at <= params.as_of
           and in_scope(p.user_id)
      )
      select streak_day::int as length, count(*)::int as runs from d
       where next_day is null or next_day = 1
       group by streak_day order by streak_day`,
  );
}
