import type { Knex } from 'knex';
import { notFound } from '../errors.js';

/** Reads of a user's points outside any lock (the app, support): lots past their expiry never count. */

/** Balance as a reader should see it at `now`: without lots already past their expiry. */
export async function readBalance(db: Knex, userId: string, now: Date) {
  const { rows } = await db.raw(
    `select b.balance, b.lifetime_points, b.status,
            coalesce((select sum(remaining) from points_lots l
                       where l.user_id = b.user_id and l.remaining > 0 and l.expires_at <= ?), 0)::int as due
       from points_balance b where b.user_id = ?`,
    [now, userId],
  );
  const r = rows[0];
  if (!r) throw notFound('user', userId);
  return { balance: r.balance - r.due, lifetime_points: r.lifetime_points, status: r.status as string };
}

/** Points expiring in the window, grouped by expiry instant, soonest first. */
export async function expiringSoon(db: Knex, userId: string, now: Date, days = 30) {
  const until = new Date(now.getTime() + days * 86_400_000);
  const rows = await db('points_lots')
    .select('expires_at')
    .sum({ points: 'remaining' })
    .where({ user_id: userId })
    .andWhere('remaining', '>', 0)
    .andWhere('expires_at', '>', now)
    .andWhere('expires_at', '<=', until)
    .groupBy('expires_at')
    .orderBy('expires_at');
  return (rows as Array<{ points: unknown; expires_at: string | Date }>).map((r) => ({ points: Number(r.points), expires_at: new Date(r.expires_at) }));
}
