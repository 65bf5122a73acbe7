import type { Knex } from 'knex';
import { RayonError, notFound } from './errors.js';
import { assertActive, type Account } from './ledger.js';
import { cachedScaleVersion, raiseStatus, scaleAt, bonusOf, award } from './scale.js';
import { onConnection } from './fast-tx.js';
import { dailyAward, effectiveStreak, m100ForDay, streakTransition, type StreakState } from './streak.js';
import { localDate, lotExpiry } from './time.js';

/**
 * Daily collection: the hottest path of the system (10,000 users collecting at once). It runs in
 * two round trips and no explicit transaction: one read of everything the rules need (no lock),
 * the rules in TypeScript, then one write statement that commits on its own. The write is
 * guarded by the balance row's version (its `xmin`): it applies only if the row is still the one
 * read, so a concurrent writer (another collection, an earn, an expiry, a suspension taken under
 * `lockAccount`) makes it write nothing, and the collection starts again from a fresh read —
 * after a few such attempts, under the balance row lock, where it cannot miss again.
 * The streak is written only here, always with the balance row, so the version covers it too.
 * Exactly-once comes from the database: the guarded update serialises a user's collections, and
 * the unique idempotency key `daily:<user>:<local date>` backs it up. A second collection the
 * same day is refused after the read alone, without a lock or a write. The statements go
 * straight to a pooled `pg` connection as prepared statements (see fast-tx.ts).
 */

export interface CollectResult {
  transaction_id: number;
  points_awarded: number;
  balance: number;
  /** The status after this credit (it may just have risen). */
  status: string;
  local_date: string;
  streak: { current: number; max: number; multiplier: number; jokers_available: number; jokers_used: number };
}

