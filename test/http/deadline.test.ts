import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Knex } from 'knex';
import { createTestDb, describeMultiConnection, type TestDb } from '../helpers/db.js';
import { makeUser } from '../helpers/fixtures.js';
import { call, makeRewards, startServer, token, type Answer, type Running } from './helpers.js';
import { spawnServe } from './processes.js';
import { verifyLedger } from '../../src/core/ledger/index.js';
import type { Db } from '../../src/db/connect.js';

const NOW = '2026-11-25T08:00:00Z';
const DEADLINE_MS = 800;
let t: TestDb;
let serverDb: Db;
let s: Running;
let svc: string;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(what: string, ok: () => Promise<boolean> | boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`still not true after ${ms} ms: ${what}`);
    await sleep(25);
  }
}

interface TarnPool {
  numUsed(): number;
  numPendingAcquires(): number;
}
const poolOf = (db: Db) => (db.knex.client as { pool: TarnPool }).pool;

/** Server backends of this database waiting for a lock now. */
async function waitingOnLocks(): Promise<number> {
  const r = await t.db.knex.raw(`select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`);
  return r.rows[0].n;
}

/** Everything a request of this user could have written. */
async function written(knex: Knex, userId: string) {
  const count = async (table: string) => Number((await knex(table).where({ user_id: userId }).count({ n: '*' }))[0].n);
  return {
    transactions: await count('points_transactions'),
    lots: await count('points_lots'),
    balance: await knex('points_balance').where({ user_id: userId }).first('balance', 'lifetime_points'),
    streak: await knex('streaks').where({ user_id: userId }).first('current_streak', 'last_check_in'),
    redemptions: await count('reward_redemptions'),
    idempotencyKeys: await count('request_idempotency'),
  };
}

/** A 503 at the request deadline, in the SPEC's shape, answered about when the deadline passed. */
function expectDeadlineAnswer(a: Answer, tookMs: number, deadlineMs = DEADLINE_MS): void {
  expect(a.status).toBe(503);
  expect(a.body).toEqual({ error: { code: 'UNAVAILABLE', message: expect.stringContaining('deadline') } });
  expect(a.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
  expect(tookMs).toBeGreaterThanOrEqual(deadlineMs - 50);
  expect(tookMs).toBeLessThan(deadlineMs + 1500);
}

describeMultiConnection('the request deadline', () => {
  beforeAll(async () => {
    t = await createTestDb();
    serverDb = await t.open(4);
    s = await startServer(serverDb, { now: NOW, limits: { requestTimeoutMs: DEADLINE_MS } });
    svc = await token('platform', 'service');
  });
  afterAll(async () => {
    await s?.close();
    await t?.destroy();
  });

  it('a redeem held up by a row lock answers 503 + Retry-After at the deadline; its transaction rolls back, its connection comes back', async () => {
    await makeUser(t.db.knex, 'held');
    expect((await call(s.url, 'POST', '/api/points/earn', { token: svc, body: { user_id: 'held', action_type: 'listing_created', reference_id: 'l-1' } })).status).toBe(200);
    const [rid] = await makeRewards(t.db.knex, [{ sku: 'HELD', cost: 10, stock: 5 }]);
    const before = await written(t.db.knex, 'held');
    const redeem = async () => call(s.url, 'POST', '/api/rewards/redeem', { token: await token('held'), body: { reward_id: rid }, headers: { 'idempotency-key': 'held-1' } });
    // Another transaction holds the reward's row: the redeem claims its key, locks the account,
    // then waits on the stock update.
    const blocker = await t.db.knex.transaction();
    try {
      await blocker.raw('select id from rewards where id = ? for update', [rid]);
      const started = Date.now();
      const a = await redeem();
      expectDeadlineAnswer(a, Date.now() - started);
      // The waiting statement was cancelled, not left to its lock timeout: the pool is whole again.
      await until('no server statement waits on a lock', async () => (await waitingOnLocks()) === 0, 2000);
      await until('every pooled connection is back', () => poolOf(serverDb).numUsed() === 0, 2000);
    } finally {
      await blocker.commit();
    }
    await sleep(200);
    // Nothing of it was written, not even the Idempotency-Key its transaction claimed first.
    expect(await written(t.db.knex, 'held')).toEqual(before);
    expect((await t.db.knex('rewards').where({ id: rid }).first('units_taken')).units_taken).toBe(0);
    expect((await verifyLedger(t.db.knex, { userId: 'held' })).ok).toBe(true);
    // A retry with the same key redeems, once.
    const retry = await redeem();
    expect(retry.status).toBe(200);
    expect((await written(t.db.knex, 'held')).redemptions).toBe(1);
  });

  it('a daily collection held up by a row lock answers 503 at the deadline and credits nothing once the lock goes', async () => {
    await makeUser(t.db.knex, 'locked');
    const before = await written(t.db.knex, 'locked');
    const tok = await token('locked');
    const blocker = await t.db.knex.transaction();
    try {
      await blocker.raw('select user_id from points_balance where user_id = ? for update', ['locked']);
      const started = Date.now();
      const a = await call(s.url, 'POST', '/api/points/collect-daily', { token: tok });
      expectDeadlineAnswer(a, Date.now() - started);
      await until('no server statement waits on a lock', async () => (await waitingOnLocks()) === 0, 2000);
    } finally {
      await blocker.commit();
    }
    await sleep(300);
    expect(await written(t.db.knex, 'locked')).toEqual(before);
    expect(await t.db.knex('idempotency_keys').where('key', 'like', 'daily:locked:%')).toEqual([]);
    // Retried, it credits once.
    expect((await call(s.url, 'POST', '/api/points/collect-daily', { token: tok })).status).toBe(200);
    expect((await written(t.db.knex, 'locked')).transactions).toBe(1);
  });

  it('a request waiting for a connection of an exhausted pool answers 503 at the deadline and takes none afterwards', async () => {
    await makeUser(t.db.knex, 'waiter');
    const client = serverDb.knex.client as { acquireConnection(): Promise<unknown>; releaseConnection(c: unknown): Promise<unknown> };
    const held = await Promise.all(Array.from({ length: 4 }, () => client.acquireConnection()));
    try {
      const started = Date.now();
      const a = await call(s.url, 'GET', '/api/points/balance', { token: await token('waiter') });
      expectDeadlineAnswer(a, Date.now() - started);
    } finally {
      for (const c of held) await client.releaseConnection(c);
    }
    // The acquire still queued is served, then given back at once: nothing stays borrowed.
    await until('the pool has no borrower and no queue', () => poolOf(serverDb).numUsed() === 0 && poolOf(serverDb).numPendingAcquires() === 0, 2000);
    expect((await call(s.url, 'GET', '/api/points/balance', { token: await token('waiter') })).status).toBe(200);
  });

  it('rayon serve applies RAYON_REQUEST_TIMEOUT_MS', { timeout: 240_000 }, async () => {
    await makeUser(t.db.knex, 'served');
    const p = await spawnServe(t.url as string, { RAYON_NOW: NOW, RAYON_REQUEST_TIMEOUT_MS: '700' });
    const blocker = await t.db.knex.transaction();
    try {
      await blocker.raw('select user_id from points_balance where user_id = ? for update', ['served']);
      const started = Date.now();
      const a = await call(p.url, 'POST', '/api/points/collect-daily', { token: await token('served') });
      expectDeadlineAnswer(a, Date.now() - started, 700);
    } finally {
      await blocker.commit();
      expect(await p.stop()).toBe(0);
    }
    expect((await written(t.db.knex, 'served')).transactions).toBe(0);
  });
});
