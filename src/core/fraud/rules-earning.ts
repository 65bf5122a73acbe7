import { iso, num, quote, scoreAbove, type RuleDef } from './finding.js';
import { referenceKeySql } from './reference-key.js';

/** Rules over earning: credits too fast, refusals in bursts, one reference on several users. */

/**
 * "Within any hour": the 60 minutes ending at each earn, a sliding window (not clock hours).
 * A user has more than N earns in some such window exactly when some earn comes less than an
 * hour after the earn N places before it (a cheap row-offset `lag`); only those users go through
 * the range window that counts and words the finding.
 */
export const earnVelocity: RuleDef = {
  name: 'earn_velocity',
  sql: `
    with cand as (
      select distinct user_id from (
        select t.user_id, t.created_at - lag(t.created_at, :max_per_hour::int) over (partition by t.user_id order by t.created_at) as span
          from points_transactions t
         where t.type = 'earn' and t.created_at between :since and :until
      ) l
       where span <= interval '59 minutes 59.999999 seconds'
    ), e as (
      select t.user_id, t.created_at,
             count(*) over w as n,
             min(t.created_at) over w as first_at
        from points_transactions t
       where t.type = 'earn' and t.created_at between :since and :until
         and t.user_id in (select user_id from cand)
      window w as (partition by t.user_id order by t.created_at
                   range between interval '59 minutes 59.999999 seconds' preceding and current row)
    ), hot as (
      select * from e where n > :max_per_hour
    )
    select distinct on (user_id) user_id, n::int as earns, first_at, created_at as last_at,
           max(created_at) over (partition by user_id) as latest_at
      from hot
     order by user_id, n desc, created_at`,
  describe(row, p) {
    const earns = num(row.earns);
    return {
      score: scoreAbove(earns, p.max_per_hour),
      evidence: `${earns} earns in 1 h (threshold ${p.max_per_hour}), from ${iso(row.first_at as Date)} to ${iso(row.last_at as Date)}`,
      figures: { earns_in_hour: earns, first_at: iso(row.first_at as Date), last_at: iso(row.last_at as Date), threshold: p.max_per_hour },
    };
  },
};

export const refusedBurst: RuleDef = {
  name: 'refused_burst',
  sql: `
    with by_reason as (
      select user_id, reason, count(*)::int as n, max(at) as latest_at
        from refused_earns
       where at between :since and :until
       group by user_id, reason
    )
    select user_id, sum(n)::int as refused, max(latest_at) as latest_at,
           jsonb_object_agg(reason, n) as by_reason
      from by_reason
     group by user_id
    having sum(n) > :max_refused`,
  describe(row, p) {
    const refused = num(row.refused);
    const byReason = (typeof row.by_reason === 'string' ? JSON.parse(row.by_reason) : row.by_reason) as Record<string, number>;
    const parts = Object.entries(byReason).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([r, n]) => `${r} ${n}`);
    return {
      score: scoreAbove(refused, p.max_refused),
      evidence: `${refused} refused earns in the window (threshold ${p.max_refused}): ${parts.join(', ')}`,
      figures: { refused, by_reason: byReason, threshold: p.max_refused },
    };
  },
};

/**
 * Credits in the window grouped by (action, reference key); a group of at least K users flags each
 * of them. A user in several groups gets one finding, worded on the largest group. The latest
 * event is the group's, whoever made it: a new user joining the ring is new evidence.
 */
/**
 * A 64-bit hash of (action, reference key): groups of at least K earn rows under one hash are the
 * only candidates (K users need at least K rows), so the exact grouping below reads a handful of
 * rows instead of every earn of the window; a collision only adds candidates, never loses one.
 */
export const refHash = `hashtextextended(t.action_type || chr(31) || ${referenceKeySql('t.reference_id')}, 0)`;

export const sharedReference: RuleDef = {
  name: 'shared_reference',
  sql: `
    with cand as (
      select ${refHash} as h
        from points_transactions t
       where t.type = 'earn' and t.created_at between :since and :until
       group by 1
      having count(*) >= :min_users
    ), e as materialized (
      select t.user_id, t.action_type, t.reference_id, ${referenceKeySql('t.reference_id')} as ref_key, t.created_at
        from points_transactions t
       where t.type = 'earn' and t.created_at between :since and :until
         and ${refHash} = any (array(select h from cand))
    ), per_user as (
      select action_type, ref_key, user_id, max(created_at) as latest_at
        from e group by action_type, ref_key, user_id
    ), g as (
      select action_type, ref_key, count(*)::int as users, max(latest_at) as latest_at
        from per_user group by action_type, ref_key
      having count(*) >= :min_users
    ), spelt as (
      select g.action_type, g.ref_key, count(distinct e.reference_id)::int as spellings
        from g join e on e.action_type = g.action_type and e.ref_key = g.ref_key
       group by g.action_type, g.ref_key
    ), hit as (
      select p.user_id, g.action_type, g.ref_key, g.users, s.spellings, g.latest_at
        from g
        join per_user p on p.action_type = g.action_type and p.ref_key = g.ref_key
        join spelt s on s.action_type = g.action_type and s.ref_key = g.ref_key
    )
    select distinct on (user_id) user_id, action_type, ref_key, users, spellings,
           count(*) over (partition by user_id)::int as refs,
           max(latest_at) over (partition by user_id) as latest_at
      from hit
     order by user_id, users desc, action_type, ref_key`,
  describe(row, p) {
    const users = num(row.users);
    const refs = num(row.refs);
    const more = refs > 1 ? `; ${refs - 1} more shared reference${refs > 2 ? 's' : ''}` : '';
    return {
      score: scoreAbove(users, p.min_users),
      evidence: `reference ${quote(String(row.ref_key))} (${row.action_type}) credited to ${users} users in ${num(row.spellings)} spelling(s) (threshold ${p.min_users} users)${more}`,
      figures: { reference_key: row.ref_key, action_type: row.action_type, users, spellings: num(row.spellings), shared_references: refs, threshold: p.min_users },
    };
  },
};
