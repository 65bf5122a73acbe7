import { num, scoreAbove, type RuleDef } from './finding.js';

/** Rules over redemptions made in the window, whatever their later status (a rejection is still an attempt). */

export const redeemBurst: RuleDef = {
  name: 'redeem_burst',
  sql: `
    select user_id, count(*)::int as redemptions, sum(points_spent)::bigint as points, max(created_at) as latest_at
      from reward_redemptions
     where created_at between :since and :until
     group by user_id
    having count(*) > :max_count or sum(points_spent) > :max_points`,
  describe(row, p) {
    const count = num(row.redemptions);
    const points = num(row.points);
    return {
      score: Math.max(scoreAbove(count, p.max_count), scoreAbove(points, p.max_points)),
      evidence: `${count} redemptions (threshold ${p.max_count}) for ${points} points (threshold ${p.max_points}) in the window`,
      figures: { redemptions: count, points, max_count: p.max_count, max_points: p.max_points },
    };
  },
};

/** The redemptions an account made while younger than D days; the age is the one at its last such redemption. */
export const newAccountRedeem: RuleDef = {
  name: 'new_account_redeem',
  sql: `
    select r.user_id, count(*)::int as redemptions, sum(r.points_spent)::bigint as points, max(r.created_at) as latest_at,
           floor(extract(epoch from (max(r.created_at) - u.created_at)) / 86400)::int as age_days
      from reward_redemptions r
      join users u on u.id = r.user_id
     where r.created_at between :since and :until
       and r.created_at < u.created_at + make_interval(days => :min_age_days)
     group by r.user_id, u.created_at
    having sum(r.points_spent) > :max_points`,
  describe(row, p) {
    const points = num(row.points);
    const age = num(row.age_days);
    const n = num(row.redemptions);
    return {
      score: scoreAbove(points, p.max_points),
      evidence: `account ${age} day${age === 1 ? '' : 's'} old redeemed ${points} points in ${n} redemption${n === 1 ? '' : 's'} (thresholds: younger than ${p.min_age_days} days, more than ${p.max_points} points)`,
      figures: { age_days: age, points, redemptions: n, min_age_days: p.min_age_days, max_points: p.max_points },
    };
  },
};
