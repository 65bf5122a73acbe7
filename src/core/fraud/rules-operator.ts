import { day, num, quote, scoreAbove, type RuleDef } from './finding.js';

/**
 * `operator_adjustments`: positive `adjustment` rows in the window (one-off adjustments and bulk
 * correction files alike), grouped by the actor of their batch and the local date of the credited
 * account. The finding's subject is `operator:<actor>`; one finding per actor, worded on its
 * largest day.
 */
export const operatorAdjustments: RuleDef = {
  name: 'operator_adjustments',
  sql: `
    with d as (
      select coalesce(b.actor, t.actor, 'unknown') as actor, t.local_date,
             count(*)::int as n_rows, sum(t.amount)::bigint as points, max(t.created_at) as latest_at
        from points_transactions t
        left join correction_batches b on b.id = t.batch_id
       where t.type = 'adjustment' and t.amount > 0 and t.created_at between :since and :until
       group by 1, 2
      having sum(t.amount) > :max_points or count(*) > :max_rows
    )
    select distinct on (actor) 'operator:' || left(actor, 200) as user_id, actor, local_date, n_rows, points,
           count(*) over (partition by actor)::int as days,
           max(latest_at) over (partition by actor) as latest_at
      from d
     order by actor, points desc, local_date`,
  describe(row, p) {
    const points = num(row.points);
    const rows = num(row.n_rows);
    const days = num(row.days);
    const more = days > 1 ? `; ${days - 1} more day${days > 2 ? 's' : ''} over the thresholds` : '';
    return {
      score: Math.max(scoreAbove(points, p.max_points), scoreAbove(rows, p.max_rows)),
      evidence: `${quote(String(row.actor))} credited ${points} points in ${rows} manual credit${rows === 1 ? '' : 's'} on ${day(row.local_date)} (thresholds ${p.max_points} points, ${p.max_rows} rows)${more}`,
      figures: { actor: row.actor, local_date: day(row.local_date), points, rows, days, max_points: p.max_points, max_rows: p.max_rows },
    };
  },
};
