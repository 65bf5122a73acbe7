import type { Knex } from 'knex';
import { RayonError, notFound } from '../errors.js';
import { audit } from '../audit/index.js';
import { debit, lockAccount } from '../ledger/index.js';
import { markCasesActioned } from './cases.js';
import { getSuspension, type Suspension } from './list.js';

/**
 * `rayon fraud suspend` (SPEC "Fraud and suspensions"): one transaction under the user's lock
 * (lock order: user first). The suspension row blocks collecting, earning and redeeming at once:
 * every one of those paths reads it after taking the same lock. With `voidPoints`, one
 * `fraud_void` debit takes the whole balance first-expiring-first, and its allocations record
 * every lot it took, which is what `liftUser` gives back.
 */

export interface SuspendInput {
  userId: string;
  reason: string;
  actor: string;
  /** The fraud case acted on: it must exist and be about this user. */
  caseId?: number;
  voidPoints?: boolean;
  now: Date;
}

export interface LotPoints {
  lot_id: number;
  points: number;
  expires_at: Date;
}

export interface SuspendResult {
  /** True when the user was already suspended: nothing was written. */
  noop: boolean;
  suspension: Suspension;
  /** The void written by this call, null without --void-points or with nothing left to take. */
  voided: { transaction_id: number; points: number; lots: LotPoints[] } | null;
  /** Open cases of the user marked actioned by this suspension. */
  cases_actioned: number[];
}

export function requireReason(reason: string | undefined): string {
  if (!reason?.trim()) throw new RayonError('VALIDATION_ERROR', '--reason is required', { details: [{ where: '--reason', message: 'required' }] });
  return reason.trim();
}

export async function suspendUser(db: Knex, input: SuspendInput): Promise<SuspendResult> {
  const reason = requireReason(input.reason);
  const { userId, actor, now } = input;
  return db.transaction(async (trx) => {
    const account = await lockAccount(trx, userId);
    if (input.caseId !== undefined) await assertCaseOf(trx, input.caseId, userId);
    // Under the lock a second operator sees the first one's suspension; without it (a writer
    // that skipped the lock) the unique partial index still lets one row in, and this one yields.
    const { rows } = account.suspended
      ? { rows: [] }
      : await trx.raw(
          `insert into suspensions (user_id, reason, actor, started_at) values (?, ?, ?, ?)
           on conflict (user_id) where lifted_at is null do nothing
           returning id`,
          [userId, reason, actor, now],
        );
    if (rows.length === 0) {
      const current = await trx('suspensions').where({ user_id: userId }).whereNull('lifted_at').first('id');
      return { noop: true, suspension: await getSuspension(trx, userId, Number(current.id)), voided: null, cases_actioned: [] };
    }
    const suspensionId = Number(rows[0].id);
    const casesActioned = await markCasesActioned(trx, userId, now);

    let voided: SuspendResult['voided'] = null;
    if (input.voidPoints && account.balance > 0) {
      // Clamped: due lots are expired first (they are not the user's to lose twice); the void
      // takes whatever is left, possibly nothing.
      const d = await debit(trx, account, {
        type: 'fraud_void', amount: account.balance, clamp: true, now, key: `fraud_void:${userId}:${suspensionId}`,
        fields: { actor, reason },
      });
      if (d) {
        const expiries = await lotExpiries(trx, userId, d.allocations.map((a) => a.lotId));
        voided = {
          transaction_id: d.transaction.id,
          points: -d.transaction.amount,
          lots: d.allocations.map((a) => ({ lot_id: a.lotId, points: a.points, expires_at: expiries.get(a.lotId)! })),
        };
        await trx('suspensions').where({ user_id: userId, id: suspensionId }).update({ void_transaction_id: voided.transaction_id });
      }
    }
    // The audit row is also where the suspension's case is kept (the suspensions table has no
    // column for it): `listSuspensions` reads it from there.
    await audit(trx, {
      actor, action: 'user.suspend', target: userId, at: now,
      details: {
        suspension_id: suspensionId, reason, case_id: input.caseId ?? null, cases_actioned: casesActioned,
        void_points: Boolean(input.voidPoints),
        transaction_id: voided?.transaction_id ?? null, points_voided: voided?.points ?? 0,
        lots: voided?.lots.map((l) => ({ lot_id: l.lot_id, points: l.points })) ?? [],
      },
    });
    return { noop: false, suspension: await getSuspension(trx, userId, suspensionId), voided, cases_actioned: casesActioned };
  });
}

async function assertCaseOf(trx: Knex.Transaction, caseId: number, userId: string): Promise<void> {
  const c = await trx('fraud_cases').where({ id: caseId }).first('user_id');
  if (!c) throw notFound('fraud case', String(caseId));
  if (c.user_id !== userId) {
    throw new RayonError('VALIDATION_ERROR', `fraud case ${caseId} is about ${c.user_id}, not ${userId}`, { details: [{ where: '--case', message: `case ${caseId} is about ${c.user_id}` }] });
  }
}

export async function lotExpiries(db: Knex, userId: string, lotIds: number[]): Promise<Map<number, Date>> {
  const rows: Array<{ id: number; expires_at: Date }> = await db('points_lots').where({ user_id: userId }).whereIn('id', lotIds).select('id', 'expires_at');
  return new Map(rows.map((r) => [Number(r.id), new Date(r.expires_at)]));
}
