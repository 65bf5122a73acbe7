import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDb, type TestDb } from '../helpers/db.js';
import * as fraudMigration from '../../migrations/20261203000100_fraud.js';
import { defaultParams, loadParams } from '../../src/core/fraud/index.js';

let t: TestDb;
beforeAll(async () => {
  t = await createTestDb();
});
afterAll(async () => t?.destroy());

const tables = async () =>
  (await t.db.knex('information_schema.tables').where({ table_schema: 'public' }).whereIn('table_name', ['fraud_settings', 'fraud_cases']).orderBy('table_name').pluck('table_name')) as string[];

it('migration 20261203000100_fraud goes down to nothing of its own, and up again to the seeded defaults', async () => {
  const k = t.db.knex;
  expect(await tables()).toEqual(['fraud_cases', 'fraud_settings']);
  await k.transaction((trx) => fraudMigration.down(trx));
  expect(await tables()).toEqual([]);
  await k.transaction((trx) => fraudMigration.up(trx));
  expect(await tables()).toEqual(['fraud_cases', 'fraud_settings']);
  expect(await loadParams(k)).toEqual(defaultParams());
  expect(await k('fraud_settings').count({ n: '*' }).first()).toMatchObject({ n: Object.values(defaultParams()).reduce((n, p) => n + Object.keys(p).length, 0) });
});
