import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, onPostgres, type TestDb } from '../helpers/db.js';
import { isPostgres, isPostgresPool, isTransaction } from '../../src/db/handle.js';

/** The one check behind the hot paths' own connection, the daily batches, the session lock and the vacuum. */
describe('what a Knex handle is (src/db/handle.ts)', () => {
  let t: TestDb;
  beforeAll(async () => {
    t = await createTestDb(2);
  });
  afterAll(async () => t?.destroy());

  it('the root handle is not a transaction; a transaction and a savepoint in it are', async () => {
    const db = t.db.knex;
    expect(isTransaction(db)).toBe(false);
    await db.transaction(async (trx) => {
      expect(isTransaction(trx)).toBe(true);
      await trx.transaction(async (sp) => {
        expect(isTransaction(sp)).toBe(true);
      });
    });
  });

  it('PostgreSQL through pg is a pool at the root only; the embedded database never is', async () => {
    const db = t.db.knex;
    expect(isPostgres(db)).toBe(onPostgres());
    expect(isPostgresPool(db)).toBe(onPostgres());
    await db.transaction(async (trx) => {
      expect(isPostgres(trx)).toBe(onPostgres());
      expect(isPostgresPool(trx)).toBe(false);
    });
  });
});
