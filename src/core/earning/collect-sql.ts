import { dueLotsSql, type Account } from '../ledger/index.js';
import { scaleVersionAtSql } from '../scale/index.js';

/**
 * The SQL of the daily collection (collect.ts runs it): one read of everything the rules need
 * and one guarded write, each in one text for one user (`?` parameters) and one for a batch
 * (arrays unnested, one row per user with its own clock).
 */

/** What the read gives for one user. */
export interface StateRow {
  id: string;
  territory_code: string;
  beta: boolean;
  timezone: string;
  state: Account['territoryState'];
  balance: number;
  lifetime_points: number;
  status: string;
  /** The balance row's version (xmin), for the write's guard. */
  row_version: string;
  suspended: boolean;
  current_streak: number | null;
  max_streak: number | null;
  last_check_in: string | null;
  jokers_available: number | null;
  sql_local_date: string;
  scale_version: number | null;
  due: number;
}

// The scale version is chosen in SQL on PostgreSQL's idea of the local date; the TS rule
// (`localDate`, Intl) is the one that counts, and a disagreement (different tz databases)
// falls back to a second lookup rather than trusting either silently.
// One text for one user (`?` parameters) and for a batch (arrays unnested into `a`, one row per
// user with its own clock): only the source of the user ids and clocks differs.
function readSql(batch: boolean): string {
  const now = batch ? 'a.now' : '?::timestamptz';
  return `
  select u.id, u.territory_code, u.beta, t.timezone, t.state, b.balance, b.lifetime_points, b.status,
         b.xmin::text as row_version,
         exists (select 1 from suspensions s where s.user_id = u.id and s.lifted_at is null) as suspended,
         st.current_streak, st.max_streak, st.last_check_in, st.jokers_available,
         (${now} at time zone t.timezone)::date::text as sql_local_date,
         ${scaleVersionAtSql(`(${now} at time zone t.timezone)::date`)} as scale_version,
         ${dueLotsSql('b.user_id', now)} as due
    from ${batch ? 'unnest(?::text[], ?::timestamptz[]) as a(user_id, now) join points_balance b on b.user_id = a.user_id' : 'points_balance b'}
    join users u on u.id = b.user_id
    join territories t on t.code = u.territory_code
    left join streaks st on st.user_id = b.user_id
   ${batch ? '' : 'where b.user_id = ?'}`;
}
export const READ_STATE = readSql(false);
export const READ_BATCH = readSql(true);

// The scale version in force on a local date (the rule of `versionInForce`), on the hot path's connection.
export const SCALE_AT = `select x.version from (select ${scaleVersionAtSql('?::date')} as version) x where x.version is not null`;

/** The values the write takes for one user, in this order (arrays of them for a batch). */
export const WRITE_FIELDS = [
  ['points', 'int'], ['lifetime', 'int'], ['status', 'text'], ['now', 'timestamptz'], ['user_id', 'text'],
  ['row_version', 'text'], ['territory_code', 'text'], ['beta', 'boolean'], ['state', 'text'],
  ['day', 'date'], ['expires_at', 'timestamptz'], ['key', 'text'],
  ['streak_day', 'int'], ['m100', 'int'], ['jokers_used', 'int'], ['bonus_pct', 'int'], ['scale_version', 'int'], ['actor', 'text'],
  ['current_streak', 'int'], ['max_streak', 'int'], ['last_check_in', 'date'], ['jokers_available', 'int'], ['audited', 'boolean'],
] as const;
export type WriteField = (typeof WRITE_FIELDS)[number][0];

