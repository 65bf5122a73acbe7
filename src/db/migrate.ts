import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Knex } from 'knex';
import type { Db } from './connect.js';
import { RayonError } from '../core/errors.js';
import { withSessionLock } from './locks.js';
import { applyRollback, dataLossRefusal, lastApplied, probeRollback, type RollbackStep, type TableLoss } from './rollback-guard.js';

/**
 * Knex migrations, read from the project's `migrations/` folder: the TypeScript sources when
 * run from source (tests), the compiled JavaScript under dist/ when run from the built CLI.
 * Names are compared without their extension so both runs share one knex_migrations table.
 */
export const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations/', import.meta.url));

interface MigrationModule {
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
}

class FolderMigrationSource implements Knex.MigrationSource<string> {
  constructor(private readonly dir: string) {}

  async getMigrations(): Promise<string[]> {
    return fs
      .readdirSync(this.dir)
      .filter((f) => /^\d+_[\w-]+\.(ts|js)$/.test(f) && !f.endsWith('.d.ts'))
      .sort();
  }

  getMigrationName(file: string): string {
    return file.replace(/\.(ts|js)$/, '');
  }

  async getMigration(file: string): Promise<MigrationModule> {
    return (await import(pathToFileURL(path.join(this.dir, file)).href)) as MigrationModule;
  }
}

const MIGRATE_LOCK_KEY = 727_001; // pg_advisory_lock key serialising `migrate latest` runs

function config(): Knex.MigratorConfig {
  return { migrationSource: new FolderMigrationSource(MIGRATIONS_DIR), tableName: 'knex_migrations' };
}

export interface MigrationStatus {
  applied: string[];
  pending: string[];
}

export async function migrationStatus(db: Db): Promise<MigrationStatus> {
  const [applied, pending] = (await db.knex.migrate.list(config())) as [Array<{ name: string }>, Array<string | { file: string }>];
  const name = (m: string | { file: string }) => (typeof m === 'string' ? m : m.file).replace(/\.(ts|js)$/, '');
  return { applied: applied.map((m) => m.name), pending: pending.map(name) };
}

/**
 * Apply pending migrations. On PostgreSQL a session advisory lock serialises concurrent runs:
 * a second run waits for the first, then finds nothing to do (instead of failing on knex's lock row).
 */
export async function migrateLatest(db: Db): Promise<string[]> {
  return withMigrationLock(db, async () => {
    const [, names] = (await db.knex.migrate.latest(config())) as [number, string[]];
    return names.map((n) => n.replace(/\.(ts|js)$/, ''));
  });
}

export interface RollbackPlan {
  /** The migrations to undo, most recent first. */
  migrations: string[];
  /** Tables holding rows that the rollback would drop or empty. */
  losses: TableLoss[];
}

export interface RollbackOptions {
  /** How many of the last applied migrations to undo; null: every one. */
  step: number | null;
  /** Accept a rollback that drops or empties tables holding rows (still subject to `confirm`). */
  dropData?: boolean;
  /** Called with the plan before anything is written; throw to stop. */
  confirm(plan: RollbackPlan): Promise<void>;
}

export interface RollbackResult {
  rolledBack: string[];
  dropped: TableLoss[];
}

/**
 * Undo the last applied migration(s), by the order they were applied (not by knex's batches: one
 * `migrate latest` applies them all in one batch). Their `down`s first run in a transaction that is
 * rolled back, to measure what they would destroy; a loss of rows is refused unless `dropData`.
 * Then the real rollback runs, all steps in one transaction, and checks again before it commits.
 */
export async function migrateRollback(db: Db, opts: RollbackOptions): Promise<RollbackResult> {
  return withMigrationLock(db, async () => {
    const names = await lastApplied(db.knex, opts.step);
    if (names.length === 0) return { rolledBack: [], dropped: [] };
    const steps = await loadSteps(names);
    const losses = await probeRollback(db.knex, steps);
    if (losses.length && !opts.dropData) throw dataLossRefusal(names, losses, db.name);
    await opts.confirm({ migrations: names, losses });
    const dropped = await applyRollback(db.knex, steps, names, losses, db.name);
    return { rolledBack: names, dropped };
  });
}

async function loadSteps(names: string[]): Promise<RollbackStep[]> {
  const source = new FolderMigrationSource(MIGRATIONS_DIR);
  const files = await source.getMigrations();
  return Promise.all(
    names.map(async (name) => {
      const file = files.find((f) => source.getMigrationName(f) === name);
      if (!file) throw new RayonError('INVALID_STATE', `migration ${name} is applied but has no file in ${MIGRATIONS_DIR}: this version cannot roll it back`);
      const mod = (await source.getMigration(file)) as MigrationModule & { config?: { transaction?: boolean } };
      if (typeof mod.down !== 'function') throw new RayonError('INVALID_STATE', `migration ${name} has no down function`);
      // Outside a transaction its effect on data could not be measured first, nor undone on failure.
      if (mod.config?.transaction === false) throw new RayonError('INVALID_STATE', `migration ${name} runs outside a transaction: its rollback cannot be checked for data loss`);
      return { name, down: (k: Knex) => mod.down(k) };
    }),
  );
}

/** Clear knex's migration lock row left behind by a run that was killed. */
export async function migrateUnlock(db: Db): Promise<void> {
  await db.knex.migrate.forceFreeMigrationsLock(config());
}

export function makeMigration(name: string, dir = path.resolve('migrations'), now = new Date()): string {
  if (!/^[a-z0-9_]{1,60}$/.test(name)) throw new RayonError('VALIDATION_ERROR', `migration name must be 1-60 characters of [a-z0-9_], got ${JSON.stringify(name)}`);
  const stamp = now.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  const file = path.join(dir, `${stamp}_${name}.ts`);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(
    file,
    `import type { Knex } from 'knex';\n\nexport async function up(knex: Knex): Promise<void> {\n  await knex.raw(\`\`);\n}\n\nexport async function down(knex: Knex): Promise<void> {\n  await knex.raw(\`\`);\n}\n`,
    { flag: 'wx' },
  );
  return file;
}

function withMigrationLock<T>(db: Db, fn: () => Promise<T>): Promise<T> {
  return withSessionLock(db.knex, MIGRATE_LOCK_KEY, fn);
}
