import type { Knex } from 'knex';
import { adjustPoints, parseCorrectionsCsv } from '../../src/core/corrections/index.js';
import { debit, readBalance, type Account, type DebitSpec } from '../../src/core/ledger/index.js';
import { audit } from '../../src/core/audit/index.js';

/** Give (or take) points to a user at a business instant, as a one-off adjustment batch. */
export async function give(knex: Knex, userId: string, amount: number, now: string | Date, opts: { clamp?: boolean } = {}) {
  return adjustPoints(knex, { userId, amount, reason: 'test setup', clamp: opts.clamp }, { now: new Date(now), actor: 'test' });
}

/**
 * A debit made straight through the ledger primitive, attributed and audited in the same
 * transaction as every caller of it must (SPEC "Audit"; `ledger verify` checks it).
 */
export async function auditedDebit(trx: Knex.Transaction, account: Account, spec: DebitSpec) {
  const r = await debit(trx, account, { ...spec, fields: { actor: 'test', ...spec.fields } });
  if (r && !r.replay) await audit(trx, { actor: 'test', action: 'test.debit', target: account.userId, details: { transaction_id: r.transaction.id } });
  return r;
}

/** A corrections file parsed from CSV lines (header included by the caller or added). */
export function correctionsFile(lines: string[], name = 'corrections.csv') {
  const text = ['user_id,amount,reason,ticket,ref', ...lines].join('\n') + '\n';
  return parseCorrectionsCsv(Buffer.from(text, 'utf8'), name);
}

/** Row counts of the tables a ledger write touches: equal before and after means nothing was written. */
export async function ledgerCounts(knex: Knex) {
  const { rows } = await knex.raw(`select
      (select count(*) from points_transactions)::int as transactions,
      (select count(*) from points_lots)::int as lots,
      (select count(*) from lot_allocations)::int as allocations,
      (select count(*) from idempotency_keys)::int as keys,
      (select count(*) from correction_batches)::int as batches,
      (select count(*) from transaction_reversals)::int as reversals,
      (select count(*) from audit_log)::int as audit,
      (select coalesce(sum(balance), 0)::int from points_balance) as balances`);
  return rows[0] as Record<string, number>;
}

export async function balanceOf(knex: Knex, userId: string, now: string | Date = '2026-11-25T08:00:00Z') {
  return readBalance(knex, userId, new Date(now));
}

/** Stored projection, without hiding due lots. */
export async function storedBalance(knex: Knex, userId: string) {
  return (await knex('points_balance').where({ user_id: userId }).first('balance', 'lifetime_points', 'status')) as { balance: number; lifetime_points: number; status: string };
}

/** The error a promise rejects with (fails the test if it resolves). */
export async function rejection(p: Promise<unknown>): Promise<Error & { code?: string; details?: Array<{ where: string; message: string }> }> {
  try {
    await p;
  } catch (e) {
    return e as Error & { code?: string };
  }
  throw new Error('expected the operation to be refused, it succeeded');
}
