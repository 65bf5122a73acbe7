import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Knex } from 'knex';
import { createTestDb, describeMultiConnection, onPostgres, type TestDb } from '../helpers/db.js';
import { at, makeUser, makeUsers } from '../helpers/fixtures.js';
import { collectDaily, earn } from '../../src/core/earning/index.js';
import { RayonError } from '../../src/core/errors.js';
import { lockAccount } from '../../src/core/ledger/index.js';
import { parseAssignment, planScaleSet, writeScaleVersion } from '../../src/core/scale/index.js';
import type { Db } from '../../src/db/connect.js';

/**
 * Exactly-once under real parallel connections: the database decides (balance row lock, unique
 * idempotency keys), so these hold with several server processes too. Two pools stand for two
 * processes.
 */

let t: TestDb;
let pools: Db[] = [];
let k: Knex;
beforeAll(async () => {
  t = await createTestDb(15);
  k = t.db.knex;
  if (onPostgres()) pools = [t.db, await t.open(15)];
});
afterAll(async () => t?.destroy());

const N = 100;

async function settle<T>(work: (db: Knex, i: number) => Promise<T>) {
  const results = await Promise.allSettled(Array.from({ length: N }, (_, i) => work(pools[i % pools.length].knex, i)));
  const ok = results.filter((r): r is PromiseFulfilledResult<Awaited<T>> => r.status === 'fulfilled').map((r) => r.value);
  const errors = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason);
  for (const e of errors) if (!(e instanceof RayonError)) throw e; // no deadlock, no unique violation leaking out
  return { ok, codes: errors.map((e: RayonError) => e.code) };
}

