import type { Knex } from 'knex';
import { resolveUser } from '../users/index.js';
import { explainBalance, type BalanceExplanation } from '../ledger/index.js';
import { validationError } from '../errors.js';
import { inSnapshot } from './snapshot.js';

/** `rayon user explain`: the user found by id or email, then their balance rebuilt from the ledger. */
export async function explainUser(db: Knex, idOrEmail: string, opts: { asOf?: Date; now: Date }): Promise<BalanceExplanation> {
  if (opts.asOf && opts.asOf.getTime() > opts.now.getTime()) {
    throw validationError(`--as-of ${opts.asOf.toISOString()} is later than now (${opts.now.toISOString()})`, [{ where: '--as-of', message: 'must not be in the future' }]);
  }
  return inSnapshot(db, async (q) => explainBalance(q, (await resolveUser(q, idOrEmail)).id, opts));
}
