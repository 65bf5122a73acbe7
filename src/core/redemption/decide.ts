import type { Knex } from 'knex';
import { RayonError, notFound } from '../errors.js';
import { audit } from '../audit/index.js';
import { credit, lockAccount } from '../ledger/index.js';
import { scaleAt } from '../scale/index.js';
import { localDate, recreditExpiry } from '../time.js';

/** Ops' decision on a manual redemption: approve or reject it, each exactly once. */

export interface Decision {
  actor: string;
  now: Date;
}

async function decided(trx: Knex.Transaction, id: number, verb: string): Promise<never> {
  const cur = await trx('reward_redemptions').select('status').where({ id }).first();
  if (!cur) throw notFound('redemption', String(id));
  throw new RayonError('INVALID_STATE', `redemption ${id} is ${cur.status}: it cannot be ${verb}`);
}

/**
 * pending → fulfilled, exactly once: the guarded update lets one of two racing operators win.
 * A suspended user's pending redemptions are held (SPEC "Fraud and suspensions"): approving one
 * is ACCOUNT_SUSPENDED unless `force`, which the audit row records. The suspension is read under
 * the user's lock (lock order: user, then redemption), so a suspension committed first is seen.
 */
export async function approveRedemption(db: Knex, id: number, d: Decision & { force?: boolean }) {
  return db.transaction(async (trx) => {
    const red = await trx('reward_redemptions').select('user_id').where({ id }).first();
    if (!red) throw notFound('redemption', String(id));
    const account = await lockAccount(trx, red.user_id);
    if (account.suspended && !d.force) {
      throw new RayonError('ACCOUNT_SUSPENDED', `user ${account.userId} is suspended: redemption ${id} is held (approve it anyway with --force)`);
    }
    const { rows } = await trx.raw(
      `update reward_redemptions set status = 'fulfilled', decided_at = ?, decided_by = ?
        where id = ? and status = 'pending' returning user_id, id, reward_id, points_spent`,
      [d.now, d.actor, id],
    );
    if (rows.length === 0) await decided(trx, id, 'approved');
    const forced = account.suspended && Boolean(d.force);
    await audit(trx, {
      actor: d.actor, action: 'redemption.approve', target: `redemption:${id}`, at: d.now,
      details: { user_id: rows[0].user_id, reward_id: Number(rows[0].reward_id), ...(forced ? { forced: true, user_suspended: true } : {}) },
    });
    return { id, status: 'fulfilled' as const, user_id: rows[0].user_id as string, forced };
  });
}

/**
 * pending → rejected, exactly once: the unit goes back to the stock and the points come back as
 * re-credits, one lot per distinct new expiry (the original lot's, or 30 days from now if later).
 */
export async function rejectRedemption(db: Knex, id: number, d: Decision & { reason: string }) {
  if (!d.reason || !d.reason.trim()) throw new RayonError('VALIDATION_ERROR', 'a reason is required to reject a redemption', { details: [{ where: 'reason', message: 'required' }] });
  return db.transaction(async (trx) => {
    const red = await trx('reward_redemptions').select('user_id').where({ id }).first();
    if (!red) throw notFound('redemption', String(id));
    const account = await lockAccount(trx, red.user_id); // lock order: user, then redemption/reward
    const { rows } = await trx.raw(
      `update reward_redemptions set status = 'rejected', decided_at = ?, decided_by = ?, reason = ?
        where id = ? and status = 'pending' returning user_id, reward_id, points_spent, transaction_id`,
      [d.now, d.actor, d.reason, id],
    );
    if (rows.length === 0) await decided(trx, id, 'rejected');
    const r = rows[0];
    await trx.raw('update rewards set units_taken = units_taken - 1 where id = ?', [r.reward_id]);

    const lots: Array<{ points: number; expires_at: Date }> = await trx('lot_allocations as a')
      .join('points_lots as l', function () {
        this.on('l.user_id', 'a.user_id').andOn('l.id', 'a.lot_id');
      })
      .select('a.points', 'l.expires_at')
      .where({ 'a.user_id': r.user_id, 'a.transaction_id': r.transaction_id });
    const byExpiry = new Map<number, number>();
    for (const l of lots) {
      const exp = recreditExpiry(new Date(l.expires_at), d.now, account.timezone).getTime();
      byExpiry.set(exp, (byExpiry.get(exp) ?? 0) + l.points);
    }
    const scale = await scaleAt(trx, localDate(d.now, account.timezone));
    const refunds: number[] = [];
    for (const [exp, amount] of [...byExpiry].sort((a, b) => a[0] - b[0])) {
      const c = await credit(trx, account, {
        type: 'refund', amount, now: d.now, key: `refund:${r.user_id}:${id}:${exp}`, earning: false, scale, expiresAt: new Date(exp),
        fields: { redemption_id: id, actor: d.actor, reason: d.reason },
      });
      refunds.push(c.transaction.id);
    }
    if (refunds.length) await trx('reward_redemptions').where({ user_id: r.user_id, id }).update({ refund_transaction_id: refunds[0] });
    await audit(trx, {
      actor: d.actor, action: 'redemption.reject', target: `redemption:${id}`, at: d.now,
      details: { user_id: r.user_id, reward_id: Number(r.reward_id), points_refunded: r.points_spent, reason: d.reason, refund_transactions: refunds },
    });
    return { id, status: 'rejected' as const, user_id: r.user_id as string, points_refunded: Number(r.points_spent), balance: account.balance };
  });
}
