import type { Knex } from 'knex';
import { RayonError, notFound } from '../errors.js';
import { assertPageDepth } from '../bounds.js';
import type { Redemption } from './redeem.js';

/** Redemptions as ops and the app list them, newest first. */

export interface RedemptionRow extends Omit<Redemption, 'status'> {
  status: 'pending' | 'fulfilled' | 'rejected';
  user_id: string;
  sku: string;
  reward_name: string;
  territory: string;
  decided_at: Date | null;
  decided_by: string | null;
  reason: string | null;
}

export async function listRedemptions(db: Knex, f: { status?: string; userId?: string; page: number; limit: number }) {
  if (f.status && !['pending', 'fulfilled', 'rejected'].includes(f.status)) {
    throw new RayonError('VALIDATION_ERROR', `status must be pending, fulfilled or rejected, got ${JSON.stringify(f.status)}`, { details: [{ where: 'status', message: 'must be pending, fulfilled or rejected' }] });
  }
  checkRedemptionPage(f.page, f.limit);
  const base = () => {
    const q = db('reward_redemptions as x');
    if (f.status) q.where('x.status', f.status);
    if (f.userId) q.where('x.user_id', f.userId);
    return q;
  };
  const [{ n }] = await base().count({ n: '*' });
  const rows = await base()
    .join('rewards as r', 'r.id', 'x.reward_id')
    .select('x.id', 'x.user_id', 'x.reward_id', 'r.sku', 'r.name as reward_name', 'x.status', 'x.points_spent', 'x.voucher_code',
      'x.territory_code as territory', 'x.created_at', 'x.decided_at', 'x.decided_by', 'x.reason')
    .orderBy([{ column: 'x.created_at', order: 'desc' }, { column: 'x.id', order: 'desc' }])
    .limit(f.limit)
    .offset((f.page - 1) * f.limit);
  const items: RedemptionRow[] = rows.map((r: Record<string, unknown>) => ({
    ...(r as unknown as RedemptionRow),
    id: Number(r.id),
    reward_id: Number(r.reward_id),
    created_at: new Date(r.created_at as string),
    decided_at: r.decided_at ? new Date(r.decided_at as string) : null,
  }));
  return { items, page: f.page, limit: f.limit, total: Number(n) };
}

function checkRedemptionPage(page: number, limit: number): void {
  if (!Number.isInteger(page) || page < 1 || !Number.isInteger(limit) || limit < 1 || limit > 1000) {
    throw new RayonError('VALIDATION_ERROR', 'page must be ≥ 1 and limit between 1 and 1000');
  }
  assertPageDepth(page, limit);
}

/** A user's redemptions, newest first (the app's rewards history). Paging is checked before the user is looked up. */
export async function userRedemptions(db: Knex, userId: string, p: { page: number; limit: number }) {
  checkRedemptionPage(p.page, p.limit);
  const u = await db('users').select('id').where({ id: userId }).first();
  if (!u) throw notFound('user', userId);
  return listRedemptions(db, { userId, page: p.page, limit: p.limit });
}
