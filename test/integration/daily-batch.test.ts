import { afterAll, beforeAll, expect, it } from 'vitest';
import knexPkg, { type Knex } from 'knex';
import { createTestDb, describePostgresOnly, type TestDb } from '../helpers/db.js';
import { at, makeUsers } from '../helpers/fixtures.js';
import { collectDaily, dailyBatchStats, earn } from '../../src/core/earning/index.js';
import { RayonError } from '../../src/core/errors.js';
import { verifyLedger, lockAccount } from '../../src/core/ledger/index.js';

/**
 * Daily collections batched per process (src/core/earning/batches.ts): many users collecting at once are
 * read and written a batch at a time. Each user keeps their own answer, refusal and guard; a
 * failed batch falls back to one collection per user.
 */

const { knex } = knexPkg as unknown as { knex: typeof knexPkg };

let t: TestDb;
let k: Knex;
beforeAll(async () => {
  t = await createTestDb(8);
  k = t.db.knex;
});
afterAll(async () => t?.destroy());

const DAY = at('2026-07-01T06:00:00Z');
const ids = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(3, '0')}`);

async function all(calls: Array<() => Promise<unknown>>) {
  const results = await Promise.allSettled(calls.map((c) => c()));
  for (const r of results) if (r.status === 'rejected' && !(r.reason instanceof RayonError)) throw r.reason;
  return results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as RayonError).code));
}

describePostgresOnly('daily collection batches', 'collections are batched only on PostgreSQL (the embedded database runs them one at a time)', () => {
  it('200 users collecting at once: batches of several users, each credited once with their own answer', async () => {
    const users = ids('b', 200);
    await makeUsers(k, users.map((id) => ({ id })));
    const before = { ...dailyBatchStats(k)! };
    const results = (await all(users.map((u) => () => collectDaily(k, u, DAY, { actor: `user:${u}` })))) as Array<{ transaction_id: number; balance: number; points_awarded: number }>;
    const after = dailyBatchStats(k)!;
    // Written by batch statements, not by the one-at-a-time fallback: the first caller is a batch
    // of one while the others gather behind it; no batch failed.
    expect(after.failedBatches).toBe(before.failedBatches);
    expect(after.batchWritten - before.batchWritten).toBeGreaterThanOrEqual(190);
    expect(after.alone - before.alone).toBe(0);

    const rows = await k('points_transactions').whereIn('user_id', users).where({ type: 'daily' }).select('id', 'user_id', 'amount');
    expect(rows).toHaveLength(200);
    const byId = new Map(rows.map((r) => [Number(r.id), r]));
    results.forEach((r, i) => {
      expect(byId.get(r.transaction_id)?.user_id).toBe(users[i]); // each answer is the user's own credit
      expect(r).toMatchObject({ points_awarded: 10, balance: 10 });
    });
    expect(await k('streaks').whereIn('user_id', users).where({ current_streak: 1, last_check_in: '2026-07-01' }).count({ n: '*' })).toEqual([{ n: 200 }]);
    expect((await verifyLedger(k)).ok).toBe(true);
  });

  it('collections by a service in a batch are audited one row per user; a user collecting for themselves is not', async () => {
    const users = ids('a', 30);
    await makeUsers(k, users.map((id) => ({ id })));
    const before = { ...dailyBatchStats(k)! };
    const out = (await all(users.map((u, i) => () => collectDaily(k, u, DAY, { actor: i % 2 === 0 ? 'service:app' : `user:${u}` })))) as Array<{ transaction_id: number }>;
    expect(dailyBatchStats(k)!.batchWritten - before.batchWritten).toBeGreaterThanOrEqual(25);
    expect(dailyBatchStats(k)!.failedBatches).toBe(before.failedBatches);
    const audited = await k('audit_log').where({ action: 'points.collect_daily' }).whereIn('target', users).select('actor', 'target', 'details');
    expect(audited.map((a) => a.target).sort()).toEqual(users.filter((_, i) => i % 2 === 0));
    for (const a of audited) {
      const i = users.indexOf(a.target);
      expect(a.actor).toBe('service:app');
      expect(a.details).toEqual({ transaction_id: out[i].transaction_id, points: 10 });
    }
    const actors = await k('points_transactions').whereIn('user_id', users).where({ type: 'daily' }).select('user_id', 'actor');
    for (const r of actors) expect(r.actor).toBe(users.indexOf(r.user_id) % 2 === 0 ? 'service:app' : `user:${r.user_id}`);
  });

  it('refusals stay with their user: unknown, suspended, closed territory and a second request of one user, among others credited', async () => {
    const users = ids('m', 20);
    await makeUsers(k, [...users.map((id) => ({ id })), { id: 'm-closed', territory: 'GP' }]);
    await k('suspensions').insert({ user_id: users[7], reason: 'test', actor: 'ops', started_at: at('2026-06-01T00:00:00Z') });
    const callers = [...users, 'nobody', 'm-closed', users[3]];
    const before = { ...dailyBatchStats(k)! };
    const out = await all(callers.map((u) => () => collectDaily(k, u, DAY, { actor: `user:${u}` })));
    expect(dailyBatchStats(k)!.failedBatches).toBe(before.failedBatches);
    expect(dailyBatchStats(k)!.batchWritten - before.batchWritten).toBeGreaterThanOrEqual(15);
    expect(out[7]).toBe('ACCOUNT_SUSPENDED');
    expect(out[20]).toBe('NOT_FOUND');
    expect(out[21]).toBe('TERRITORY_NOT_LAUNCHED');
    // users[3] asked twice: one answer is the credit, the other is refused.
    expect([out[3], out[22]].filter((o) => o === 'ALREADY_COLLECTED')).toHaveLength(1);
    const credited = await k('points_transactions').whereIn('user_id', [...users, 'm-closed']).where({ type: 'daily' }).pluck('user_id');
    expect(credited.sort()).toEqual(users.filter((_, i) => i !== 7));
  });

  it('a batch whose statement fails (a key another process wrote) falls back to one collection per user', async () => {
    const users = ids('f', 12);
    await makeUsers(k, users.map((id) => ({ id })));
    // A key for today's collection of f005 exists while f005's streak does not show today (a
    // state the collection itself never leaves, made here by hand): the read lets f005 through,
    // the batch's insert hits the unique key and the whole statement fails.
    const [tx] = await k('points_transactions')
      .insert({ user_id: 'f005', type: 'adjustment', amount: 1, created_at: DAY, local_date: '2026-07-01', territory_code: 'RE', actor: 'test', reason: 'key holder', idempotency_key: 'daily:f005:2026-07-01' })
      .returning('id');
    await k('idempotency_keys').insert({ user_id: 'f005', key: 'daily:f005:2026-07-01', transaction_id: tx.id, created_at: DAY });
    await k('audit_log').insert({ actor: 'test', action: 'test.setup', target: 'f005', details: JSON.stringify({ transaction_id: tx.id }) });
    await k('points_lots').insert({ user_id: 'f005', transaction_id: tx.id, amount: 1, remaining: 1, credited_at: DAY, expires_at: at('2027-07-01T00:00:00Z'), recredit: false });
    await k('points_balance').where({ user_id: 'f005' }).update({ balance: 1, lifetime_points: 1 });
    const before = { ...dailyBatchStats(k)! };
    const out = await all(users.map((u) => () => collectDaily(k, u, DAY, { actor: `user:${u}` })));
    expect(dailyBatchStats(k)!.failedBatches).toBeGreaterThan(before.failedBatches);
    expect(out[5]).toBe('ALREADY_COLLECTED');
    out.forEach((o, i) => i !== 5 && expect(o).toMatchObject({ points_awarded: 10 }));
    expect(await k('points_transactions').whereIn('user_id', users).where({ type: 'daily' }).count({ n: '*' })).toEqual([{ n: 11 }]);
    expect((await verifyLedger(k)).ok).toBe(true);
  });

  it('a balance row locked by another transaction holds up only its own user, not the batch', async () => {
    const users = ids('l', 10);
    await makeUsers(k, users.map((id) => ({ id })));
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let locked!: () => void;
    const isLocked = new Promise<void>((r) => (locked = r));
    const holder = k.transaction(async (trx) => {
      await lockAccount(trx, 'l004'); // as an expiry run or a correction file holds accounts
      locked();
      await released;
    });
    await isLocked;
    const before = { ...dailyBatchStats(k)! };
    const pending = users.map((u) => collectDaily(k, u, DAY, { actor: `user:${u}` }));
    let heldDone = false;
    void pending[4].then(() => (heldDone = true), () => (heldDone = true));
    const others = await Promise.all(pending.filter((_, i) => i !== 4));
    expect(others.map((o) => o.points_awarded)).toEqual(Array(9).fill(10));
    expect(heldDone).toBe(false); // still waiting for that one row
    const after = dailyBatchStats(k)!;
    expect(after.batchWritten - before.batchWritten).toBeGreaterThanOrEqual(6);
    expect(after.alone - before.alone).toBe(1); // the locked user, skipped by the batch
    release();
    await holder;
    expect(await pending[4]).toMatchObject({ points_awarded: 10 });
    expect(await k('points_transactions').whereIn('user_id', users).where({ type: 'daily' }).count({ n: '*' })).toEqual([{ n: 10 }]);
  });

  it('no connection to be had: everyone in the batch gets that error at once, nobody is retried alone', async () => {
    const users = ids('p', 6);
    await makeUsers(k, users.map((id) => ({ id })));
    // A process whose only pooled connection is busy, with a short wait for one.
    const quiet = () => undefined;
    const small = knex({ client: 'pg', connection: t.url, pool: { min: 0, max: 1 }, acquireConnectionTimeout: 300, log: { warn: quiet, error: quiet, debug: quiet, deprecate: quiet } });
    // Opening the pool's one connection may itself take longer than 300 ms on a loaded machine.
    let busy: Knex.Transaction | undefined;
    for (let i = 0; !busy; i++) {
      busy = await small.transaction().catch((err: Error) => {
        if (err.name !== 'KnexTimeoutError' || i >= 20) throw err;
        return undefined;
      });
    }
    try {
      const before = { ...dailyBatchStats(small)! };
      const out = await Promise.allSettled(users.map((u) => collectDaily(small, u, DAY, { actor: `user:${u}` })));
      expect(out.map((o) => o.status)).toEqual(Array(6).fill('rejected'));
      for (const o of out) expect((o as PromiseRejectedResult).reason.name).toBe('KnexTimeoutError');
      const after = dailyBatchStats(small)!;
      // The first caller's batch waited for a connection in vain; everyone waiting behind it got
      // the same answer at once rather than one such wait per batch.
      expect(after.batches - before.batches).toBe(1);
      expect(after.waiting).toBe(0);
      expect(after.alone).toBe(before.alone);
      expect(after.failedBatches).toBe(before.failedBatches);
    } finally {
      await busy.rollback();
      await small.destroy();
    }
    expect(await k('points_transactions').whereIn('user_id', users)).toEqual([]);
  });

  it('users left by batches are collected alone at most four at a time in the process', async () => {
    const held = ids('h', 10);
    const free = ids('g', 10);
    await makeUsers(k, [...held, ...free].map((id) => ({ id })));
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let locked!: () => void;
    const isLocked = new Promise<void>((r) => (locked = r));
    // As a correction file holds every account it touches until it commits.
    const holder = k.transaction(async (trx) => {
      for (const u of held) await lockAccount(trx, u);
      locked();
      await released;
    });
    await isLocked;
    const pending = [...held, ...free].map((u) => collectDaily(k, u, DAY, { actor: `user:${u}` }));
    expect((await Promise.all(pending.slice(10))).map((o) => o.points_awarded)).toEqual(Array(10).fill(10)); // the free ones, meanwhile
    for (let i = 0; i < 100 && dailyBatchStats(k)!.aloneRunning + dailyBatchStats(k)!.aloneWaiting < 10; i++) await new Promise((r) => setTimeout(r, 20));
    expect(dailyBatchStats(k)).toMatchObject({ aloneRunning: 4, aloneWaiting: 6 });
    release();
    await holder;
    expect((await Promise.all(pending.slice(0, 10))).map((o) => o.points_awarded)).toEqual(Array(10).fill(10));
    expect(dailyBatchStats(k)).toMatchObject({ aloneRunning: 0, aloneWaiting: 0 });
  });

  it('earns racing batched collections on the same users: one daily credit each, balances match the ledger', async () => {
    const users = ids('r', 40);
    await makeUsers(k, users.map((id) => ({ id })));
    const calls = users.flatMap((u, i) => [
      () => collectDaily(k, u, DAY, { actor: `user:${u}` }),
      () => earn(k, u, 'transaction_completed', `order-${i}-a`, DAY, { actor: 'service:marketplace' }),
      () => earn(k, u, 'transaction_completed', `order-${i}-b`, DAY, { actor: 'service:marketplace' }),
    ]);
    const out = await all(calls);
    expect(out.filter((o) => typeof o === 'string')).toEqual([]);
    const daily = await k('points_transactions').whereIn('user_id', users).where({ type: 'daily' }).select('user_id');
    expect(new Set(daily.map((d) => d.user_id)).size).toBe(40);
    expect(daily).toHaveLength(40);
    expect((await verifyLedger(k)).ok).toBe(true);
  });
});
