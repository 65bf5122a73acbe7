import type { Knex } from 'knex';
import { RayonError, notFound } from './errors.js';
import { assertActive, type Account } from './ledger.js';
import { cachedScaleVersion, raiseStatus, scaleAt, bonusOf, award } from './scale.js';
import { onConnection, type Query } from './fast-tx.js';
import { dailyAward, effectiveStreak, m100ForDay, streakTransition, type StreakState } from './streak.js';
import { localDate, lotExpiry } from './time.js';
import { currentScope, runInScope, type WorkScope } from '../db/scope.js';

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
 * straight to a pooled `pg` connection as prepared statements (see fast-tx.ts). Collections in
 * flight in one process at the same time share those two statements and one commit (see
 * DailyBatches below).
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
         (select v.version from scale_versions v
           where v.effective_from <= (${now} at time zone t.timezone)::date
           order by v.effective_from desc, v.version desc limit 1) as scale_version,
         coalesce((select sum(l.remaining) from points_lots l
                    where l.user_id = b.user_id and l.remaining > 0 and l.expires_at <= ${now}), 0)::int as due
    from ${batch ? 'unnest(?::text[], ?::timestamptz[]) as a(user_id, now) join points_balance b on b.user_id = a.user_id' : 'points_balance b'}
    join users u on u.id = b.user_id
    join territories t on t.code = u.territory_code
    left join streaks st on st.user_id = b.user_id
   ${batch ? '' : 'where b.user_id = ?'}`;
}
const READ_STATE = readSql(false);
const READ_BATCH = readSql(true);

// The scale version in force on a local date (same rule as `scaleAt`), on the hot path's connection.
const SCALE_AT = 'select version from scale_versions where effective_from <= ?::date order by effective_from desc, version desc limit 1';

/** The values the write takes for one user, in this order (arrays of them for a batch). */
const WRITE_FIELDS = [
  ['points', 'int'], ['lifetime', 'int'], ['status', 'text'], ['now', 'timestamptz'], ['user_id', 'text'],
  ['row_version', 'text'], ['territory_code', 'text'], ['beta', 'boolean'], ['state', 'text'],
  ['day', 'date'], ['expires_at', 'timestamptz'], ['key', 'text'],
  ['streak_day', 'int'], ['m100', 'int'], ['jokers_used', 'int'], ['bonus_pct', 'int'], ['scale_version', 'int'], ['actor', 'text'],
  ['current_streak', 'int'], ['max_streak', 'int'], ['last_check_in', 'date'], ['jokers_available', 'int'], ['audited', 'boolean'],
] as const;
type WriteField = (typeof WRITE_FIELDS)[number][0];

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
const WRITE = writeSql(false);
const WRITE_BATCH = writeSql(true);

/**
 * Optimistic attempts before the collection takes the balance row lock: under a stream of other
 * writes to the same account (a burst of earns, say) each attempt could find the row changed
 * again; under the lock nothing else writes it, so the last attempt is certain to apply.
 */
const OPTIMISTIC_ATTEMPTS = 3;
const LOCK = 'select 1 from points_balance where user_id = ? for update';

/** What the rules decided for one user from the read: the write's values and the answer. */
interface Planned {
  values: Record<WriteField, unknown>;
  answer: (transactionId: number, balanceAfter: number) => CollectResult;
}

/** The rules on one user's read state: refuses (throws) or gives the write to make. */
async function plan(db: Knex, q: Query, r: StateRow | undefined, userId: string, now: Date, actor: string | undefined): Promise<Planned> {
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
  return {
    values: {
      points, lifetime, status, now, user_id: userId, row_version: r.row_version, territory_code: r.territory_code, beta: r.beta, state: r.state,
      day, expires_at: expiryOf(day, now, r.timezone, doc.expiry_days), key: `daily:${userId}:${day}`,
      streak_day: t.streakDay, m100, jokers_used: t.jokersUsed, bonus_pct: bonusPct, scale_version: scale.version, actor: actor ?? null,
      current_streak: n.current, max_streak: n.max, last_check_in: n.lastCheckIn, jokers_available: n.jokers, audited: auditable(actor),
    },
    answer: (transactionId, balanceAfter) => ({
      transaction_id: transactionId,
      points_awarded: points,
      balance: balanceAfter - r.due,
      status,
      local_date: day,
      streak: { current: n.current, max: n.max, multiplier: m100 / 100, jokers_available: n.jokers, jokers_used: t.jokersUsed },
    }),
  };
}

/** The version guard already refuses a second collection; the key is the backstop. */
function keyClash(err: unknown): boolean {
  const e = err as { code?: string; constraint?: string } | undefined;
  return e?.code === '23505' && e.constraint === 'idempotency_keys_pkey';
}

/**
 * Collect a user's daily points. On PostgreSQL (outside a caller's transaction) the collection
 * joins the collections of other users in flight in this process: while a batch is being
 * written, the next requests gather, and the next batch reads and writes them all in two
 * statements and one commit — the same rules, the same guarded write, one user at a time in
 * the arrays. A user whose guard fails, or a batch whose statement fails, is collected again on
 * their own, as below. With nobody else collecting, a batch is a batch of one.
 */
export async function collectDaily(db: Knex, userId: string, now: Date, opts: { actor?: string } = {}): Promise<CollectResult> {
  const batches = batcherFor(db);
  return batches ? batches.collect(userId, now, opts.actor) : collectOne(db, userId, now, opts.actor);
}

/** One user's collection on its own: read, rules, guarded write; the lock after a few misses. */
async function collectOne(db: Knex, userId: string, now: Date, actor: string | undefined): Promise<CollectResult> {
  return onConnection(db, async (q, transaction) => {
    /** One read, the rules, one guarded write; null when the account changed in between. */
    const attempt = async (): Promise<CollectResult | null> => {
      const { rows } = await q(READ_STATE, [now, now, now, userId]);
      const p = await plan(db, q, rows[0] as StateRow | undefined, userId, now, actor);
      const w = await q(WRITE.sql, WRITE.order.map((f) => p.values[f])).catch((err: unknown) => {
        if (keyClash(err)) throw new RayonError('ALREADY_COLLECTED', `user ${userId} already collected the daily points of ${String(p.values.day)}`);
        throw err;
      });
      const out = w.rows[0];
      return out ? p.answer(Number(out.id), out.balance) : null;
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

interface Waiting {
  userId: string;
  now: Date;
  actor: string | undefined;
  resolve: (r: CollectResult) => void;
  reject: (e: unknown) => void;
  settled: boolean;
  /** The caller's request: once its deadline passes, it is not collected any more (unless already in a batch being written). */
  scope: WorkScope | undefined;
}

/** Users per batch, and batches written at once (each on its own pooled connection). */
const MAX_BATCH = 100;
// One: batches then gather the most users, and one batch never waits for another's rows.
// Measured with bench:http round 1: one in flight 3,060-3,595 req/s, p99 31.6-40.1 ms, PostgreSQL
// 103-131 µs per collection; two in flight (commit 23154ed) 2,137-2,689 req/s, p99 49.5-54.9 ms,
// 191-224 µs. A batch does not wait on row locks (it skips locked rows) and the users it leaves
// are collected outside it, so the one slot cannot be held up by another transaction.
const MAX_IN_FLIGHT = 1;
/**
 * Collections collected on their own at once in the process, after a batch left them (guard
 * missed, row held by another transaction, batch failed): below the HTTP pool's 8 connections.
 */
const ALONE_AT_ONCE = 4;
/** Collections waiting beyond this are refused as UNAVAILABLE (the database is not keeping up). */
const MAX_WAITING = 20_000;

const batchers = new WeakMap<object, DailyBatches>();

/** The batching figures of this process for a database (undefined where collections are not batched). */
export function dailyBatchStats(db: Knex): DailyBatches['stats'] | undefined {
  return batcherFor(db)?.stats;
}

function batcherFor(db: Knex): DailyBatches | undefined {
  if ((db as Knex & { isTransaction?: boolean }).isTransaction || (db.client as { config?: { client?: unknown } }).config?.client !== 'pg') return undefined;
  let b = batchers.get(db.client);
  if (!b) batchers.set(db.client, (b = new DailyBatches(db)));
  return b;
}

/**
 * The collections waiting in this process, written a batch at a time. No timer: a batch starts
 * as soon as no other is being written (MAX_IN_FLIGHT), with whoever is waiting — alone, a
 * collection is a batch of one. A user is in at most one batch at a time (a second request
 * waits for the first to be written, then reads it and is refused as already collected). The
 * next batch may start once a batch's two statements are done; those it could not write
 * (guard missed, row held by another transaction, statement failed) are then collected on their
 * own, a few at a time, outside any batch.
 */
class DailyBatches {
  /** What the batches did so far in this process (tests, diagnostics). */
  readonly stats = {
    /** Batches, those of two users or more, and the users in them. */
    batches: 0,
    severalUsers: 0,
    batchedUsers: 0,
    /** Users a batch wrote, and users collected on their own after a batch (guard missed, row locked, batch failed). */
    batchWritten: 0,
    alone: 0,
    /** Batches whose statements failed as a whole, and the last reason. */
    failedBatches: 0,
    lastFailure: '',
    /** Collections waiting for a batch now; collected alone now, and waiting for that. */
    waiting: 0,
    aloneRunning: 0,
    aloneWaiting: 0,
  };
  private waiting: Waiting[] = [];
  private inFlight = 0;
  private readonly busy = new Set<string>();
  private alone: Waiting[] = [];
  private aloneRunning = 0;
  constructor(private readonly db: Knex) {}

  collect(userId: string, now: Date, actor: string | undefined): Promise<CollectResult> {
    if (this.waiting.length >= MAX_WAITING) {
      return Promise.reject(new RayonError('UNAVAILABLE', `${this.waiting.length} daily collections are already waiting; retry shortly`));
    }
    return new Promise((resolve, reject) => {
      this.waiting.push({ userId, now, actor, resolve, reject, settled: false, scope: currentScope() });
      this.pump();
      this.stats.waiting = this.waiting.length;
    });
  }

  private pump(): void {
    while (this.inFlight < MAX_IN_FLIGHT && this.waiting.length > 0) {
      const batch: Waiting[] = [];
      const rest: Waiting[] = [];
      const users = new Set<string>();
      for (const w of this.waiting) {
        if (w.scope?.aborted) {
          this.settle(w, () => {
            throw w.scope!.reason;
          });
        } else if (batch.length < MAX_BATCH && !this.busy.has(w.userId) && !users.has(w.userId)) {
          batch.push(w);
          users.add(w.userId);
        } else rest.push(w);
      }
      this.waiting = rest;
      this.stats.waiting = rest.length;
      if (batch.length === 0) return; // only users already being written: they go next
      for (const u of users) this.busy.add(u);
      this.inFlight++;
      // A batch serves several requests: no one request's deadline may stop it.
      void runInScope(undefined, () => this.write(batch));
    }
  }

  /** Never rejects: every caller's promise is settled here, exactly once. */
  private async write(batch: Waiting[]): Promise<void> {
    let again: Waiting[] = [];
    try {
      again = await this.writeMany(batch);
    } catch (err) {
      for (const w of batch) if (!w.settled) this.settle(w, () => { throw err; }); // not expected: writeMany settles or returns them
    }
    // Everyone settled is done; those left (`again`) stay busy until collected alone.
    for (const w of batch) if (w.settled) this.busy.delete(w.userId);
    this.inFlight--;
    // Those the batch could not write wait for their turn alone; they stay busy until then.
    this.alone.push(...again);
    this.runAlone();
    this.pump();
  }

  /**
   * Users collected on their own after a batch, at most ALONE_AT_ONCE at a time in the whole
   * process: each may wait for a row another transaction holds, on a pooled connection, and
   * the pool must keep connections for the batches and the other routes.
   */
  private runAlone(): void {
    while (this.aloneRunning < ALONE_AT_ONCE && this.alone.length > 0) {
      const w = this.alone.shift()!;
      this.aloneRunning++;
      // Alone, the collection is its caller's own work again, stopped at the caller's deadline.
      void runInScope(w.scope, () => collectOne(this.db, w.userId, w.now, w.actor))
        .then(w.resolve, w.reject)
        .finally(() => {
          w.settled = true;
          this.aloneRunning--;
          this.busy.delete(w.userId);
          this.runAlone();
          this.pump(); // this user's next request may be waiting
        });
    }
    this.stats.aloneRunning = this.aloneRunning;
    this.stats.aloneWaiting = this.alone.length;
  }

  /** Settle one caller with what `run` returns or throws. */
  private settle(w: Waiting, run: () => CollectResult): void {
    try {
      w.resolve(run());
    } catch (err) {
      w.reject(err);
    }
    w.settled = true;
  }

  /** No connection to be had: everyone waiting would get the same answer after the same wait. */
  private refuseWaiting(err: unknown): void {
    const waiting = this.waiting;
    this.waiting = [];
    this.stats.waiting = 0;
    for (const w of waiting) this.settle(w, () => { throw err; });
  }

  /**
   * The batch's two statements. Settles everyone it has an answer for and returns those to
   * collect on their own. If no connection can be had, everyone is refused with that error
   * (trying each alone would only queue more for the pool); if a statement fails (a key written
   * by another process, a timeout…), nothing of it was written and everyone left goes alone.
   */
  private async writeMany(batch: Waiting[]): Promise<Waiting[]> {
    this.stats.batches++;
    if (batch.length > 1) this.stats.severalUsers++;
    this.stats.batchedUsers += batch.length;
    const settle = (w: Waiting, run: () => CollectResult) => this.settle(w, run);
    let statementFailed = false;
    try {
      return await onConnection(this.db, async (q) => {
        try {
          const { again, written } = await writeBatch(this.db, q, batch, settle);
          this.stats.batchWritten += written;
          this.stats.alone += again.length;
          return again;
        } catch (err) {
          statementFailed = true;
          this.stats.failedBatches++;
          this.stats.lastFailure = err instanceof Error ? err.message : String(err);
          const again = batch.filter((w) => !w.settled);
          this.stats.alone += again.length;
          return again;
        }
      });
    } catch (err) {
      if (statementFailed) throw err;
      // No connection (pool exhausted, database unreachable): the same answer for everyone left,
      // and for everyone waiting behind them, rather than one such wait per batch.
      for (const w of batch) if (!w.settled) settle(w, () => { throw err; });
      this.refuseWaiting(err);
      return [];
    }
  }
}

/**
 * One batch: one read of every user, the rules for each, one write of all those the rules let
 * through. Settles each user it has an answer for; returns those to collect on their own (their
 * guard failed: their account changed since the read).
 */
async function writeBatch(db: Knex, q: Query, batch: Waiting[], settle: (w: Waiting, run: () => CollectResult) => void): Promise<{ again: Waiting[]; written: number }> {
  const { rows } = await q(READ_BATCH, [batch.map((w) => w.userId), batch.map((w) => w.now)]);
  const byUser = new Map((rows as StateRow[]).map((r) => [r.id, r]));
  const planned: Array<{ w: Waiting; p: Planned }> = [];
  for (const w of batch) {
    try {
      planned.push({ w, p: await plan(db, q, byUser.get(w.userId), w.userId, w.now, w.actor) });
    } catch (err) {
      settle(w, () => {
        throw err;
      });
    }
  }
  if (planned.length === 0) return { again: [], written: 0 };
  const { rows: writtenRows } = await q(WRITE_BATCH.sql, WRITE_BATCH.order.map((f) => planned.map(({ p }) => p.values[f])));
  const byWritten = new Map((writtenRows as Array<{ user_id: string; id: string | number; balance: number }>).map((o) => [o.user_id, o]));
  const again: Waiting[] = [];
  for (const { w, p } of planned) {
    const out = byWritten.get(w.userId);
    if (out) settle(w, () => p.answer(Number(out.id), out.balance));
    else again.push(w);
  }
  return { again, written: planned.length - again.length };
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
