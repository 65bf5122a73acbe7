import { day, iso, num, scoreAbove, type RuleDef } from './finding.js';

/**
 * `lockstep_farm`: accounts that collected in the window are compared by the whole set of local
 * days they ever collected on (up to the window's end). Among accounts with the same set of at
 * least M days, an account is flagged when it lies in some 60 minutes of account creations that
 * holds at least K of them. The latest event is the group's last collection, so a farm that goes
 * on collecting after a dismissal reopens its cases.
 *
 * Building every account's array of days means sorting every daily row; instead one hash aggregate
 * gives each account a fingerprint of its set (count, first and last day, a sum and a xor of the
 * days' hashes). Equal sets have equal fingerprints, so the accounts in a qualifying hour of
 * creations with one fingerprint are the only candidates, and only their days are compared exactly
 * (a fingerprint collision can add a candidate, never lose one).
 */
export const lockstepFarm: RuleDef = {
  name: 'lockstep_farm',
  sql: `
    with per_user as (
      select d.user_id, count(*) as n, min(d.local_date) as first_day, max(d.local_date) as last_day,
             sum(hashint4(d.local_date - date '2000-01-01')) as h1,
             bit_xor(hashint4(d.local_date - date '1970-01-01')) as h2
        from points_transactions d
       where d.type = 'daily' and d.created_at <= :until
       group by d.user_id
      having count(*) >= :min_days and max(d.created_at) >= :since
    ), fp as (
      select p.user_id, p.n, p.first_day, p.last_day, p.h1, p.h2, u.created_at,
             count(*) over (partition by p.n, p.first_day, p.last_day, p.h1, p.h2 order by u.created_at
                            range between interval '59 minutes 59.999999 seconds' preceding and current row) as in_hour
        from per_user p join users u on u.id = p.user_id
    ), cand as (
      select distinct m.user_id
        from fp a
        join fp m on (m.n, m.first_day, m.last_day, m.h1, m.h2) = (a.n, a.first_day, a.last_day, a.h1, a.h2)
                 and m.created_at > a.created_at - interval '1 hour' and m.created_at <= a.created_at
       where a.in_hour >= :min_accounts
    ), sets as (
      select d.user_id, array_agg(d.local_date order by d.local_date) as days, max(d.created_at) as latest_at
        from points_transactions d join cand c on c.user_id = d.user_id
       where d.type = 'daily' and d.created_at <= :until
       group by d.user_id
    ), acc as (
      select s.user_id, s.days, s.latest_at, u.created_at,
             count(*) over (partition by s.days order by u.created_at
                            range between interval '59 minutes 59.999999 seconds' preceding and current row) as in_hour
        from sets s join users u on u.id = s.user_id
    ), members as (
      select distinct m.user_id, m.days, m.latest_at, m.created_at
        from acc a
        join acc m on m.days = a.days
                  and m.created_at > a.created_at - interval '1 hour' and m.created_at <= a.created_at
       where a.in_hour >= :min_accounts
    )
    select user_id,
           (count(*) over g)::int as accounts,
           cardinality(days) as n_days, days[1] as first_day, days[cardinality(days)] as last_day,
           min(created_at) over g as created_from, max(created_at) over g as created_to,
           max(latest_at) over g as latest_at
      from members
    window g as (partition by days)`,
  describe(row, p) {
    const accounts = num(row.accounts);
    const days = num(row.n_days);
    return {
      score: Math.max(scoreAbove(accounts, p.min_accounts), scoreAbove(days, p.min_days)),
      evidence:
        `${accounts} accounts created between ${iso(row.created_from as Date)} and ${iso(row.created_to as Date)} collected on the same ` +
        `${days} days, ${day(row.first_day)} to ${day(row.last_day)} (thresholds ${p.min_accounts} accounts within 1 h, ${p.min_days} days)`,
      figures: {
        accounts, days, first_day: day(row.first_day), last_day: day(row.last_day),
        created_from: iso(row.created_from as Date), created_to: iso(row.created_to as Date), min_accounts: p.min_accounts, min_days: p.min_days,
      },
    };
  },
};
