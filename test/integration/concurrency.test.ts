import crypto from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { createTestDb, describeMultiConnection, type TestDb } from '../helpers/db.js';
import { makeUsers } from '../helpers/fixtures.js';
import { auditedDebit, correctionsFile, give, storedBalance } from '../helpers/ledger-setup.js';
import { withDatabase } from '../helpers/global-setup.js';
import { openDb, type Db } from '../../src/db/connect.js';
import { migrateLatest, migrationStatus } from '../../src/db/migrate.js';
import { lockAccount, expirePoints, verifyLedger } from '../../src/core/ledger/index.js';
import { applyCorrections } from '../../src/core/corrections/index.js';
import { RayonError } from '../../src/core/errors.js';

let t: TestDb;
const NOW = new Date('2026-11-25T08:00:00Z');

beforeAll(async () => {
  t = await createTestDb(2);
});
afterAll(async () => t?.destroy());

/**
 * A pool of 30 real connections for one test, closed right after: the server's
 * max_connections is shared with every other test file and benchmark running at the time.
 */
async function withPool<T>(fn: (k: Db['knex']) => Promise<T>): Promise<T> {
  const p = await t.open(30);
  try {
    return await fn(p.knex);
  } finally {
    await p.close();
  }
}

/** Start every task at once, on its own connection, and collect fulfilled values and error codes. */
async function race<T>(tasks: Array<() => Promise<T>>) {
  const settled = await Promise.allSettled(tasks.map((f) => f()));
  const ok = settled.filter((s): s is PromiseFulfilledResult<Awaited<T>> => s.status === 'fulfilled').map((s) => s.value);
  const errors = settled.filter((s): s is PromiseRejectedResult => s.status === 'rejected').map((s) => (s.reason instanceof RayonError ? s.reason.code : String(s.reason)));
  return { ok, errors };
}

