import { type Command, Option } from 'commander';
import { action, examples, parseIntStrict } from '../context.js';
import { exitCodeOf } from '../../core/errors.js';

export function registerMigrate(program: Command): void {
  const migrate = program.command('migrate').description('apply, roll back and inspect schema migrations');

  examples(
    migrate
      .command('latest')
      .description('apply every pending migration (a concurrent run waits, then finds nothing to do)')
      .action(
        action(async (ctx) => {
          const { migrateLatest } = await import('../../db/migrate.js');
          const db = await ctx.db();
          const applied = await migrateLatest(db);
          if (ctx.config.json) ctx.out.data({ applied });
          if (applied.length === 0) ctx.out.info(`Already up to date (${db.label}).`);
          else ctx.out.success(`Applied ${applied.length} migration(s) on ${db.label}: ${applied.join(', ')}`);
        }),
      ),
    ['rayon migrate latest', 'DATABASE_URL=postgres://postgres@127.0.0.1:5432/test rayon migrate latest'],
  );

  examples(
    migrate
      .command('rollback')
      .description('undo the last applied migration (--step N: the last N, --all: every one); refuses to drop tables holding rows unless --drop-data')
      .option('--step <n>', 'how many of the last applied migrations to undo', '1')
      .addOption(new Option('--all', 'undo every applied migration').conflicts('step'))
      .option('--drop-data', 'allow dropping or emptying tables that hold rows (asks for the database name)')
      .option('--confirm-database <name>', 'with --drop-data and no terminal: the database name, as confirmation')
      .action(
        action(async (ctx, { opts }) => {
          const { migrateRollback } = await import('../../db/migrate.js');
          const { describeLoss } = await import('../../db/rollback-guard.js');
          const { confirmByName } = await import('../prompt.js');
          const step = opts.all ? null : parseIntStrict(String(opts.step), '--step', { min: 1 });
          const db = await ctx.db();
          const res = await migrateRollback(db, {
            step,
            dropData: Boolean(opts.dropData),
            confirm: async ({ migrations, losses }) => {
              const what = `${migrations.length} migration(s) on ${db.label} (${migrations.join(', ')})`;
              if (losses.length === 0) return ctx.confirm(`Roll back ${what}?`);
              ctx.out.warn(`rolling back ${what} drops data:`);
              for (const l of losses) ctx.out.info(`  ${l.table}: ${describeLoss(l)}`);
              await confirmByName(ctx.config, db.name, `Roll back ${what} and destroy the rows above?`, opts.confirmDatabase);
            },
          });
          if (ctx.config.json) ctx.out.data({ rolled_back: res.rolledBack, dropped: res.dropped });
          if (res.rolledBack.length === 0) ctx.out.info('Nothing to roll back.');
          else ctx.out.success(`Rolled back ${res.rolledBack.length} migration(s): ${res.rolledBack.join(', ')}${res.dropped.length ? ` (rows dropped from ${res.dropped.map((l) => l.table).join(', ')})` : ''}`);
        }),
      ),
    [
      'rayon migrate rollback --yes                 # the last applied migration only',
      'rayon migrate rollback --step 2 --yes',
      'rayon migrate rollback --all --drop-data --confirm-database rayon   # destroys every table: back up first',
    ],
  );

  examples(
    migrate
      .command('status')
      .description('list applied and pending migrations (--check: exit 5 when some are pending)')
      .option('--check', 'exit 5 when migrations are pending (for deploy gates)')
      .action(
        action(async (ctx, { opts }) => {
          const { migrationStatus } = await import('../../db/migrate.js');
          const db = await ctx.db();
          const st = await migrationStatus(db);
          if (ctx.config.json) ctx.out.data(st);
          else {
            ctx.out.table(
              ['migration', 'state'],
              [...st.applied.map((m) => [m, 'applied']), ...st.pending.map((m) => [m, ctx.out.c.yellow('pending')])],
            );
          }
          if (st.pending.length > 0) {
            ctx.out.info(`${st.pending.length} pending migration(s): run \`rayon migrate latest\`.`);
            return opts.check ? exitCodeOf('CHECK_FAILED') : 0;
          }
          ctx.out.info(`Schema up to date (${st.applied.length} applied).`);
        }),
      ),
    ['rayon migrate status', 'rayon migrate status --check   # exit 5 if anything is pending'],
  );

  examples(
    migrate
      .command('make')
      .argument('<name>', 'snake_case name of the migration')
      .option('--dir <dir>', 'migrations folder', 'migrations')
      .description('create a new, empty, reversible migration file')
      .action(
        action(async (ctx, { args, opts }) => {
          const { makeMigration } = await import('../../db/migrate.js');
          const file = makeMigration(args[0], opts.dir, new Date());
          if (ctx.config.json) ctx.out.data({ file });
          else ctx.out.text(file);
        }),
      ),
    ['rayon migrate make add_partner_email'],
  );

  examples(
    migrate
      .command('unlock')
      .description("clear knex's migration lock left by a run that was killed")
      .action(
        action(async (ctx) => {
          const { migrateUnlock } = await import('../../db/migrate.js');
          await migrateUnlock(await ctx.db());
          ctx.out.success('Migration lock cleared.');
        }),
      ),
    ['rayon migrate unlock'],
  );
}
