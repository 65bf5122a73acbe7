import type { Knex } from 'knex';
import { audit } from '../audit/index.js';
import { credit, lockAccount } from '../ledger/index.js';
import { scaleAt } from '../scale/index.js';
import { localDate, recreditExpiry } from '../time.js';
import { getSuspension, type Suspension } from './list.js';
import { requireReason, type LotPoints } from './suspend.js';

/**
 * `rayon fraud lift`: ends the user's suspension under the user's lock. With `restorePoints`, the
 * suspension's void is given back exactly, lot by lot: one `fraud_restore` row per lot the void
 * took, each a re-credit (SPEC "Ledger": expiring at the later of that lot's expiry and the end
 * of the local day 30 days after the lift; not lifetime points).
 */

export interface LiftInput {
  userId: string;
  reason: string;
  actor: string;
  restorePoints?: boolean;
  now: Date;
}

export interface LiftResult {
  /** True when the user was not suspended: nothing was written. */
  noop: boolean;
  /** The suspension lifted (null on a no-op). */
  suspension: Suspension | null;
  /** One entry per restored lot: the lot the void took and the new re-credit. */
  restored: Array<LotPoints & { transaction_id: number; new_expires_at: Date }>;
  points_restored: number;
  /** Points the suspension voided that stay voided (lifted without --restore-points). */
  points_left_voided: number;
}

export async function liftUser(db: Knex, input: LiftInput): Promise<LiftResult> {
  const reason = requireReason(input.reason);
  const { userId, actor, now } = input;
  return db.transaction(async (trx) => {
    const account = await lockAccount(trx, userId);
    const { rows } = await trx.raw(
      `update suspensions set lifted_at = ?, lifted_by = ?, lift_reason = ?
        where user_id = ? and lifted_at is null returning id, void_transaction_id`,
      [now, actor, reason, userId],
    );
    if (rows.length === 0) return { noop: true, suspension: null, restored: [], points_restored: 0, points_left_voided: 0 };
    const suspensionId = Number(rows[0].id);
    const voidId = rows[0].void_transaction_id == null ? null : Number(rows[0].void_transaction_id);

    const restored: LiftResult['restored'] = [];
    if (input.restorePoints && voidId !== null) {
      const taken: Array<{ lot_id: number; points: number; expires_at: Date }> = await trx('lot_allocations as a')
        .join('points_lots as l', function () {
          this.on('l.user_id', 'a.user_id').andOn('l.id', 'a.lot_id');
        })
        .where({ 'a.user_id': userId, 'a.transaction_id': voidId })
        .orderBy([{ column: 'l.expires_at' }, { column: 'l.id' }])
        .select('a.lot_id', 'a.points', 'l.expires_at');
      const scale = await scaleAt(trx, localDate(now, account.timezone));
      for (const lot of taken) {
        const expiresAt = recreditExpiry(new Date(lot.expires_at), now, account.timezone);
        const c = await credit(trx, account, {
          type: 'fraud_restore', amount: lot.points, now, key: `fraud_restore:${userId}:${voidId}:${lot.lot_id}`, earning: false, scale, expiresAt,
          fields: { reverses_id: voidId, actor, reason },
        });
        restored.push({ lot_id: Number(lot.lot_id), points: lot.points, expires_at: new Date(lot.expires_at), transaction_id: c.transaction.id, new_expires_at: expiresAt });
      }
      if (restored.length) await trx('suspensions').where({ user_id: userId, id: suspensionId }).update({ restore_transaction_id: restored[0].transaction_id });
    }
    const pointsRestored = restored.reduce((s, r) => s + r.points, 0);
    const suspension = await getSuspension(trx, userId, suspensionId);
    await audit(trx, {
      actor, action: 'user.lift', target: userId, at: now,
      details: {
        suspension_id: suspensionId, reason, restore_points: Boolean(input.restorePoints), void_transaction: voidId,
        transaction_ids: restored.map((r) => r.transaction_id), points_restored: pointsRestored,
        lots: restored.map((r) => ({ lot_id: r.lot_id, points: r.points, transaction_id: r.transaction_id, expires_at: r.new_expires_at })),
      },
    });
    return { noop: false, suspension, restored, points_restored: pointsRestored, points_left_voided: suspension.points_voided - pointsRestored };
  });
}