// Every row written hangs off the guarded balance update: if the balance row changed since the
// read (xmin), or the account may no longer act (seen in this statement's snapshot), nothing at
// all is written for that user and the statement returns no row for them. In a batch each user
// is guarded on their own: the others are written.
function writeSql(batch: boolean): { sql: string; order: WriteField[] } {
  // One user: a `?` per use, in the order of `order`. A batch: an array per field, unnested once.
  const order: WriteField[] = batch ? WRITE_FIELDS.map(([n]) => n) : [];
  const v = (name: WriteField) => {
    if (batch) return `v.${name}`;
    order.push(name);
    return `?::${WRITE_FIELDS.find(([n]) => n === name)![1]}`;
  };
  // A batch never waits on a balance row another transaction holds (an expiry run, a
  // correction file, a redemption): it locks the rows still at the version read, skipping locked
  // ones, and writes those; a skipped user gets no row back and is collected on their own, waiting
  // for that one lock alone. Without this, one held row would stall every collection in the batch
  // while it kept the locks already taken — and could deadlock with a writer of several users.
  const values = batch
    ? `v as (select * from unnest(${WRITE_FIELDS.map(([, type]) => `?::${type}[]`).join(', ')})
               as v(${WRITE_FIELDS.map(([n]) => n).join(', ')})),
       l as (select p.user_id from points_balance p join v on v.user_id = p.user_id and p.xmin = v.row_version::xid
              order by p.user_id for no key update of p skip locked), `
    : '';
  const join = (from: string) => (batch ? `from ${from} join v on v.user_id = ${from}.user_id` : `from ${from}`);
  const sql = `
  with ${values}b as (
    update points_balance set balance = balance + ${v('points')}, lifetime_points = ${v('lifetime')}, status = ${v('status')}, updated_at = ${v('now')}
      ${batch ? 'from v' : ''}
     where points_balance.user_id = ${v('user_id')} and points_balance.xmin = ${v('row_version')}::xid
       ${batch ? 'and points_balance.user_id in (select user_id from l)' : ''}
       and exists (select 1 from users u join territories t on t.code = u.territory_code
                    where u.id = points_balance.user_id and u.territory_code = ${v('territory_code')} and u.beta = ${v('beta')} and t.state = ${v('state')})
       and not exists (select 1 from suspensions s where s.user_id = points_balance.user_id and s.lifted_at is null)
    returning points_balance.user_id, points_balance.balance
  ), tx as (
    insert into points_transactions
      (user_id, type, amount, created_at, local_date, territory_code, expires_at, idempotency_key,
       streak_day, m100, jokers_used, bonus_pct, scale_version, actor)
    select b.user_id, 'daily', ${v('points')}, ${v('now')}, ${v('day')}, ${v('territory_code')}, ${v('expires_at')}, ${v('key')},
           ${v('streak_day')}, ${v('m100')}, ${v('jokers_used')}, ${v('bonus_pct')}, ${v('scale_version')}, ${v('actor')}
      ${join('b')}
    returning user_id, id, amount, created_at, expires_at, idempotency_key
  ), lot as (
    insert into points_lots (user_id, transaction_id, amount, remaining, credited_at, expires_at, recredit)
    select user_id, id, amount, amount, created_at, expires_at, false from tx
  ), k as (
    insert into idempotency_keys (user_id, key, transaction_id, created_at)
    select user_id, idempotency_key, id, created_at from tx
  ), s as (
    insert into streaks (user_id, current_streak, max_streak, last_check_in, jokers_available, updated_at)
    select tx.user_id, ${v('current_streak')}, ${v('max_streak')}, ${v('last_check_in')}, ${v('jokers_available')}, tx.created_at ${join('tx')}
    on conflict (user_id) do update set current_streak = excluded.current_streak, max_streak = excluded.max_streak,
      last_check_in = excluded.last_check_in, jokers_available = excluded.jokers_available, updated_at = excluded.updated_at
  ), a as (
    insert into audit_log (actor, action, target, details, business_at)
    select ${v('actor')}, 'points.collect_daily', tx.user_id, jsonb_build_object('transaction_id', tx.id, 'points', tx.amount), tx.created_at
      ${join('tx')} where ${v('audited')}
  )
  select tx.user_id, tx.id, b.balance from tx join b on b.user_id = tx.user_id`;
  return { sql, order };
}
export const WRITE = writeSql(false);
export const WRITE_BATCH = writeSql(true);

/** The balance row lock a collection takes after a few optimistic attempts missed. */
export const LOCK = 'select 1 from points_balance where user_id = ? for update';