describeMultiConnection('concurrency on PostgreSQL (real parallel connections)', () => {
  it('50 parallel debits on one user never overdraw: exactly floor(balance / amount) succeed', () =>
    withPool(async (k) => {
      await makeUsers(k, [{ id: 'p1' }]);
      // Three lots, so the debits also race over FIFO consumption across lots.
      await give(k, 'p1', 400, '2026-03-01T08:00:00Z');
      await give(k, 'p1', 350, '2026-06-01T08:00:00Z');
      await give(k, 'p1', 250, NOW);
      const amount = 30;
      const { ok, errors } = await race(
        Array.from({ length: 50 }, (_, i) => () =>
          k.transaction(async (trx) => {
            const acc = await lockAccount(trx, 'p1');
            return auditedDebit(trx, acc, { type: 'adjustment', amount, now: NOW, key: `race:p1:${i}` });
          }),
        ),
      );
      expect(ok).toHaveLength(Math.floor(1000 / amount)); // 33
      expect(errors).toEqual(Array(50 - 33).fill('INSUFFICIENT_BALANCE'));
      expect((await storedBalance(k, 'p1')).balance).toBe(1000 - 33 * amount);
      // Balances seen by the successful debits are all distinct: they were serialised.
      expect(new Set(ok.map((r) => r!.balance)).size).toBe(33);
      const v = await verifyLedger(k);
      expect(v.discrepancies).toEqual([]);
      expect(v.ok).toBe(true);
    }));

  it('an expiry run racing debits on lots expiring now consumes each point once', () =>
    withPool(async (k) => {
      const users = Array.from({ length: 12 }, (_, i) => `x${String(i).padStart(2, '0')}`);
      await makeUsers(k, users.map((id) => ({ id })));
      for (const u of users) {
        await give(k, u, 100, '2025-11-24T08:00:00Z'); // expires 2026-11-24T20:00Z: due at NOW
        await give(k, u, 60, '2026-10-01T08:00:00Z');
      }
      const initial = users.length * 160;
      const debits = users.flatMap((u) =>
        Array.from({ length: 4 }, (_, i) => () =>
          k.transaction(async (trx) => auditedDebit(trx, await lockAccount(trx, u), { type: 'adjustment', amount: 20, now: NOW, key: `race:${u}:${i}` })),
        ),
      );
      const runs = [0, 1].map(() => () => expirePoints(k, { asOf: NOW, now: NOW, actor: 'cron', batchSize: 3 }));
      const interleaved = [...debits.slice(0, 20), runs[0], ...debits.slice(20), runs[1]];
      const { errors } = await race<unknown>(interleaved);
      // 4 debits of 20 per user over 60 spendable points: exactly one refused per user.
      expect(errors).toEqual(Array(users.length).fill('INSUFFICIENT_BALANCE'));
      const { rows } = await k.raw(
        `select type, sum(amount)::int as total, count(*)::int as n from points_transactions where user_id = any(?) and amount < 0 group by type order by type`,
        [users],
      );
      const expired = -rows.find((r: { type: string }) => r.type === 'expire').total;
      const debited = -rows.find((r: { type: string }) => r.type === 'adjustment').total;
      expect(expired).toBe(users.length * 100);
      expect(debited).toBe(users.length * 60);
      expect(expired + debited).toBe(initial);
      // Each due lot expired once: one expire row per user.
      expect(rows.find((r: { type: string }) => r.type === 'expire').n).toBe(users.length);
      for (const u of users) expect((await storedBalance(k, u)).balance).toBe(0);
      expect((await verifyLedger(k)).ok).toBe(true);
    }));

  it('two applyCorrections of the same file at once apply it once', () =>
    withPool(async (k) => {
      await makeUsers(k, [{ id: 'q1' }, { id: 'q2' }, { id: 'q3' }]);
      await give(k, 'q3', 100, NOW);
      const file = correctionsFile(['q1,100,promo,,z1', 'q2,200,promo,,z2', 'q3,-50,dup,,z3']);
      const { ok, errors } = await race([0, 1].map(() => () => applyCorrections(k, file, { now: NOW, actor: 'ops' })));
      expect(errors).toEqual([]);
      expect(ok).toHaveLength(2);
      // Once in the ledger…
      const txs = await k('points_transactions').whereIn('idempotency_key', ['correct:q1:z1', 'correct:q2:z2', 'correct:q3:z3']);
      expect(txs).toHaveLength(3);
      expect([(await storedBalance(k, 'q1')).balance, (await storedBalance(k, 'q2')).balance, (await storedBalance(k, 'q3')).balance]).toEqual([100, 200, 50]);
      // …and once in what the two runs report: the rows applied (not replays) add up to the file.
      const reported = ok.flatMap((r) => r.applied.filter((a) => !a.replay && a.applied !== 0));
      expect(reported.map((a) => a.ref).sort()).toEqual(['z1', 'z2', 'z3']);
      // The run that came second wrote no batch of its own.
      expect(await k('correction_batches').where({ file_sha256: file.sha256 }).count({ n: '*' }).first()).toEqual({ n: 1 });
      expect((await verifyLedger(k)).ok).toBe(true);
    }));

  it('two migrateLatest at once on a fresh empty database apply each migration once', async () => {
    const info = inject('testDb');
    if (info.mode !== 'postgres') throw new Error('unreachable: describeMultiConnection runs on PostgreSQL only');
    const name = `rayon_t_mig_${crypto.randomBytes(5).toString('hex')}`;
    const admin = new pg.Client({ connectionString: info.url });
    await admin.connect();
    await admin.query(`create database ${name}`);
    const url = withDatabase(info.url, name);
    const a = await openDb({ databaseUrl: url, dataDir: '' });
    const b = await openDb({ databaseUrl: url, dataDir: '' });
    try {
      const [ra, rb] = await Promise.all([migrateLatest(a), migrateLatest(b)]);
      const st = await migrationStatus(a);
      expect(st.pending).toEqual([]);
      expect(st.applied.length).toBeGreaterThanOrEqual(2);
      // One run applied everything, the other waited and found nothing to do.
      expect([ra, rb].map((r) => r.length).sort((x, y) => x - y)).toEqual([0, st.applied.length]);
      const { rows } = await a.knex.raw('select name, count(*)::int as n from knex_migrations group by name order by name');
      expect(rows.map((r: { name: string }) => r.name)).toEqual(st.applied);
      expect(rows.every((r: { n: number }) => r.n === 1)).toBe(true);
      expect((await a.knex('territories').where({ state: 'open' }).pluck('code'))).toEqual(['RE']);
    } finally {
      await a.close();
      await b.close();
      await admin.query(`drop database if exists ${name} with (force)`);
      await admin.end();
    }
  });
});
