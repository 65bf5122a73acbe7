import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Knex } from 'knex';
import { createTestDb, type TestDb } from '../helpers/db.js';
import { makeUsers } from '../helpers/fixtures.js';
import { auditedDebit, give, ledgerCounts, rejection } from '../helpers/ledger-setup.js';
import { credit, lockAccount, verifyLedger } from '../../src/core/ledger/index.js';
import { scaleAt } from '../../src/core/scale/index.js';
import * as guards from '../../migrations/20261203000080_ledger_guards.js';

/**
 * Migration 20261203000080 (any database, as the owner): idempotency keys are insert-only and a
 * ledger key is unique per user in the ledger itself; and `ledger verify` fails on a ledger row
 * that has no audit row when the audit rule says it needs one.
 */

let t: TestDb;
const NOW = new Date('2026-11-25T08:00:00Z');

beforeAll(async () => {
  t = await createTestDb();
  await makeUsers(t.db.knex, [{ id: 'g1' }, { id: 'g2' }]);
  await give(t.db.knex, 'g1', 100, NOW);
  await give(t.db.knex, 'g2', 30, NOW);
});
afterAll(async () => t?.destroy());

/** Run `fn` in a transaction that is always rolled back (the test leaves nothing behind). */
async function rolledBack(fn: (trx: Knex.Transaction) => Promise<void>): Promise<void> {
  const done = new Error('rollback');
  await t.db.knex
    .transaction(async (trx) => {
      await fn(trx);
      throw done;
    })
    .catch((e) => {
      if (e !== done) throw e;
    });
}

describe('idempotency keys are insert-only, even for the owner', () => {
  it('UPDATE, DELETE and TRUNCATE of idempotency_keys are refused by the trigger', async () => {
    const k = t.db.knex;
    const before = await ledgerCounts(k);
    expect(before.keys).toBe(2);
    for (const op of [
      () => k('idempotency_keys').update({ key: 'tampered' }),
      () => k('idempotency_keys').where({ user_id: 'g1' }).delete(),
      () => k.raw('truncate idempotency_keys'),
    ]) {
      const e = await rejection(op());
      expect(e.message).toMatch(/table idempotency_keys is append-only: (UPDATE|DELETE|TRUNCATE) refused/);
      expect((e as { code?: string }).code).toBe('0A000');
    }
    expect(await ledgerCounts(k)).toEqual(before);
  });

  it('a second ledger row with the same (user_id, idempotency_key) is refused by the unique index', async () => {
    const k = t.db.knex;
    const first = await k('points_transactions').where({ user_id: 'g1' }).first();
    const { id: _id, ...copy } = first;
    const e = await rejection(k('points_transactions').insert({ ...copy, amount: 1 }));
    expect(e).toMatchObject({ code: '23505', constraint: 'points_transactions_user_key_unique' });
    // Another user may use the same key text: the key is unique per user.
    await rolledBack(async (trx) => {
      await trx('points_transactions').insert({ ...copy, user_id: 'g2', amount: 1 });
    });
  });

  it('down removes the guards and touches no row; up puts them back and names duplicates it cannot index', async () => {
    await rolledBack(async (trx) => {
      const before = await ledgerCounts(trx);
      await guards.down(trx);
      expect(await ledgerCounts(trx)).toEqual(before);
      await trx.transaction(async (sp) => {
        expect(await sp('idempotency_keys').where({ user_id: 'g2' }).update({ created_at: NOW })).toBe(1);
        throw new Error('undo');
      }).catch(() => undefined);
      const row = await trx('points_transactions').where({ user_id: 'g2' }).first();
      const { id: _id, ...copy } = row;
      await trx('points_transactions').insert({ ...copy, amount: 5 });
      const e = await rejection(guards.up(trx));
      expect(e.message).toMatch(new RegExp(`repeats idempotency keys.*g2 ${copy.idempotency_key} \\(2 rows\\)`));
    });
    // Rolled back: the guards are in place again.
    expect((await rejection(t.db.knex('idempotency_keys').update({ key: 'x' }))).message).toMatch(/append-only/);
  });
});

