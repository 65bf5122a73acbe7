import type { Knex } from 'knex';
import { scoped, type Scope } from './scope.js';

/**
 * Streak runs rebuilt from the ledger (SPEC "Daily collection and streaks"): a run is the sequence
 * of a user's daily rows from a `streak_day = 1` row to the next one, its length its last
 * `streak_day`. A joker-bridged gap stays inside one run (the streak went on). Rows after the
 * period end are not read, so a past period's figure does not move as runs go on.
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
        select p.user_id, p.local_date, p.streak_day,
               count(*) filter (where p.streak_day = 1) over (partition by p.user_id collate "C" order by p.local_date, p.id) as run
          from points_transactions p join scope_users su on su.id = p.user_id
         where p.type = 'daily' and p.local_date <= params.p_to and p.created_at <= params.as_of
      ), runs as (
        select d.user_id, d.run, max(d.streak_day) as length, bool_or(d.local_date >= params.p_from) as in_period
          from d group by d.user_id, d.run
      )
      select length::int as length, count(*)::int as runs from runs where in_period group by length order by length`,
  );
}
