import type { Knex } from 'knex';
import { notFound } from '../errors.js';
import { audit } from '../audit/index.js';
import { localDate } from '../time.js';

export type TerritoryState = 'closed' | 'beta' | 'open';

/** A territory code as typed by a person (`re`, `Re`) in the form the database keys it by (`RE`). */
export function normaliseTerritoryCode(code: string): string {
  return code.toUpperCase();
}

export async function listTerritories(db: Knex, now: Date) {
  const rows: Array<{ code: string; name: string; timezone: string; state: TerritoryState; state_changed_at: Date; users: number }> = await db('territories as t')
    .select('t.code', 't.name', 't.timezone', 't.state', 't.state_changed_at', db.raw('(select count(*)::int from users u where u.territory_code = t.code) as users'))
    .orderBy('t.code');
  return rows.map((r) => ({ ...r, local_date: localDate(now, r.timezone) }));
}

/** Open, beta or close a territory. Returns false when it already was in that state. */
export async function setTerritoryState(db: Knex, rawCode: string, state: TerritoryState, opts: { actor: string; now: Date }): Promise<boolean> {
  const code = normaliseTerritoryCode(rawCode);
  return db.transaction(async (trx) => {
    // NO KEY UPDATE still serialises state changes, without blocking the foreign-key checks
    // (KEY SHARE) of every ledger row written for a user of this territory meanwhile.
    const t = await trx('territories').where({ code }).forNoKeyUpdate().first('code', 'state');
    if (!t) throw notFound('territory', code);
    if (t.state === state) return false;
    await trx('territories').where({ code }).update({ state, state_changed_at: opts.now });
    await audit(trx, { actor: opts.actor, action: `territory.${state === 'closed' ? 'unlaunch' : 'launch'}`, target: code, at: opts.now, details: { from: t.state, to: state } });
    return true;
  });
}
