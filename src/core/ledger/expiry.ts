import type { Knex } from 'knex';
import { RayonError } from '../errors.js';
import { audit } from '../audit/index.js';
import { lockAccount } from './account.js';
import { expireDueLots } from './post.js';
import { withSessionLock } from '../../db/locks.js';

/**
 * The expiry run: expires every lot remainder whose expiry instant is at or before `asOf`.
 * Idempotent (an expired lot has nothing left), resumable (users are processed in committed
 * batches, so a crash loses at most one batch of work, redone on the next run), and safe when two
 * runs overlap: a session advisory lock makes the second wait, and each user is locked while its
 * lots are expired, so a debit racing the run consumes each point once.
 */
export const EXPIRY_LOCK_KEY = 727_002;

export interface ExpiryOptions {
  asOf: Date;
  now: Date;
  actor: string;
  dryRun?: boolean;
  batchSize?: number;
  onProgress?: (done: { users: number; points: number }) => void;
}

export interface ExpiryResult {
  asOf: Date;
  users: number;
  points: number;
  lots: number;
  batches: number;
  dryRun: boolean;
}

export async function expirePoints(db: Knex, opts: ExpiryOptions): Promise<ExpiryResult> {
  if (opts.asOf.getTime() > opts.now.getTime()) {
    throw new RayonError('VALIDATION_ERROR', `--as-of ${opts.asOf.toISOString()} is later than now (${opts.now.toISOString()}): points cannot expire in advance`);
  }
  if (opts.dryRun) return previewExpiry(db, opts.asOf);
  const batchSize = opts.batchSize ?? 500;
  return withSessionLock(db, EXPIRY_LOCK_KEY, async () => {
    const result: ExpiryResult = { asOf: opts.asOf, users: 0, points: 0, lots: 0, batches: 0, dryRun: false };
    let after = '';
    for (;;) {
      const users: string[] = (
        await db('points_lots')
          .distinct('user_id')
          .where('remaining', '>', 0)
          .andWhere('expires_at', '<=', opts.asOf)
          .andWhere('user_id', '>', after)
          .orderBy('user_id')
          .limit(batchSize)
      ).map((r: { user_id: string }) => r.user_id);
      if (users.length === 0) break;
      after = users[users.length - 1];
      const batch = await db.transaction(async (trx) => {
        let points = 0;
        let lots = 0;
        let touched = 0;
        // The batch's audit row names every row it wrote: `ledger verify` finds each one's record.
        const transactionIds: number[] = [];
        for (const userId of users) {
          const account = await lockAccount(trx, userId);
          const expired = await expireDueLots(trx, account, opts.asOf, opts.actor);
          if (expired.transactionId !== null) {
            touched++;
            points += expired.points;
            lots += expired.lots;
            transactionIds.push(expired.transactionId);
          }
        }
        if (points > 0) {
          await audit(trx, {
            actor: opts.actor, action: 'points.expire', target: null, at: opts.now,
            details: { as_of: opts.asOf.toISOString(), users: touched, points, lots, transaction_ids: transactionIds },
          });
        }
        return { points, lots, touched };
      });
      result.users += batch.touched;
      result.points += batch.points;
      result.lots += batch.lots;
      result.batches++;
      opts.onProgress?.({ users: result.users, points: result.points });
    }
    return result;
  });
}

async function previewExpiry(db: Knex, asOf: Date): Promise<ExpiryResult> {
  const r = (await db('points_lots')
    .where('remaining', '>', 0)
    .andWhere('expires_at', '<=', asOf)
    .first(db.raw('count(distinct user_id)::int as users'), db.raw('coalesce(sum(remaining), 0)::int as points'), db.raw('count(*)::int as lots'))) as {
    users: number;
    points: number;
    lots: number;
  };
  return { asOf, users: r.users, points: r.points, lots: r.lots, batches: 0, dryRun: true };
}
