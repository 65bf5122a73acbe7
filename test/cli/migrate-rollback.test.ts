import crypto from 'node:crypto';
import fs from 'node:fs';
import pg from 'pg';
import { afterAll, beforeAll, expect, inject, it, vi } from 'vitest';
import { describePostgresOnly } from '../helpers/db.js';
import { withDatabase } from '../helpers/global-setup.js';
import { assertBuilt, rayon } from '../helpers/rayon-cli.js';

/**
 * `rayon migrate rollback` on the built binary, each test on a new empty PostgreSQL database
 * migrated by `rayon migrate latest` (one knex batch for all migrations, as in production).
 */
vi.setConfig({ testTimeout: 300_000 });

/** The migrations of this checkout, in order: the counts below follow the folder, not a literal. */
const MIGRATIONS = fs.readdirSync(new URL('../../migrations/', import.meta.url)).filter((f) => /\.ts$/.test(f) && !f.endsWith('.d.ts')).map((f) => f.replace(/\.ts$/, '')).sort();
const N = MIGRATIONS.length;
const LAST = MIGRATIONS[N - 1];
/** This migration seeds default fraud settings: rows, like the seeded categories, so undoing it needs --drop-data. */
const SEEDED = '20261203000100_fraud';
/** Where it stands, and the migrations after it (indexes only: they hold no rows of their own). */
const S = MIGRATIONS.indexOf(SEEDED);
const AFTER = MIGRATIONS.slice(S + 1);
let admin: pg.Client;
const made: string[] = [];

beforeAll(async () => {
  assertBuilt();
  const info = inject('testDb');
  if (info.mode !== 'postgres') return;
  admin = new pg.Client({ connectionString: info.url });
  await admin.connect();
});
afterAll(async () => {
  for (const name of made) await admin.query(`drop database if exists ${name} with (force)`);
  await admin?.end();
});

/** A new database with every migration applied by one `rayon migrate latest`. */
async function migratedDb(): Promise<{ name: string; env: Record<string, string>; sql: (q: string) => Promise<any[]> }> {
  const info = inject('testDb');
  if (info.mode !== 'postgres') throw new Error('needs PostgreSQL');
  const name = `rayon_t_rb_${crypto.randomBytes(5).toString('hex')}`;
  await admin.query(`create database ${name}`);
  made.push(name);
  const url = withDatabase(info.url, name);
  const env = { DATABASE_URL: url };
  const latest = await rayon(['migrate', 'latest'], env);
  expect([latest.code, latest.stderr]).toEqual([0, expect.stringMatching(new RegExp(`^✔ Applied ${N} migration\\(s\\)`))]);
  const sql = async (q: string) => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      return (await c.query(q)).rows;
    } finally {
      await c.end();
    }
  };
  return { name, env, sql };
}

const applied = async (sql: (q: string) => Promise<any[]>) => (await sql('select name from knex_migrations order by id')).map((r) => r.name as string);

