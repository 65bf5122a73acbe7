import type { Knex } from 'knex';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestDb, type TestDb } from '../helpers/db.js';
import { migrateRollback, migrationStatus } from '../../src/db/migrate.js';
import { applyRollback, lastApplied, probeRollback, type RollbackStep } from '../../src/db/rollback-guard.js';
import { RayonError } from '../../src/core/errors.js';
import { failure } from '../helpers/failure.js';

/**
 * The rollback guard measures what `down`s destroy, with no list per migration: synthetic steps
 * against scratch tables, then the real migrations. Runs on PostgreSQL and on the embedded database.
 */
let t: TestDb;
let k: Knex;
const FAKE = 'zz_rollback_guard_step';

beforeAll(async () => {
  t = await createTestDb();
  k = t.db.knex;
});
afterAll(async () => {
  await t?.destroy();
});
beforeEach(async () => {
  await k.raw('drop table if exists rb_full, rb_empty, rb_some, rb_rebuilt');
  await k.raw('create table rb_full (id int primary key)');
  await k.raw('create table rb_empty (id int primary key)');
  await k.raw('create table rb_some (id int primary key)');
  await k.raw('create table rb_rebuilt (id int primary key)');
  await k('rb_full').insert([{ id: 1 }, { id: 2 }, { id: 3 }]);
  await k('rb_some').insert([{ id: 1 }, { id: 2 }]);
  await k('rb_rebuilt').insert([{ id: 7 }]);
  await k('knex_migrations').where({ name: FAKE }).del();
  await k('knex_migrations').insert({ name: FAKE, batch: 99, migration_time: new Date() });
});

const step = (down: (trx: Knex) => Promise<unknown>): RollbackStep => ({ name: FAKE, down: async (trx) => void (await down(trx)) });
const exists = async (table: string) => (await k.raw('select to_regclass(?) is not null as ok', [table])).rows[0].ok as boolean;
const rows = async (table: string) => Number((await k(table).count({ n: '*' }).first())!.n);

describe('rollback guard', () => {
  it('finds dropped, emptied and thinned tables; ignores empty ones and a table rebuilt with its rows; the probe leaves everything', async () => {
    const down = step(async (trx) => {
      await trx.raw('drop table rb_full');
      await trx.raw('drop table rb_empty');
      await trx('rb_some').where({ id: 1 }).del();
      await trx.raw('create table rb_copy as select * from rb_rebuilt');
      await trx.raw('drop table rb_rebuilt');
      await trx.raw('alter table rb_copy rename to rb_rebuilt');
    });
    const losses = await probeRollback(k, [down]);
    expect(losses).toEqual([
      { table: 'rb_full', rows: 3, after: null, migration: FAKE },
      { table: 'rb_some', rows: 2, after: 1, migration: FAKE },
    ]);
    expect([await exists('rb_full'), await exists('rb_empty'), await rows('rb_some')]).toEqual([true, true, 2]);
    expect(await lastApplied(k, 1)).toEqual([FAKE]);

    const emptied = await probeRollback(k, [step((trx) => trx.raw('truncate rb_full'))]);
    expect(emptied).toEqual([{ table: 'rb_full', rows: 3, after: 0, migration: FAKE }]);
    expect(await probeRollback(k, [step((trx) => trx.raw('drop table rb_empty'))])).toEqual([]);
  });

  it('the real rollback measures again and refuses a loss nobody accepted (rows written since the check): nothing changes', async () => {
    const down = step((trx) => trx.raw('drop table rb_empty'));
    expect(await probeRollback(k, [down])).toEqual([]);
    await k('rb_empty').insert({ id: 1 }); // written between the check and the rollback
    const e = await failure(applyRollback(k, [down], [FAKE], [], t.db.name));
    expect(e).toBeInstanceOf(RayonError);
    expect([e.code, e.exitCode]).toEqual(['INVALID_STATE', 3]);
    expect(e.message).toMatch(/^rows were written since the check; rolling back zz_rollback_guard_step would drop or empty 1 table/);
    expect(e.details).toEqual([{ where: 'rb_empty', message: `1 row, dropped by ${FAKE}` }]);
    expect([await exists('rb_empty'), await rows('rb_empty')]).toEqual([true, 1]);
    expect(await lastApplied(k, 1)).toEqual([FAKE]);

    // Accepted, it commits: the table is gone and knex forgets the migration.
    const accepted = await probeRollback(k, [down]);
    expect(await applyRollback(k, [down], [FAKE], accepted, t.db.name)).toEqual(accepted);
    expect(await exists('rb_empty')).toBe(false);
    expect(await lastApplied(k, 1)).not.toEqual([FAKE]);
  });

  it('refuses when the applied migrations changed since they were read', async () => {
    const e = await failure(applyRollback(k, [step(async () => undefined)], ['some_other_migration'], [], t.db.name));
    expect(e.code).toBe('INVALID_STATE');
    expect(e.message).toMatch(/the applied migrations changed while rolling back \(now last: zz_rollback_guard_step\)/);
  });
});