describeMultiConnection('earning under concurrency', () => {
  it(`${N} parallel collect-daily for one user on one local day: one credit`, async () => {
    await makeUser(k, 'c1');
    const { ok, codes } = await settle((db) => collectDaily(db, 'c1', at('2026-07-01T06:00:00Z')));
    expect(ok).toHaveLength(1);
    expect(codes).toEqual(Array(N - 1).fill('ALREADY_COLLECTED'));
    const rows = await k('points_transactions').where({ user_id: 'c1' });
    expect(rows).toHaveLength(1);
    expect(await k('points_balance').where({ user_id: 'c1' }).first()).toMatchObject({ balance: 10, lifetime_points: 10 });
    expect(await k('streaks').where({ user_id: 'c1' }).first()).toMatchObject({ current_streak: 1, last_check_in: '2026-07-01' });
  });

  it(`${N} parallel earns with the same reference: one credit, the others are replays of it`, async () => {
    await makeUser(k, 'c2');
    const { ok, codes } = await settle((db) => earn(db, 'c2', 'transaction_completed', 'order-1', at('2026-07-01T06:00:00Z')));
    expect(codes).toEqual([]);
    expect(ok.filter((r) => !r.replay)).toHaveLength(1);
    expect(new Set(ok.map((r) => r.transaction_id)).size).toBe(1);
    expect(await k('points_transactions').where({ user_id: 'c2' })).toHaveLength(1);
    expect((await k('points_balance').where({ user_id: 'c2' }).first()).balance).toBe(50);
  });

  it('parallel earns with distinct references at a daily cap of 5: exactly 5 credits', async () => {
    await makeUser(k, 'c3');
    const { ok, codes } = await settle((db, i) => earn(db, 'c3', 'review_posted', `review-${i}`, at('2026-07-01T06:00:00Z')));
    expect(ok).toHaveLength(5);
    expect(codes).toEqual(Array(N - 5).fill('CAP_REACHED'));
    expect(await k('points_transactions').where({ user_id: 'c3' })).toHaveLength(5);
    expect(await k('refused_earns').where({ user_id: 'c3', reason: 'CAP_REACHED' })).toHaveLength(N - 5);
  });

  it('a collection racing earns on the same account is retried on its fresh state: credited once, nothing lost', async () => {
    // The collection writes without a lock, guarded on the balance row it read; every earn that
    // commits in between makes it start again from a fresh read.
    await makeUser(k, 'race-mix');
    const now = at('2026-07-02T06:00:00Z');
    const work = [
      ...Array.from({ length: 40 }, (_, i) => () => earn(pools[i % 2].knex, 'race-mix', 'transaction_completed', `order-${i}`, now)),
      ...Array.from({ length: 10 }, (_, i) => () => collectDaily(pools[i % 2].knex, 'race-mix', now)),
    ];
    const results = await Promise.allSettled(work.map((w) => w()));
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => (r.reason as RayonError).code);
    // 10 transaction_completed a day (cap) + 1 collection; the rest refused with their reason.
    expect(failed.sort()).toEqual([...Array(30).fill('CAP_REACHED'), ...Array(9).fill('ALREADY_COLLECTED')].sort());
    const rows = await k('points_transactions').where({ user_id: 'race-mix' });
    expect(rows.filter((r) => r.type === 'daily')).toHaveLength(1);
    expect(rows.filter((r) => r.type === 'earn')).toHaveLength(10);
    const b = await k('points_balance').where({ user_id: 'race-mix' }).first();
    expect(b).toMatchObject({ balance: 10 * 50 + 10, lifetime_points: 10 * 50 + 10 });
    expect(await k('streaks').where({ user_id: 'race-mix' }).first()).toMatchObject({ current_streak: 1, last_check_in: '2026-07-02' });
  });

  it('a collection under a burst of writes to its account still gets through (the last attempt holds the row lock)', async () => {
    // Each earn, credited or refused at its cap, rewrites the balance row under lockAccount, so
    // optimistic attempts can keep missing; the locked attempt cannot.
    await makeUser(k, 'burst');
    const now = at('2026-07-02T06:00:00Z');
    const results = await Promise.allSettled([
      ...Array.from({ length: 150 }, (_, i) => earn(pools[i % 2].knex, 'burst', 'review_posted', `burst-${i}`, now)),
      ...Array.from({ length: 5 }, (_, i) => collectDaily(pools[i % 2].knex, 'burst', now)),
    ]);
    const collects = results.slice(150);
    expect(collects.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(collects.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => (r.reason as RayonError).code)).toEqual(Array(4).fill('ALREADY_COLLECTED'));
    expect(await k('points_transactions').where({ user_id: 'burst', type: 'daily' })).toHaveLength(1);
  });

  it('many users collecting at once: each credited exactly once, balances match the ledger', async () => {
    const users = Array.from({ length: 200 }, (_, i) => `many-${i}`);
    await makeUsers(k, users.map((id) => ({ id })));
    const now = at('2026-07-02T06:00:00Z');
    // Every user twice, once through each pool (two processes, each batching its own).
    const results = await Promise.allSettled([...users, ...users].map((u, i) => collectDaily(pools[(i + Math.floor(i / users.length)) % pools.length].knex, u, now)));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(users.length);
    const bad = await k.raw(
      `select b.user_id from points_balance b
        where b.user_id like 'many-%'
          and b.balance <> (select coalesce(sum(amount), 0) from points_transactions t where t.user_id = b.user_id)`,
    );
    expect(bad.rows).toEqual([]);
  });

  it('a suspension committed while a collection or an earn waits for the account lock refuses them', async () => {
    for (const [user, op] of [
      ['susp-collect', (db: Knex) => collectDaily(db, 'susp-collect', at('2026-07-03T06:00:00Z'))],
      ['susp-earn', (db: Knex) => earn(db, 'susp-earn', 'review_posted', 'r-1', at('2026-07-03T06:00:00Z'))],
    ] as const) {
      await makeUser(k, user);
      const suspender = await pools[0].knex.transaction();
      // Suspending takes the account lock the way every account writer does (lockAccount).
      await lockAccount(suspender, user);
      await suspender('suspensions').insert({ user_id: user, reason: 'fraud', actor: 'ops', started_at: at('2026-07-03T05:00:00Z') });
      const pending = op(pools[1].knex).then(() => 'OK', (e: RayonError) => e.code);
      await new Promise((r) => setTimeout(r, 300)); // the operation is now waiting for the row lock
      await suspender.commit();
      expect(await pending).toBe('ACCOUNT_SUSPENDED');
      expect(await k('points_transactions').where({ user_id: user })).toHaveLength(0);
    }
  });

  it('two scale changes at once take consecutive versions', async () => {
    const now = at('2026-11-25T09:00:00Z');
    const [a, b] = await Promise.all(
      [pools[0], pools[1]].map(async (p, i) => {
        const plan = await planScaleSet(p.knex, [parseAssignment(`expiry_days=${400 + i}`)], '2026-12-01', now);
        return writeScaleVersion(p.knex, plan, { reason: `race ${i}`, actor: 'pm', now, via: 'set' });
      }),
    );
    expect(Math.abs(a.version - b.version)).toBe(1);
  });
});
