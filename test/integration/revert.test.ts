import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, describeMultiConnection, type TestDb } from '../helpers/db.js';
import { openDb } from '../../src/db/connect.js';
import { makeUsers } from '../helpers/fixtures.js';
import { auditedDebit, correctionsFile, give, ledgerCounts, rejection, storedBalance } from '../helpers/ledger-setup.js';
import { applyCorrections, revert } from '../../src/core/corrections/index.js';
import { expirePoints, verifyLedger } from '../../src/core/ledger/index.js';

let t: TestDb;
const NOW = new Date('2026-11-25T08:00:00Z');
const opts = { reason: 'wrong award', actor: 'ops-bob', now: NOW };

beforeAll(async () => {
  t = await createTestDb();
  await makeUsers(t.db.knex, ['r1', 'r2', 'r3', 'r4', 'r5', 'r6', 'r7', 'r8'].map((id) => ({ id })));
});
afterAll(async () => t?.destroy());

describe('points revert', () => {
  it('a credit: takes back what remains, lifetime and status go down (silver → bronze)', async () => {
    const k = t.db.knex;
    await give(k, 'r1', 300, '2026-11-01T08:00:00Z');
    const a = await give(k, 'r1', 2500, '2026-11-20T08:00:00Z');
    expect(await storedBalance(k, 'r1')).toEqual({ balance: 2800, lifetime_points: 2800, status: 'silver' });
    const r = await revert(k, String(a.transactionId), opts);
    expect(r.items).toHaveLength(1);
    expect(r.items[0]).toMatchObject({ transactionId: a.transactionId, userId: 'r1', type: 'adjustment', amount: 2500, taken: 2500, shortfall: 0, balance: 300, status: 'bronze' });
    expect(await storedBalance(k, 'r1')).toEqual({ balance: 300, lifetime_points: 300, status: 'bronze' });
    const tx = await k('points_transactions').where({ id: r.items[0].revertTransactionId }).first();
    expect([tx.type, tx.amount, Number(tx.reverses_id), tx.actor, tx.reason]).toEqual(['revert', -2500, a.transactionId, 'ops-bob', 'wrong award']);
    // It took back the reverted credit's own lot, not the older one.
    const alloc = await k('lot_allocations as a').join('points_lots as l', 'l.id', 'a.lot_id').where('a.transaction_id', tx.id).select('l.transaction_id', 'a.points');
    expect(alloc.map((x) => [Number(x.transaction_id), x.points])).toEqual([[a.transactionId, 2500]]);
    expect((await verifyLedger(k)).ok).toBe(true);
  });

  it('a credit already partly spent: takes back the rest and reports the shortfall', async () => {
    const k = t.db.knex;
    const a = await give(k, 'r2', 100, '2026-11-01T08:00:00Z');
    await give(k, 'r2', -30, '2026-11-02T08:00:00Z');
    const r = await revert(k, String(a.transactionId), opts);
    expect(r.items[0]).toMatchObject({ taken: 70, shortfall: 30, balance: 0 });
    expect((await storedBalance(k, 'r2')).lifetime_points).toBe(0);
    const rev = await k('transaction_reversals').where({ transaction_id: a.transactionId }).first();
    expect([rev.taken, rev.shortfall, rev.lifetime_delta]).toEqual([70, 30, 100]);
    expect((await verifyLedger(k)).ok).toBe(true);
  });

  it('a debit: comes back as a re-credit expiring at the later of the original lot expiry and now + 30 local days', async () => {
    const k = t.db.knex;
    // Credited 2025-12-01 in Réunion: expires at the start of 2026-12-02 local = 2026-12-01T20:00Z.
    await give(k, 'r3', 100, '2025-12-01T08:00:00Z');
    const d = await give(k, 'r3', -40, '2026-11-20T08:00:00Z');
    const r = await revert(k, String(d.transactionId), opts);
    expect(r.items[0]).toMatchObject({ type: 'adjustment', amount: -40, balance: 100 });
    const tx = await k('points_transactions').where({ id: r.items[0].revertTransactionId }).first();
    expect(tx.amount).toBe(40);
    // 2026-11-25 local + 31 days → start of 2026-12-26 local (UTC+4), later than 2026-12-01T20:00Z.
    expect(new Date(tx.expires_at).toISOString()).toBe('2026-12-25T20:00:00.000Z');
    const lot = await k('points_lots').where({ transaction_id: tx.id }).first();
    expect(lot.recredit).toBe(true);
    // A re-credit is not lifetime points.
    expect(await storedBalance(k, 'r3')).toEqual({ balance: 100, lifetime_points: 100, status: 'bronze' });

    // When the original lot expires later, the re-credit keeps that expiry.
    await give(k, 'r4', 100, '2026-11-01T08:00:00Z'); // expires 2027-11-01T20:00Z
    const d4 = await give(k, 'r4', -10, '2026-11-02T08:00:00Z');
    const r4 = await revert(k, String(d4.transactionId), opts);
    const tx4 = await k('points_transactions').where({ id: r4.items[0].revertTransactionId }).first();
    expect(new Date(tx4.expires_at).toISOString()).toBe('2027-11-01T20:00:00.000Z');
    expect((await verifyLedger(k)).ok).toBe(true);
  });

  it('a batch, atomically, and only once', async () => {
    const k = t.db.knex;
    await give(k, 'r6', 50, '2026-11-01T08:00:00Z');
    const file = await applyCorrections(k, correctionsFile(['r5,2100,promo,,b1', 'r6,-20,duplicate,,b2', 'r5,10,promo,,b3']), { now: NOW, actor: 'ops' });
    expect(await storedBalance(k, 'r5')).toMatchObject({ balance: 2110, status: 'silver' });
    const r = await revert(k, file.batchId!, opts);
    expect(r.target).toBe(file.batchId);
    expect(r.items.map((i) => [i.userId, i.amount, i.taken])).toEqual([
      ['r5', 2100, 2100],
      ['r5', 10, 10],
      ['r6', -20, -20],
    ]);
    expect(await storedBalance(k, 'r5')).toEqual({ balance: 0, lifetime_points: 0, status: 'bronze' });
    expect((await storedBalance(k, 'r6')).balance).toBe(50);
    const revertBatch = await k('correction_batches').where({ kind: 'revert' }).orderBy('created_at', 'desc').first();
    expect(revertBatch).toMatchObject({ rows_total: 3, actor: 'ops-bob', reason: 'wrong award' });
    const reverts = await k('points_transactions').where({ batch_id: revertBatch.id });
    expect(reverts).toHaveLength(3);

    const before = await ledgerCounts(k);
    const again = await rejection(revert(k, file.batchId!, opts));
    expect(again.code).toBe('INVALID_STATE');
    expect(again.message).toMatch(/already reverted/);
    // One transaction of the batch reverted on its own first: the rest is still revertible,
    // and a revert batch cannot itself be reverted.
    expect((await rejection(revert(k, revertBatch.id, opts))).code).toBe('INVALID_STATE');
    expect(await ledgerCounts(k)).toEqual(before);
    expect((await verifyLedger(k)).ok).toBe(true);
  });

  it('a batch revert skips the transactions already reverted one by one', async () => {
    const k = t.db.knex;
    const file = await applyCorrections(k, correctionsFile(['r7,100,promo,,x1', 'r8,100,promo,,x2']), { now: NOW, actor: 'ops' });
    const one = await k('points_transactions').where({ batch_id: file.batchId, user_id: 'r7' }).first('id');
    await revert(k, String(one.id), opts);
    const r = await revert(k, file.batchId!, opts);
    expect(r.items.map((i) => i.userId)).toEqual(['r8']);
    expect(await k('transaction_reversals').whereIn('transaction_id', k('points_transactions').where({ batch_id: file.batchId }).select('id'))).toHaveLength(2);
    expect((await storedBalance(k, 'r7')).balance).toBe(0);
    expect((await storedBalance(k, 'r8')).balance).toBe(0);
  });

  it('twice → INVALID_STATE; redeem/expire/revert types → INVALID_STATE; unknown → NOT_FOUND', async () => {
    const k = t.db.knex;
    await makeUsers(k, [{ id: 'r9' }]);
    const a = await give(k, 'r9', 20, NOW);
    const first = await revert(k, String(a.transactionId), opts);
    const twice = await rejection(revert(k, String(a.transactionId), opts));
    expect(twice.code).toBe('INVALID_STATE');
    expect(twice.message).toBe(`transaction ${a.transactionId} is already reverted`);
    const ofRevert = await rejection(revert(k, String(first.items[0].revertTransactionId), opts));
    expect(ofRevert.code).toBe('INVALID_STATE');
    expect(ofRevert.message).toMatch(/of type revert/);

    // A credit whose lot has expired: the revert expires it first and takes nothing back.
    const old = await give(k, 'r9', 12, '2025-10-01T08:00:00Z');
    const late = await revert(k, String(old.transactionId), opts);
    expect(late.items[0]).toMatchObject({ taken: 0, shortfall: 12, revertTransactionId: null });

    await give(k, 'r9', 15, '2025-10-02T08:00:00Z');
    await expirePoints(k, { asOf: NOW, now: NOW, actor: 'ops' });
    const exp = await k('points_transactions').where({ user_id: 'r9', type: 'expire' }).first('id');
    expect(exp).toBeTruthy();
    const e = await rejection(revert(k, String(exp.id), opts));
    expect(e.code).toBe('INVALID_STATE');
    expect(e.message).toMatch(/of type expire/);

    await give(k, 'r9', 50, NOW);
    await k.transaction(async (trx) => {
      const { lockAccount } = await import('../../src/core/ledger/index.js');
      const acc = await lockAccount(trx, 'r9');
      await auditedDebit(trx, acc, { type: 'redeem', amount: 5, now: NOW, key: 'redeem:test:1' });
    });
    const redeem = await k('points_transactions').where({ user_id: 'r9', type: 'redeem' }).first('id');
    expect((await rejection(revert(k, String(redeem.id), opts))).code).toBe('INVALID_STATE');

    expect((await rejection(revert(k, '999999999', opts))).code).toBe('NOT_FOUND');
    expect((await rejection(revert(k, 'batch_doesnotexist', opts))).code).toBe('NOT_FOUND');
    expect((await rejection(revert(k, 'abc', opts))).code).toBe('VALIDATION_ERROR');
    expect((await rejection(revert(k, String(a.transactionId), { ...opts, reason: ' ' }))).code).toBe('VALIDATION_ERROR');
    expect((await verifyLedger(k)).ok).toBe(true);
  });
});

describeMultiConnection('points revert of a batch is atomic', () => {
  it('when one user of the batch cannot be locked, nothing of the batch is reverted', async () => {
    const k = t.db.knex;
    await makeUsers(k, [{ id: 'ra' }, { id: 'rb' }]);
    const file = await applyCorrections(k, correctionsFile(['ra,100,promo,,y1', 'rb,100,promo,,y2']), { now: NOW, actor: 'ops' });
    const impatient = await openDb({ databaseUrl: t.url, dataDir: '', lockTimeoutMs: 300 });
    const holder = await t.open(2);
    try {
      const before = await ledgerCounts(k);
      await holder.knex.transaction(async (trx) => {
        await trx.raw("select 1 from points_balance where user_id = 'rb' for update");
        const e = await rejection(revert(impatient.knex, file.batchId!, opts));
        expect((e as { code?: string }).code).toBe('55P03'); // lock_not_available, after ra was already reverted in the transaction
      });
      expect(await ledgerCounts(k)).toEqual(before);
      expect((await storedBalance(k, 'ra')).balance).toBe(100);
      const r = await revert(k, file.batchId!, opts);
      expect(r.items.map((i) => i.userId)).toEqual(['ra', 'rb']);
    } finally {
      await impatient.close();
    }
  });
});