describe('migrateRollback with the real migrations', () => {
  beforeEach(async () => {
    await k('knex_migrations').where({ name: FAKE }).del();
  });

  it('a held knex migration lock refuses the rollback naming `rayon migrate unlock`, and nothing is rolled back', async () => {
    const before = await migrationStatus(t.db);
    await k('knex_migrations_lock').update({ is_locked: 1 });
    try {
      const e = await failure(migrateRollback(t.db, { step: 1, confirm: async () => undefined }));
      expect(e.code).toBe('INVALID_STATE');
      expect(e.message).toMatch(/the migration lock is held .* `rayon migrate unlock`/);
    } finally {
      await k('knex_migrations_lock').update({ is_locked: 0 });
    }
    expect(await migrationStatus(t.db)).toEqual(before);
  });

  it('the plan reaches confirm before anything is written; a refusal there leaves the schema as it was', async () => {
    const before = await migrationStatus(t.db);
    const seen: unknown[] = [];
    const e = await failure(migrateRollback(t.db, {
      step: null,
      dropData: true,
      confirm: async (plan) => {
        seen.push(plan);
        throw new RayonError('CONFIRMATION_REQUIRED', 'not confirmed');
      },
    }));
    expect(e.code).toBe('CONFIRMATION_REQUIRED');
    const plan = seen[0] as { migrations: string[]; losses: Array<{ table: string }> };
    expect(plan.migrations).toEqual([...before.applied].reverse());
    expect(plan.losses.map((l) => l.table)).toEqual(expect.arrayContaining(['territories', 'scale_versions']));
    expect(await migrationStatus(t.db)).toEqual(before);
    expect(await exists('territories')).toBe(true);

    // The migrations after the fraud one (indexes only) drop nothing: they go without dropData.
    const fraudAt = before.applied.indexOf('20261203000100_fraud');
    expect(fraudAt).toBeGreaterThan(0);
    const later = before.applied.slice(fraudAt + 1);
    if (later.length > 0) {
      const undone = await migrateRollback(t.db, { step: later.length, confirm: async (p) => void seen.push(p) });
      expect(undone).toEqual({ rolledBack: [...later].reverse(), dropped: [] });
      expect(seen.pop()).toEqual({ migrations: undone.rolledBack, losses: [] });
    }
    const applied = before.applied.slice(0, fraudAt + 1);
    expect((await migrationStatus(t.db)).applied).toEqual(applied);

    // The fraud migration drops the settings it seeded: rows, like the seeded categories, so it
    // needs dropData; the plan names that loss.
    const seeded = await failure(migrateRollback(t.db, { step: 1, confirm: async (p) => void seen.push(p) }));
    expect(seeded.code).toBe('INVALID_STATE');
    expect((await migrationStatus(t.db)).applied).toEqual(applied);
    const fraud = await migrateRollback(t.db, { step: 1, dropData: true, confirm: async (p) => void seen.push(p) });
    expect(fraud.rolledBack).toEqual(['20261203000100_fraud']);
    expect((seen[1] as { losses: Array<{ table: string }> }).losses.map((l) => l.table)).toEqual(['fraud_settings']);

    // The migration under it drops only empty tables: it goes without dropData, and confirm sees no loss.
    const one = await migrateRollback(t.db, { step: 1, confirm: async (p) => void seen.push(p) });
    expect(one).toEqual({ rolledBack: [applied[applied.length - 2]], dropped: [] });
    expect(seen[2]).toEqual({ migrations: one.rolledBack, losses: [] });
    expect((await migrationStatus(t.db)).applied).toEqual(applied.slice(0, -2));
  });
});