describePostgresOnly('rayon migrate rollback (PostgreSQL)', 'runs rayon against new PostgreSQL databases', () => {
  it('undoes exactly the last applied migration, --step 2 the two before it, although one `migrate latest` made them one batch', async () => {
    const { name, env, sql } = await migratedDb();
    const all = await applied(sql);
    expect(all).toEqual(MIGRATIONS);
    expect(new Set((await sql('select batch from knex_migrations')).map((r) => r.batch)).size).toBe(1);

    // The migrations after the fraud one go without --drop-data, the last first.
    expect(S).toBeGreaterThan(0);
    if (AFTER.length > 0) {
      const later = await rayon(['migrate', 'rollback', '--step', String(AFTER.length), '--yes'], env);
      expect([later.code, later.stderr]).toEqual([0, `✔ Rolled back ${AFTER.length} migration(s): ${[...AFTER].reverse().join(', ')}\n`]);
      expect(await applied(sql)).toEqual(all.slice(0, S + 1));
    }
    // The fraud migration drops the settings it seeded: rows, so it goes with --drop-data only.
    const seeded = await rayon(['migrate', 'rollback', '--yes'], env);
    expect(seeded.code).toBe(3);
    expect(seeded.stderr).toMatch(/\n {2}fraud_settings: \d+ rows, dropped by 20261203000100_fraud\n/);
    const dropSeeded = await rayon(['migrate', 'rollback', '--drop-data', '--confirm-database', name], env);
    expect([dropSeeded.code, dropSeeded.stderr]).toEqual([0, expect.stringMatching(new RegExp(`✔ Rolled back 1 migration\\(s\\): ${SEEDED} \\(rows dropped from fraud_settings\\)\\n$`))]);
    expect(await applied(sql)).toEqual(all.slice(0, S));

    const one = await rayon(['migrate', 'rollback', '--yes'], env);
    expect([one.code, one.stdout]).toEqual([0, '']);
    expect(one.stderr).toBe(`✔ Rolled back 1 migration(s): ${all[S - 1]}\n`);
    expect(await applied(sql)).toEqual(all.slice(0, S - 1));

    const two = await rayon(['--json', 'migrate', 'rollback', '--step', '2', '--yes'], env);
    expect(two.code).toBe(0);
    expect(JSON.parse(two.stdout)).toEqual({ rolled_back: [all[S - 2], all[S - 3]], dropped: [] });
    expect(await applied(sql)).toEqual(all.slice(0, S - 3));
    const pending = N - (S - 3);

    const status = await rayon(['migrate', 'status', '--check'], env);
    expect([status.code, status.stderr]).toEqual([5, `${pending} pending migration(s): run \`rayon migrate latest\`.\n`]);
    // The downs left a schema the ups apply to again.
    const again = await rayon(['migrate', 'latest'], env);
    expect([again.code, again.stderr]).toEqual([0, expect.stringMatching(new RegExp(`^✔ Applied ${pending} migration\\(s\\)`))]);
    expect(await applied(sql)).toEqual(all);

    const [bad, both] = await Promise.all([rayon(['migrate', 'rollback', '--step', '0', '--yes'], env), rayon(['migrate', 'rollback', '--all', '--step', '2', '--yes'], env)]);
    expect([bad.code, bad.stderr]).toEqual([2, 'error: --step must not be zero\n']);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/option '--all' cannot be used with option '--step <n>'/);
    // Without --yes the data check still comes first: the fraud migration's seeded settings are rows.
    const noYes = await rayon(['migrate', 'rollback', '--step', String(AFTER.length + 1)], env);
    expect(noYes.code).toBe(3);
    expect(noYes.stderr).toMatch(/\n {2}fraud_settings: \d+ rows, dropped by 20261203000100_fraud\n/);
    expect(await applied(sql)).toEqual(all);
  });

  it('a database holding a user with points: a rollback that would drop the ledger is refused (exit 3, tables and counts named) and changes nothing', async () => {
    const { name, env, sql } = await migratedDb();
    const add = await rayon(['user', 'add', '--id', 'u-re-0001', '--email', 'marie@example.org', '--name', 'Marie Payet', '--territory', 'RE'], env);
    const points = await rayon(['points', 'adjust', 'u-re-0001', '150', '--reason', 'welcome'], env);
    expect([add.code, points.code]).toEqual([0, 0]);
    const all = await applied(sql);
    const territories = Number((await sql('select count(*) as n from territories'))[0].n);

    for (const args of [['--all'], ['--step', String(N)]]) {
      const r = await rayon(['migrate', 'rollback', ...args, '--yes'], env);
      expect([r.code, r.stdout]).toEqual([3, '']);
      expect(r.stderr).toMatch(new RegExp(`^error: rolling back ${N} migrations \\(${MIGRATIONS[0]} … ${LAST}\\) would drop or empty \\d+ table\\(s\\) holding rows: nothing was rolled back\\. `));
      expect(r.stderr).toContain(`Back the database up first; to drop the rows anyway, run again with --drop-data --confirm-database "${name}" [INVALID_STATE]\n`);
      expect(r.stderr).toContain('\n  users: 1 row, dropped by 20261125000001_foundation\n');
      expect(r.stderr).toContain('\n  points_transactions: 1 row, dropped by 20261125000001_foundation\n');
      expect(r.stderr).toContain('\n  points_balance: 1 row, dropped by 20261125000001_foundation\n');
      expect(r.stderr).toContain('\n  audit_log: 2 rows, dropped by 20261125000001_foundation\n');
      expect(r.stderr).toContain(`\n  territories: ${territories} rows, dropped by 20261125000001_foundation\n`);
    }
    const json = await rayon(['--json', 'migrate', 'rollback', '--all', '--yes'], env);
    expect(json.code).toBe(3);
    const err = JSON.parse(json.stdout).error;
    expect(err.code).toBe('INVALID_STATE');
    expect(err.details).toContainEqual({ where: 'users', message: '1 row, dropped by 20261125000001_foundation' });
    expect(await applied(sql)).toEqual(all);

    // The migrations after the fraud one, then the fraud one with its seeded settings: --drop-data with the confirmation.
    const dropSeeded = await rayon(['migrate', 'rollback', '--step', String(AFTER.length + 1), '--drop-data', '--confirm-database', name], env);
    expect([dropSeeded.code, dropSeeded.stderr]).toEqual([0, expect.stringMatching(/\(rows dropped from fraud_settings\)\n$/)]);
    expect(await applied(sql)).toEqual(all.slice(0, S));
    // The migrations between it and the ledger drop only empty tables: they go without --drop-data.
    const between = await rayon(['migrate', 'rollback', '--step', String(S - 2), '--yes'], env);
    expect([between.code, between.stderr]).toEqual([0, expect.stringMatching(/^✔ Rolled back/)]);
    expect(await applied(sql)).toEqual(all.slice(0, 2));
    // The catalog migration drops the categories it seeded: they hold rows, so they need --drop-data.
    const catalog = await rayon(['migrate', 'rollback', '--yes'], env);
    expect(catalog.code).toBe(3);
    expect(catalog.stderr).toMatch(/\n {2}categories: \d+ rows, dropped by 20261125000002_catalog\n/);
    const [noName, wrongName] = await Promise.all([
      rayon(['migrate', 'rollback', '--drop-data', '--yes'], env),
      rayon(['migrate', 'rollback', '--drop-data', '--yes', '--confirm-database', 'production'], env),
    ]);
    expect(noName.code).toBe(2);
    expect(noName.stderr).toMatch(new RegExp(`confirmation needed: pass --confirm-database "${name}" \\(stdin is not a terminal; --yes is not enough to drop data\\)\\n$`));
    expect(wrongName.code).toBe(2);
    expect(wrongName.stderr).toMatch(new RegExp(`error: --confirm-database "production" does not match the database name "${name}": nothing was changed\\n$`));
    expect(await applied(sql)).toEqual(all.slice(0, 2));
    const dropCatalog = await rayon(['migrate', 'rollback', '--drop-data', '--confirm-database', name], env);
    expect(dropCatalog.code).toBe(0);
    expect(dropCatalog.stderr).toMatch(/✔ Rolled back 1 migration\(s\): 20261125000002_catalog \(rows dropped from categories\)\n$/);
    expect(await applied(sql)).toEqual(all.slice(0, 1));

    // Now the last applied migration is the ledger itself: a plain `rollback --yes` is refused.
    const ledger = await rayon(['migrate', 'rollback', '--yes'], env);
    expect([ledger.code, ledger.stdout]).toEqual([3, '']);
    expect(ledger.stderr).toMatch(/^error: rolling back 20261125000001_foundation would drop or empty \d+ table\(s\) holding rows: nothing was rolled back/);
    expect(ledger.stderr).toContain('\n  users: 1 row, dropped by 20261125000001_foundation\n');
    expect(ledger.stderr).toContain('\n  points_transactions: 1 row, dropped by 20261125000001_foundation\n');
    expect(await applied(sql)).toEqual(all.slice(0, 1));
    expect((await sql(`select balance from points_balance where user_id = 'u-re-0001'`)).map((r) => Number(r.balance))).toEqual([150]);
    // The ledger is still readable through the CLI (user history reads the foundation's tables
    // only; user show also reads redemptions and fraud cases, whose migrations are rolled back here).
    const history = await rayon(['--json', 'user', 'history', 'u-re-0001'], env);
    expect(history.code).toBe(0);
    expect(JSON.parse(history.stdout).items).toMatchObject([{ type: 'adjustment', amount: 150 }]);

    const dropAll = await rayon(['migrate', 'rollback', '--all', '--drop-data', '--confirm-database', name], env);
    expect(dropAll.code).toBe(0);
    expect(dropAll.stderr).toMatch(/users: 1 row, dropped by 20261125000001_foundation/);
    expect(await applied(sql)).toEqual([]);
    expect(await sql(`select to_regclass('users') as t`)).toEqual([{ t: null }]);
    const nothing = await rayon(['migrate', 'rollback', '--yes'], env);
    expect([nothing.code, nothing.stderr]).toEqual([0, 'Nothing to roll back.\n']);
  });
});