describe('ledger verify: every ledger row has an audit row or a reason not to', () => {
  it('a clean ledger: every row audited', async () => {
    const v = await verifyLedger(t.db.knex);
    expect(v.ok).toBe(true);
    expect(v.checks.find((c) => c.name === 'ledger_rows_audited')).toMatchObject({ problems: 0 });
    expect(v.audit).toEqual([{ type: 'adjustment', rows: 2, audited: 2, self: 0, inline_expiry: 0, legacy_expiry: 0, missing: 0 }]);
  });

  it('an operator credit without its audit row, or a "user" row acting on someone else, fails the check (exit 5 for the CLI)', async () => {
    await rolledBack(async (trx) => {
      const scale = await scaleAt(trx, '2026-11-25');
      const opRow = await credit(trx, await lockAccount(trx, 'g1'), {
        type: 'adjustment', amount: 7, now: NOW, key: 'adjust:unaudited', earning: true, scale, fields: { actor: 'ops' },
      });
      // An earn recorded as a user's own, but on another user's account: not exempt.
      const foreign = await credit(trx, await lockAccount(trx, 'g2'), {
        type: 'earn', amount: 10, now: NOW, key: 'earn:g2:review_posted:x', earning: true, scale,
        fields: { action_type: 'review_posted', reference_id: 'x', actor: 'user:g1' },
      });
      // A user's own earn is exempt: the ledger row and its key are the record.
      await credit(trx, await lockAccount(trx, 'g2'), {
        type: 'earn', amount: 10, now: NOW, key: 'earn:g2:review_posted:y', earning: true, scale,
        fields: { action_type: 'review_posted', reference_id: 'y', actor: 'user:g2' },
      });
      const v = await verifyLedger(trx);
      expect(v.ok).toBe(false);
      expect(v.checks.filter((c) => c.problems > 0).map((c) => c.name)).toEqual(['ledger_rows_audited']);
      const byId = [...v.discrepancies].sort((a, b) => Number(a.detail.transaction_id) - Number(b.detail.transaction_id));
      expect(byId).toEqual([
        { check: 'ledger_rows_audited', user_id: 'g1', detail: { transaction_id: opRow.transaction.id, type: 'adjustment', actor: 'ops' } },
        { check: 'ledger_rows_audited', user_id: 'g2', detail: { transaction_id: foreign.transaction.id, type: 'earn', actor: 'user:g1' } },
      ]);
      expect(v.audit).toEqual([
        { type: 'adjustment', rows: 3, audited: 2, self: 0, inline_expiry: 0, legacy_expiry: 0, missing: 1 },
        { type: 'earn', rows: 2, audited: 0, self: 1, inline_expiry: 0, legacy_expiry: 0, missing: 1 },
      ]);
      // Per user, too.
      expect((await verifyLedger(trx, { userId: 'g1' })).audit).toEqual([
        { type: 'adjustment', rows: 2, audited: 1, self: 0, inline_expiry: 0, legacy_expiry: 0, missing: 1 },
      ]);
    });
  });
});

describe('an allocation carries its lot credit instant (migration 20261203000120)', () => {
  it('a debit writes each allocation with its lot instant; another instant, or none, is refused by the database', async () => {
    await rolledBack(async (trx) => {
      const account = await lockAccount(trx, 'g1');
      await auditedDebit(trx, account, { type: 'redeem', amount: 40, now: new Date('2026-11-26T08:00:00Z'), key: 'guard-redeem-1' });
      const rows = await trx('lot_allocations as a')
        .join('points_lots as l', (j) => j.on('l.user_id', 'a.user_id').andOn('l.id', 'a.lot_id'))
        .where('a.user_id', 'g1')
        .select('a.lot_credited_at', 'l.credited_at', 'l.transaction_id as credit_id', 'a.lot_id');
      expect(rows).toHaveLength(1);
      expect(new Date(rows[0].lot_credited_at).toISOString()).toBe(new Date(rows[0].credited_at).toISOString());

      // a new (transaction, lot) pair, so only the credit instant can be what is refused
      const insert = (credited: Date | null) =>
        trx.raw('insert into lot_allocations (user_id, transaction_id, lot_id, points, lot_credited_at) values (?, ?, ?, 1, ?)', ['g1', rows[0].credit_id, rows[0].lot_id, credited]);
      const wrong = await rejection(trx.raw('savepoint s').then(() => insert(new Date('2026-01-01T00:00:00Z'))));
      expect([wrong.code, wrong.message]).toEqual(['23503', expect.stringMatching(/lot_allocations_lot_fkey/)]);
      await trx.raw('rollback to savepoint s');
      const none = await rejection(insert(null));
      expect([none.code, none.message]).toEqual(['23502', expect.stringMatching(/lot_credited_at/)]);
    });
  });
});
