import type { Knex } from 'knex';
import { RayonError, notFound } from '../errors.js';

/**
 * An account as the ledger's rules see it: the balance row with the user's territory and
 * suspension, read under the balance row's lock (lock order: user, then reward).
 */

export interface Account {
  userId: string;
  territoryCode: string;
  timezone: string;
  territoryState: 'closed' | 'beta' | 'open';
  beta: boolean;
  balance: number;
  lifetime: number;
  status: string;
  suspended: boolean;
}

/** The columns an account is read from: the user, their territory, balance row and suspension. */
export interface AccountRow {
  id: string;
  territory_code: string;
  timezone: string;
  state: Account['territoryState'];
  beta: boolean;
  balance: number;
  lifetime_points: number;
  status: string;
  suspended: boolean;
}

export function toAccount(r: AccountRow): Account {
  return {
    userId: r.id,
    territoryCode: r.territory_code,
    timezone: r.timezone,
    territoryState: r.state,
    beta: r.beta,
    balance: r.balance,
    lifetime: r.lifetime_points,
    status: r.status,
    suspended: r.suspended,
  };
}

/** Lock the user's balance row for the rest of the transaction and read what the rules need. */
export async function lockAccount(trx: Knex.Transaction, userId: string): Promise<Account> {
  // Two statements on purpose: under READ COMMITTED a statement's snapshot is taken before it
  // waits for the row lock, so suspension and territory state are read by a second statement,
  // after the lock — a suspension committed while we waited is seen.
  // The lock is taken by writing the row (a new row version, same values): the daily collection
  // writes without a lock, guarded on the version it read, so anything done under this lock — a
  // suspension included — makes a collection in flight start again from a fresh read.
  const { rows: locked } = await trx.raw(
    'update points_balance set updated_at = updated_at where user_id = ? returning balance, lifetime_points, status',
    [userId],
  );
  const b = locked[0];
  if (!b) throw notFound('user', userId);
  const { rows } = await trx.raw(
    `select u.id, u.territory_code, u.beta, t.timezone, t.state,
            exists (select 1 from suspensions s where s.user_id = u.id and s.lifted_at is null) as suspended
       from users u join territories t on t.code = u.territory_code
      where u.id = ?`,
    [userId],
  );
  return toAccount({ ...rows[0], balance: b.balance, lifetime_points: b.lifetime_points, status: b.status });
}

/** Refuse an account that may not act: suspended, or outside a launched territory. */
export function assertActive(account: Account): void {
  if (account.suspended) throw new RayonError('ACCOUNT_SUSPENDED', `user ${account.userId} is suspended`);
  const allowed = account.territoryState === 'open' || (account.territoryState === 'beta' && account.beta);
  if (!allowed) {
    throw new RayonError(
      'TERRITORY_NOT_LAUNCHED',
      account.territoryState === 'beta'
        ? `territory ${account.territoryCode} is in closed beta and user ${account.userId} is not in it`
        : `territory ${account.territoryCode} is not launched`,
    );
  }
}
