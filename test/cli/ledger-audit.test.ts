import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { createTestDb, describeMultiConnection, type TestDb } from '../helpers/db.js';
import { makeUsers } from '../helpers/fixtures.js';
import { give } from '../helpers/ledger-setup.js';
import { assertBuilt, rayon } from '../helpers/rayon-cli.js';
import { credit, lockAccount } from '../../src/core/ledger/index.js';
import { scaleAt } from '../../src/core/scale/index.js';

/**
 * `rayon ledger verify` and the audit rule, end to end: the built CLI prints ledger rows by type
 * and audit record, and exits 5 on a row that should have an audit row and has none.
 */
vi.setConfig({ testTimeout: 300_000 });

let t: TestDb;
let env: Record<string, string>;
const NOW = new Date('2026-11-25T08:00:00Z');

beforeAll(async () => {
  assertBuilt();
  t = await createTestDb();
  env = t.url ? { DATABASE_URL: t.url } : {};
  await makeUsers(t.db.knex, [{ id: 'la1' }]);
  await give(t.db.knex, 'la1', 50, NOW);
});
afterAll(async () => t?.destroy());

describeMultiConnection('rayon ledger verify: audit coverage', () => {
  it('prints rows by type and audit record; exits 5 naming a row that misses its audit row', async () => {
    const ok = await rayon(['ledger', 'verify'], env);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/ledger_rows_audited\s*│.*│ ok/);
    expect(ok.stdout).toMatch(/│ adjustment\s*│ 1\s*│ 1\s*│ 0\s*│ 0\s*│ 0\s*│ 0\s*│/);
    const json = JSON.parse((await rayon(['ledger', 'verify', '--json'], env)).stdout);
    expect(json.audit).toEqual([{ type: 'adjustment', rows: 1, audited: 1, self: 0, inline_expiry: 0, legacy_expiry: 0, missing: 0 }]);

    // An operator's credit written without the audit row every CLI command writes with it.
    const row = await t.db.knex.transaction(async (trx) =>
      credit(trx, await lockAccount(trx, 'la1'), {
        type: 'adjustment', amount: 5, now: NOW, key: 'adjust:no-audit', earning: true, scale: await scaleAt(trx, '2026-11-25'), fields: { actor: 'ops' },
      }),
    );
    const bad = await rayon(['ledger', 'verify'], env);
    expect(bad.code).toBe(5);
    expect(bad.stdout).toMatch(/ledger_rows_audited\s*│.*│ 1 problem\(s\)/);
    expect(bad.stdout).toContain(`ledger_rows_audited user la1: {"transaction_id":${row.transaction.id},"type":"adjustment","actor":"ops"}`);
    expect(bad.stdout).toMatch(/│ adjustment\s*│ 2\s*│ 1\s*│ 0\s*│ 0\s*│ 0\s*│ 1\s*│/);
    expect(bad.stderr).toMatch(/1 discrepancy\(ies\) found/);
  });
});
