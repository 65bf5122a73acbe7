import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, onPostgres, type TestDb } from '../helpers/db.js';
import { isPostgres, isPostgresPool, isTransaction } from '../../src/db/handle.js';
import { vacuumAnalyze } from '../../src/db/maintenance.js';
import { openDb } from '../../src/db/connect.js';

let t: TestDb;
beforeAll(async () => {
  t = await createTestDb(2);
});
afterAll(async () => t?.destroy());

/** The one check behind the hot paths' own connection, the daily batches, the session lock and the vacuum. */
describe('what a Knex handle is (src/db/handle.ts)', () => {
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

/** src/db/maintenance.ts: the vacuum after a bulk change outlasts no timeout, and leaves the pool's connections as they were. */
describe('vacuumAnalyze', () => {
  it('runs without the statement timeout on its own connection, and hands it back with the timeout', async () => {
    if (!onPostgres()) {
      // The embedded database has no pool and no statement timeout: the vacuum simply runs.
      await vacuumAnalyze(t.db.knex, ['users', 'points_transactions']);
      return;
    }
    // A table whose vacuum takes longer than the pool's statement timeout (50 ms; the vacuum took 330 ms on a 2-core machine), and one pooled connection.
    await t.db.knex.raw(`create table vacuum_probe as select g as id, md5(g::text) as v from generate_series(1, 2000000) g`);
    const tight = await openDb({ databaseUrl: t.url, dataDir: '', poolMax: 1, statementTimeoutMs: 50 });
    try {
      await expect(tight.knex.raw('vacuum (analyze) vacuum_probe')).rejects.toMatchObject({ code: '57014' });
      await vacuumAnalyze(tight.knex, ['vacuum_probe', 'users']);
      expect((await tight.knex.raw('show statement_timeout')).rows[0].statement_timeout).toBe('50ms');
    } finally {
      await tight.close();
    }
    const { rows } = await t.db.knex.raw(`select last_vacuum is not null as vacuumed, last_analyze is not null as analyzed from pg_stat_user_tables where relname = 'vacuum_probe'`);
    expect(rows[0]).toEqual({ vacuumed: true, analyzed: true });
  });

  it('inside a transaction it does nothing (VACUUM cannot run there)', async () => {
    await t.db.knex.transaction(async (trx) => {
      await vacuumAnalyze(trx, ['users']);
      expect((await trx.raw('select 1 as one')).rows[0].one).toBe(1);
    });
  });
});
