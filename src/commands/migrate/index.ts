import type { Command } from 'commander';
import { action, examples } from '../context.js';
import { makeMigration, migrateLatest, migrateRollback, migrateUnlock, migrationStatus } from '../../db/migrate.js';

export function registerMigrate(program: Command): void {
  const migrate = program.command('migrate').description('apply, roll back and inspect schema migrations');

  examples(
    migrate
      .command('latest')
      .description('apply every pending migration (a concurrent run waits, then finds nothing to do)')
      .action(
        action(async (ctx) => {
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
      .description('undo the last batch of migrations (--all: every one)')
      .option('--all', 'roll back every migration')
      .action(
        action(async (ctx, { opts }) => {
          const db = await ctx.db();
          await ctx.confirm(opts.all ? `Roll back EVERY migration on ${db.label}? All data will be dropped.` : `Roll back the last migration batch on ${db.label}?`);
          const undone = await migrateRollback(db, Boolean(opts.all));
          if (ctx.config.json) ctx.out.data({ rolled_back: undone });
          if (undone.length === 0) ctx.out.info('Nothing to roll back.');
          else ctx.out.success(`Rolled back: ${undone.join(', ')}`);
        }),
      ),
    ['rayon migrate rollback --yes', 'rayon migrate rollback --all --yes'],
  );

  examples(
    migrate
      .command('status')
      .description('list applied and pending migrations (--check: exit 5 when some are pending)')
      .option('--check', 'exit 5 when migrations are pending (for deploy gates)')
      .action(
        action(async (ctx, { opts }) => {
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
            return opts.check ? 5 : 0;
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
          await migrateUnlock(await ctx.db());
          ctx.out.success('Migration lock cleared.');
        }),
      ),
    ['rayon migrate unlock'],
  );
}
