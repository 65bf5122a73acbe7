import type { Knex } from 'knex';
import { notFound } from '../errors.js';
import { addDays, localDate, startOfLocalDay } from '../time.js';

/**
 * The shown balance (SPEC "Ledger"): the stored balance less the lots already past their expiry
 * instant and not yet written off by an expiry run or a debit. One rule for every reader outside
 * a lock (the app, support, the answers of a collection and an earn): `dueLotsSql` computes the
 * due points inside the statement that reads the balance, `duePoints` is its TypeScript twin
 * (pinned to it by test/integration/rule-twins.test.ts), `shownBalance` subtracts.
 */

/** A lot is due from its expiry instant on (the instant itself included) while it has points left. */
export function lotIsDue(lot: { remaining: number; expires_at: Date }, now: Date): boolean {
  return lot.remaining > 0 && lot.expires_at.getTime() <= now.getTime();
}

/** The points of a user's lots that are due at `now`. */
export function duePoints(lots: ReadonlyArray<{ remaining: number; expires_at: Date }>, now: Date): number {
  return lots.reduce((sum, l) => (lotIsDue(l, now) ? sum + l.remaining : sum), 0);
}

/**
 * `duePoints` in SQL: an integer expression over `points_lots` for the user `user` at `now`
 * (trusted SQL expressions: a column, a parameter placeholder; never user input).
 */
export function dueLotsSql(user: string, now: string): string {
  return `coalesce((select sum(l.remaining) from points_lots l
                     where l.user_id = ${user} and l.remaining > 0 and l.expires_at <= ${now}), 0)::int`;
}

/** The balance a user is shown: the stored balance without the due points. */
export function shownBalance(stored: number, due: number): number {
  return stored - due;
}

/** Balance as a reader should see it at `now`: without lots already past their expiry. */
export async function readBalance(db: Knex, userId: string, now: Date) {
  const { rows } = await db.raw(
    `select b.balance, b.lifetime_points, b.status, ${dueLotsSql('b.user_id', '?')} as due
       from points_balance b where b.user_id = ?`,
    [now, userId],
  );
  const r = rows[0];
  if (!r) throw notFound('user', userId);
  return { balance: shownBalance(r.balance, r.due), lifetime_points: r.lifetime_points, status: r.status as string };
}

/**
 * "Expiring soon" (SPEC "Support", the app's balance): the window is EXPIRING_SOON_DAYS local days
 * of the user's territory, today included. A lot is in it when its expiry instant falls after
 * `now` and no later than the first instant of local day today + EXPIRING_SOON_DAYS — that is,
 * its last valid local day is one of those days. Local days, not 30 × 24 h: the window ends at a
 * local midnight, the instant every lot expires at, whatever the zone's offset or a DST change.
 */
export const EXPIRING_SOON_DAYS = 30;

/** The end of the "expiring soon" window for a user whose territory is in time zone `tz`. */
export function expiringSoonUntil(now: Date, tz: string, days: number = EXPIRING_SOON_DAYS): Date {
  return startOfLocalDay(addDays(localDate(now, tz), days), tz);
}

export interface ExpiringPoints {
  points: number;
  expires_at: Date;
}

/**
 * Points expiring in the window, grouped by expiry instant, soonest first. The one home of the
 * rule for both faces: the app's balance route and `rayon user show` call it.
 */
export async function expiringSoon(db: Knex, userId: string, now: Date): Promise<ExpiringPoints[]> {
  const u = await db('users as u').join('territories as t', 't.code', 'u.territory_code').where('u.id', userId).first('t.timezone');
  if (!u) throw notFound('user', userId);
  const until = expiringSoonUntil(now, u.timezone);
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