interface StateRow {
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
const READ_STATE = `
  select u.id, u.territory_code, u.beta, t.timezone, t.state, b.balance, b.lifetime_points, b.status,
         b.xmin::text as row_version,
         exists (select 1 from suspensions s where s.user_id = u.id and s.lifted_at is null) as suspended,
         st.current_streak, st.max_streak, st.last_check_in, st.jokers_available,
         (?::timestamptz at time zone t.timezone)::date::text as sql_local_date,
         (select v.version from scale_versions v
           where v.effective_from <= (?::timestamptz at time zone t.timezone)::date
           order by v.effective_from desc, v.version desc limit 1) as scale_version,
         coalesce((select sum(l.remaining) from points_lots l
                    where l.user_id = b.user_id and l.remaining > 0 and l.expires_at <= ?), 0)::int as due
    from points_balance b
    join users u on u.id = b.user_id
    join territories t on t.code = u.territory_code
    left join streaks st on st.user_id = b.user_id
   where b.user_id = ?`;

// The scale version in force on a local date (same rule as `scaleAt`), on the hot path's connection.
const SCALE_AT = 'select version from scale_versions where effective_from <= ?::date order by effective_from desc, version desc limit 1';

// Every row written hangs off the guarded balance update: if the balance row changed since the
// read (xmin), or the account may no longer act (seen in this statement's snapshot), nothing at
// all is written and the statement returns no row.
const WRITE = `
  with b as (
    update points_balance set balance = balance + ?, lifetime_points = ?, status = ?, updated_at = ?
     where user_id = ? and xmin = ?::text::xid
       and exists (select 1 from users u join territories t on t.code = u.territory_code
                    where u.id = points_balance.user_id and u.territory_code = ? and u.beta = ? and t.state = ?)
       and not exists (select 1 from suspensions s where s.user_id = points_balance.user_id and s.lifted_at is null)
    returning user_id, balance
  ), tx as (
    insert into points_transactions
      (user_id, type, amount, created_at, local_date, territory_code, expires_at, idempotency_key,
       streak_day, m100, jokers_used, bonus_pct, scale_version, actor)
    select b.user_id, 'daily', ?::int, ?::timestamptz, ?::date, ?::text, ?::timestamptz, ?::text,
           ?::int, ?::int, ?::int, ?::int, ?::int, ?::text
      from b
    returning user_id, id, amount, created_at, expires_at, idempotency_key
  ), lot as (
    insert into points_lots (user_id, transaction_id, amount, remaining, credited_at, expires_at, recredit)
    select user_id, id, amount, amount, created_at, expires_at, false from tx
  ), k as (
    insert into idempotency_keys (user_id, key, transaction_id, created_at)
    select user_id, idempotency_key, id, created_at from tx
  ), s as (
    insert into streaks (user_id, current_streak, max_streak, last_check_in, jokers_available, updated_at)
    select user_id, ?::int, ?::int, ?::date, ?::int, created_at from tx
    on conflict (user_id) do update set current_streak = excluded.current_streak, max_streak = excluded.max_streak,
      last_check_in = excluded.last_check_in, jokers_available = excluded.jokers_available, updated_at = excluded.updated_at
  ), a as (
    insert into audit_log (actor, action, target, details, business_at)
    select ?::text, 'points.collect_daily', user_id, jsonb_build_object('transaction_id', id, 'points', amount), created_at
      from tx where ?::boolean
  )
  select tx.id, b.balance from tx, b`;

/**
 * Optimistic attempts before the collection takes the balance row lock: under a stream of other
 * writes to the same account (a burst of earns, say) each attempt could find the row changed
 * again; under the lock nothing else writes it, so the last attempt is certain to apply.
 */
const OPTIMISTIC_ATTEMPTS = 3;
const LOCK = 'select 1 from points_balance where user_id = ? for update';

export async function collectDaily(db: Knex, userId: string, now: Date, opts: { actor?: string } = {}): Promise<CollectResult> {
  return onConnection(db, async (q, transaction) => {
    /** One read, the rules, one guarded write; null when the account changed in between. */
    const attempt = async (): Promise<CollectResult | null> => {
      const { rows } = await q(READ_STATE, [now, now, now, userId]);
      const r = rows[0] as StateRow | undefined;
      if (!r) throw notFound('user', userId);
      assertActive(toAccount(r));
      const day = localDate(now, r.timezone);
      const version = r.sql_local_date === day && r.scale_version !== null ? r.scale_version : (await q(SCALE_AT, [day])).rows[0]?.version;
      // Read on this connection: another pool connection could be unavailable.
      const scale = await cachedScaleVersion(db, version, async (v) => (await q('select * from scale_versions where version = ?', [v])).rows[0]);
      const doc = scale.document;

      const state = streakOf(r);
      const t = streakTransition(state, day, doc.daily);
      if (t.kind === 'already_collected') {
        throw new RayonError('ALREADY_COLLECTED', `user ${userId} already collected the daily points of ${state.lastCheckIn} (local date now ${day})`);
      }
      const { points, m100, bonusPct } = dailyAward(doc, t.streakDay, r.status);
      const lifetime = r.lifetime_points + points;
      const status = raiseStatus(r.status, lifetime, doc.statuses);
      const n = t.next;
      const w = await q(WRITE, [
        points, lifetime, status, now, userId, r.row_version, r.territory_code, r.beta, r.state,
        points, now, day, r.territory_code, expiryOf(day, now, r.timezone, doc.expiry_days), `daily:${userId}:${day}`,
        t.streakDay, m100, t.jokersUsed, bonusPct, scale.version, opts.actor ?? null,
        n.current, n.max, n.lastCheckIn, n.jokers,
        opts.actor ?? null, auditable(opts.actor),
      ]).catch((err: { code?: string; constraint?: string }) => {
        // The version guard already refuses a second collection; the key is the backstop.
        if (err?.code === '23505' && err.constraint === 'idempotency_keys_pkey') {
          throw new RayonError('ALREADY_COLLECTED', `user ${userId} already collected the daily points of ${day}`);
        }
        throw err;
      });
      const out = w.rows[0];
      if (!out) return null;
      return {
        transaction_id: Number(out.id),
        points_awarded: points,
        balance: out.balance - r.due,
        status,
        local_date: day,
        streak: { current: n.current, max: n.max, multiplier: m100 / 100, jokers_available: n.jokers, jokers_used: t.jokersUsed },
      };
    };
    // Nothing written means the account changed since the read: the next read says why (already
    // collected, suspended, territory closed) or gives the state to try again on.
    for (let i = 0; i < OPTIMISTIC_ATTEMPTS; i++) {
      const done = await attempt();
      if (done) return done;
    }
    return transaction(async () => {
      await q(LOCK, [userId]);
      const done = await attempt();
      // Only a territory closed between the read and the write (the lock does not cover it) gets here.
      if (!done) throw new RayonError('INVALID_STATE', `user ${userId} changed while collecting; retry`);
      return done;
    });
  });
}

/**
 * `lotExpiry` depends only on the local date, the zone and the expiry days, and costs about half
 * a millisecond of CPU (luxon zone arithmetic) — more than the rest of a collection's own work —
 * so the hot path remembers it per (zone, local date, days).
 */
const expiryMemo = new Map<string, Date>();
function expiryOf(day: string, now: Date, tz: string, days: number): Date {
  const key = `${tz}|${day}|${days}`;
  let at = expiryMemo.get(key);
  if (!at) {
    if (expiryMemo.size > 10_000) expiryMemo.clear();
    at = lotExpiry(now, tz, days);
    expiryMemo.set(key, at);
  }
  return at;
}

/**
 * SPEC "Audit": mutations by a service or admin token (or any named operator) write an audit
 * row; a user acting on their own account (`user:<id>`) is recorded by the ledger row's actor.
 */
export function auditable(actor: string | undefined): boolean {
  return Boolean(actor) && !actor!.startsWith('user:');
}

function toAccount(r: StateRow): Account {
  return {
    userId: r.id,
    territoryCode: r.territory_code,
    timezone: r.timezone,
    territoryState: r.state,
    beta: r.beta,
    balance: r.balance,
    lifetime: r.lifetime_points,
    status: r.status,
    suspended: r.suspended,
  };
}

function streakOf(r: Pick<StateRow, 'current_streak' | 'max_streak' | 'last_check_in' | 'jokers_available'>): StreakState {
  return {
    current: r.current_streak ?? 0,
    max: r.max_streak ?? 0,
    lastCheckIn: r.last_check_in ? String(r.last_check_in).slice(0, 10) : null,
    jokers: r.jokers_available ?? 0,
  };
}

export interface StreakStatus {
  current: number;
  max: number;
  multiplier: number;
  next_points: number;
  collected_today: boolean;
  last_check_in: string | null;
  jokers_available: number;
}

/**
 * The effective streak now: `current` is 0 once broken beyond what the jokers cover;
 * `multiplier` and `next_points` are what a collection now would give (tomorrow's once today's
 * is done), with the bonus of the status held and the scale in force that day. A read: works
 * for suspended users and closed territories too.
 */
export async function streakStatus(db: Knex, userId: string, now: Date): Promise<StreakStatus> {
  const r = await db('users as u')
    .join('territories as t', 't.code', 'u.territory_code')
    .leftJoin('points_balance as b', 'b.user_id', 'u.id')
    .leftJoin('streaks as st', 'st.user_id', 'u.id')
    .where('u.id', userId)
    .first('t.timezone', 'b.status', 'st.current_streak', 'st.max_streak', 'st.last_check_in', 'st.jokers_available');
  if (!r) throw notFound('user', userId);
  const state = streakOf(r);
  const today = localDate(now, r.timezone);
  const todayScale = await scaleAt(db, today);
  const eff = effectiveStreak(state, today, todayScale.document.daily);
  const doc = eff.nextDay === today ? todayScale.document : (await scaleAt(db, eff.nextDay)).document;
  const m100 = m100ForDay(eff.nextStreakDay, doc.daily.multipliers);
  return {
    current: eff.current,
    max: state.max,
    multiplier: m100 / 100,
    next_points: award(doc.daily.base_points, m100, bonusOf(r.status ?? 'bronze', doc.statuses)),
    collected_today: eff.collectedToday,
    last_check_in: state.lastCheckIn,
    jokers_available: state.jokers,
  };
}
