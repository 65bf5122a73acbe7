import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, type TestDb } from '../helpers/db.js';
import { at, makeUser } from '../helpers/fixtures.js';
import { credit, debit, lockAccount, readBalance } from '../../src/core/ledger/index.js';
import { scaleAt } from '../../src/core/scale/index.js';

let t: TestDb;
beforeAll(async () => {
  t = await createTestDb();
});
afterAll(async () => t?.destroy());

describe('ledger credit and debit', () => {
  it('credits open lots and debits consume them first-expiring-first', async () => {
    const k = t.db.knex;
    await makeUser(k, 'u1');
    const scale = await scaleAt(k, '2026-03-01');
    const r1 = await k.transaction(async (trx) => {
      const acc = await lockAccount(trx, 'u1');
      return credit(trx, acc, { type: 'adjustment', amount: 100, now: at('2026-03-01T10:00:00Z'), key: 'k1', earning: true, scale });
    });
    expect(r1.balance).toBe(100);
    expect(r1.transaction.expires_at?.toISOString()).toBe('2027-03-01T20:00:00.000Z'); // RE is UTC+4
    await k.transaction(async (trx) => {
      const acc = await lockAccount(trx, 'u1');
      return credit(trx, acc, { type: 'adjustment', amount: 50, now: at('2026-02-01T10:00:00Z'), key: 'k2', earning: true, scale });
    });
    const d = await k.transaction(async (trx) => {
      const acc = await lockAccount(trx, 'u1');
      return debit(trx, acc, { type: 'adjustment', amount: 70, now: at('2026-03-02T10:00:00Z'), key: 'k3' });
    });
    expect(d?.balance).toBe(80);
    expect(d?.allocations.map((a) => a.points)).toEqual([50, 20]);
    const replay = await k.transaction(async (trx) => {
      const acc = await lockAccount(trx, 'u1');
      return credit(trx, acc, { type: 'adjustment', amount: 100, now: at('2026-03-01T10:00:00Z'), key: 'k1', earning: true, scale });
    });
    expect(replay.replay).toBe(true);
    expect((await readBalance(k, 'u1', at('2026-03-03T00:00:00Z'))).balance).toBe(80);
    // After the first lot expires, reads no longer count it.
    expect((await readBalance(k, 'u1', at('2027-03-02T00:00:00Z'))).balance).toBe(0);
  });
});
