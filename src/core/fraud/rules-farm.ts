import { day, iso, num, scoreAbove, type RuleDef } from './finding.js';

/**
 * `lockstep_farm`: accounts that collected in the window are compared by the whole set of local
 * days they ever collected on (up to the window's end). Among accounts with the same set of at
 * least M days, an account is flagged when it lies in some 60 minutes of account creations that
 * holds at least K of them. The latest event is the group's last collection, so a farm that goes
 * on collecting after a dismissal reopens its cases.
 *
 * Building every account's array of days means sorting every daily row; instead one streaming
 * aggregate over the daily index (in user order, no sort, no hash) gives each account a coarse
 * fingerprint of its set: how many days, the first and the last. Equal sets have equal
 * fingerprints, so the accounts in a qualifying hour of creations with one fingerprint are the only
 * candidates, and only their days are compared exactly (accounts that merely share a fingerprint
 * are candidates too, never a finding).
 *
 * "In a qualifying hour" without pairing accounts: `in_hour` counts the group's creations in the
 * hour ending at each account; an account belongs to a qualifying hour when one ending within the
 * hour after its own creation holds K (`max … following`). Both windows share one sort.
 */
const HOUR = `interval '59 minutes 59.999999 seconds'`;

export const lockstepFarm: RuleDef = {
  name: 'lockstep_farm',
  sql: `
    with per_user as (
      select d.user_id, count(*) as n, min(d.local_date) as first_day, max(d.local_date) as last_day
        from points_transactions d
       where d.type = 'daily' and d.created_at <= :until
       group by d.user_id
      having count(*) >= :min_days and max(d.created_at) >= :since
    ), fp as (
      select p.user_id, p.n, p.first_day, p.last_day, u.created_at,
             count(*) over (partition by p.n, p.first_day, p.last_day order by u.created_at range between ${HOUR} preceding and current row) as in_hour
        from per_user p join users u on u.id = p.user_id
    ), cand as (
      select user_id from (
        select user_id, max(in_hour) over (partition by n, first_day, last_day order by created_at range between current row and ${HOUR} following) as best
          from fp
      ) x where best >= :min_accounts
    ), sets as (
      select d.user_id, array_agg(d.local_date order by d.local_date) as days, max(d.created_at) as latest_at
        from points_transactions d
       where d.type = 'daily' and d.created_at <= :until and d.user_id = any (array(select user_id from cand))
       group by d.user_id
    ), acc as (
      select s.user_id, s.days, s.latest_at, u.created_at,
             count(*) over (partition by s.days order by u.created_at range between ${HOUR} preceding and current row) as in_hour
        from sets s join users u on u.id = s.user_id
    ), members as (
      select user_id, days, latest_at, created_at from (
        select *, max(in_hour) over (partition by days order by created_at range between current row and ${HOUR} following) as best
          from acc
      ) x where best >= :min_accounts
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
