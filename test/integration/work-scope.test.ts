import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDb, describeMultiConnection, type TestDb } from '../helpers/db.js';
import { RayonError } from '../../src/core/errors.js';
import { WorkScope, guardPool, runInScope } from '../../src/db/scope.js';
import type { Db } from '../../src/db/connect.js';

// A request's database work stops at its deadline (src/db/scope.ts): what is stopped rolls back,
// and the pool gets its connection back clean. One pooled connection, so "clean" is visible: the
// next user of the pool gets the very connection the stopped work had.
let t: TestDb;
let db: Db;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const stopped = () => new RayonError('UNAVAILABLE', 'stopped at the deadline');
const ids = async () => (await t.db.knex('scope_probe').orderBy('id').pluck('id')).map(Number);
const openTransactions = async () =>
  Number((await t.db.knex.raw(`select count(*) as n from pg_stat_activity where datname = current_database() and state like 'idle in transaction%'`)).rows[0].n);
interface Pool {
  numUsed(): number;
  numPendingAcquires(): number;
}
const pool = () => (db.knex.client as { pool: Pool }).pool;

describeMultiConnection('work scopes', () => {
  beforeAll(async () => {
    t = await createTestDb();
    await t.db.knex.raw('create table scope_probe (id int primary key, v text)');
    db = await t.open(1);
    guardPool(db.knex);
  });
  afterAll(async () => {
    await t?.destroy();
  });

  it('a transaction stopped between two statements rolls back; other work is untouched; the connection comes back clean', async () => {
    const scope = new WorkScope();
    const reason = stopped();
    const work = runInScope(scope, () =>
      db.knex.transaction(async (trx) => {
        await trx('scope_probe').insert({ id: 1, v: 'first' });
        scope.abort(reason);
        await trx('scope_probe').insert({ id: 2, v: 'second' });
      }),
    );
    await expect(work).rejects.toBe(reason);
    expect(await ids()).toEqual([]);
    await runInScope(new WorkScope(), async () => db.knex('scope_probe').insert({ id: 3, v: 'another scope' }));
    await db.knex('scope_probe').insert({ id: 4, v: 'no scope' });
    expect(await ids()).toEqual([3, 4]); // committed, seen from another connection
    expect(await openTransactions()).toBe(0);
    await t.db.knex('scope_probe').del();
  });

  it('a COMMIT not yet sent when the scope stops is never sent: the transaction is rolled back before the connection goes back', async () => {
    const scope = new WorkScope();
    const reason = stopped();
    const work = runInScope(scope, () =>
      db.knex.transaction(async (trx) => {
        await trx('scope_probe').insert({ id: 5, v: 'all done but the commit' });
        scope.abort(reason);
      }),
    );
    await expect(work).rejects.toBe(reason);
    expect(await ids()).toEqual([]);
    expect(await openTransactions()).toBe(0);
    await db.knex('scope_probe').insert({ id: 6, v: 'next user of the connection' });
    expect(await ids()).toEqual([6]);
    await t.db.knex('scope_probe').del();
  });

  it('a statement waiting on a lock is cancelled at once, and its connection is not lent again', async () => {
    await t.db.knex('scope_probe').insert({ id: 7, v: 'original' });
    const blocker = await t.db.knex.transaction();
    try {
      await blocker.raw('select id from scope_probe where id = 7 for update');
      const scope = new WorkScope();
      const work = runInScope(scope, async () => db.knex('scope_probe').where({ id: 7 }).update({ v: 'too late' }));
      await sleep(200);
      const started = Date.now();
      scope.abort(stopped());
      await expect(work).rejects.toMatchObject({ code: '57014' }); // canceling statement due to user request
      expect(Date.now() - started).toBeLessThan(1500);
    } finally {
      await blocker.commit();
    }
    expect((await t.db.knex('scope_probe').where({ id: 7 }).first()).v).toBe('original');
    const pids = new Set<number>();
    for (let i = 0; i < 2; i++) pids.add((await db.knex.raw('select pg_backend_pid() as pid')).rows[0].pid);
    expect(pids.size).toBe(1); // a new connection, kept from then on
    await t.db.knex('scope_probe').del();
  });

  it('an acquire waiting for a connection fails when its scope stops, and the connection it would have had goes back', async () => {
    const client = db.knex.client as { acquireConnection(): Promise<unknown>; releaseConnection(c: unknown): Promise<unknown> };
    const held = await client.acquireConnection();
    const scope = new WorkScope();
    const reason = stopped();
    const work = runInScope(scope, async () => db.knex.raw('select 1'));
    await sleep(100);
    expect(pool().numPendingAcquires()).toBe(1);
    scope.abort(reason);
    await expect(work).rejects.toBe(reason);
    await client.releaseConnection(held);
    for (let i = 0; i < 100 && (pool().numUsed() > 0 || pool().numPendingAcquires() > 0); i++) await sleep(10);
    expect(pool().numUsed()).toBe(0);
    expect(pool().numPendingAcquires()).toBe(0);
    expect((await db.knex.raw('select 1 as one')).rows[0].one).toBe(1);
  });
});
