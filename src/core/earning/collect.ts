import type { Knex } from 'knex';
import { RayonError, notFound } from '../errors.js';
import { assertActive, shownBalance, toAccount } from '../ledger/index.js';
import { cachedScaleVersion, raiseStatus } from '../scale/index.js';
import { auditable } from '../audit/index.js';
import { onConnection, type Query } from '../../db/fast-tx.js';
import { isPostgresPool } from '../../db/handle.js';
import { dailyAward, streakOf, streakTransition } from './streak.js';
import { localDate, lotExpiry } from '../time.js';
import { LOCK, READ_BATCH, READ_STATE, SCALE_AT, WRITE, WRITE_BATCH, type StateRow, type WriteField } from './collect-sql.js';
import { DailyBatches, type BatchStats, type Waiting } from './batches.js';

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
 * same day is refused after the read alone, without a lock or a write. The statements
 * (collect-sql.ts) go straight to a pooled `pg` connection as prepared statements (see
 * src/db/fast-tx.ts). Collections in flight in one process at the same time share those two
 * statements and one commit (see batches.ts).
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

/**
 * Optimistic attempts before the collection takes the balance row lock: under a stream of other
 * writes to the same account (a burst of earns, say) each attempt could find the row changed
 * again; under the lock nothing else writes it, so the last attempt is certain to apply.
 */
const OPTIMISTIC_ATTEMPTS = 3;

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
      current_streak: n.current, max_streak: n.max, last_check_in: n.lastCheckIn, jokers_available: n.jokers, audited: auditable(actor, userId),
    },
    answer: (transactionId, balanceAfter) => ({
      transaction_id: transactionId,
      points_awarded: points,
      balance: shownBalance(balanceAfter, r.due),
      status,
      local_date: day,
      streak: { current: n.current, max: n.max, multiplier: m100 / 100, jokers_available: n.jokers, jokers_used: t.jokersUsed },
    }),
  };
}

/**
 * The version guard already refuses a second collection; the keys are the backstop, unique in the
 * ledger itself (the idempotency key, and one daily row per user and local date) and in
 * idempotency_keys (whichever the statement meets first).
 */
const KEY_CONSTRAINTS = new Set(['points_transactions_user_key_unique', 'points_transactions_daily_user_idx', 'idempotency_keys_pkey']);
function keyClash(err: unknown): boolean {
  const e = err as { code?: string; constraint?: string } | undefined;
  return e?.code === '23505' && KEY_CONSTRAINTS.has(e.constraint ?? '');
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

type Waiter = Waiting<CollectResult>;

/** One scheduler per database (its Knex client), for collections on a PostgreSQL pool. */
const batchers = new WeakMap<object, DailyBatches<CollectResult>>();

/** The batching figures of this process for a database (undefined where collections are not batched). */
export function dailyBatchStats(db: Knex): BatchStats | undefined {
  return batcherFor(db)?.stats;
}

function batcherFor(db: Knex): DailyBatches<CollectResult> | undefined {
  if (!isPostgresPool(db)) return undefined;
  let b = batchers.get(db.client);
  if (!b) {
    b = new DailyBatches(db, {
      writeBatch: (q, batch, settle) => writeBatch(db, q, batch, settle),
      collectOne: (userId, now, actor) => collectOne(db, userId, now, actor),
    });
    batchers.set(db.client, b);
  }
  return b;
}

/**
 * One batch: one read of every user, the rules for each, one write of all those the rules let
 * through. Settles each user it has an answer for; returns those to collect on their own (their
 * guard failed: their account changed since the read).
 */
async function writeBatch(db: Knex, q: Query, batch: Waiter[], settle: (w: Waiter, run: () => CollectResult) => void): Promise<{ again: Waiter[]; written: number }> {
  const { rows } = await q(READ_BATCH, [batch.map((w) => w.userId), batch.map((w) => w.now)]);
  const byUser = new Map((rows as StateRow[]).map((r) => [r.id, r]));
  const planned: Array<{ w: Waiter; p: Planned }> = [];
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
  const again: Waiter[] = [];
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
