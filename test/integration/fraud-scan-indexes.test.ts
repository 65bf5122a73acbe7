import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, type TestDb } from '../helpers/db.js';
import { RULE_DEFS, referenceKeySql, type RuleName } from '../../src/core/fraud/index.js';
import { refHash } from '../../src/core/fraud/rules-earning.js';
import { defaultParams } from '../../src/core/fraud/params.js';
import { FROZEN_REFERENCE_KEY } from '../../migrations/20261203000110_scan_indexes.js';

/**
 * The scan's partial indexes (migration 20261203000110) only help while each rule's statement
 * still matches them: `shared_reference`'s index is built on an expression, frozen in the
 * migration, that the rule must compute the same way. Each rule is planned with sequential scans
 * disabled: a statement that no longer matches its index then plans without it, and this fails.
 */

let t: TestDb;
beforeAll(async () => {
  t = await createTestDb();
});
afterAll(async () => {
  await t?.destroy();
});

const USES: Array<[RuleName, string]> = [
  ['earn_velocity', 'points_transactions_earn_user_at_idx'],
  ['shared_reference', 'points_transactions_earn_reference_idx'],
  ['lockstep_farm', 'points_transactions_daily_user_idx'],
  ['operator_adjustments', 'points_transactions_adjustment_at_idx'],
];

/** The plan of `sql` with sequential scans disabled, as text. */
async function planOf(sql: string): Promise<string> {
  return t.db.knex.transaction(async (trx) => {
    await trx.raw('set local enable_seqscan = off');
    const { rows } = await trx.raw(`explain ${sql}`);
    return (rows as Array<Record<string, string>>).map((r) => Object.values(r)[0]).join('\n');
  });
}

describe('the fraud scan indexes', () => {
  it('the reference key frozen in the migration is the one the rule computes today', () => {
    // When this fails, the key changed: write a migration that recreates the index on the new key.
    expect(FROZEN_REFERENCE_KEY).toBe(referenceKeySql('reference_id'));
  });

  it("shared_reference's hash of (action, reference key) is the index's key: an equality on it is an index condition", async () => {
    // The whole index can also be read index-only (its INCLUDE columns), which would name it even
    // with a drifted expression: only a probe by the hash shows the expression is the indexed one.
    const plan = await planOf(`select 1 from points_transactions t where t.type = 'earn' and ${refHash} = 42`);
    expect(plan).toMatch(/(Index (Only )?Scan using|Bitmap Index Scan on) points_transactions_earn_reference_idx[\s\S]*Index Cond: \(+hashtextextended\(/);
  });

  it.each(USES)('%s can read through %s', async (rule, index) => {
    const window = { since: new Date('2026-11-01T00:00:00Z'), until: new Date('2026-12-01T00:00:00Z') };
    const sql = t.db.knex.raw(RULE_DEFS[rule].sql, { since: window.since, until: window.until, ...defaultParams()[rule] }).toString();
    const plan = await planOf(sql);
    expect(plan).toContain(index);
  });
});
