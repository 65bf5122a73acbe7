import type { Command } from 'commander';
import { action, examples } from '../context.js';
import { readInputFile } from '../files.js';

export function registerUserImport(user: Command): void {
  examples(
    user
      .command('import')
      .argument('<file>', 'CSV with columns id,email,name,territory (optional created_at, beta)')
      .option('--dry-run', 'validate and count, write nothing')
      .description('create or update users from the accounts system (upsert by id; one transaction)')
      .action(
        action(async (ctx, { args, opts }) => {
          const { importUsers, parseUsersCsv, planUserImport, territoryCodes } = await import('../../core/users/index.js');
          const buf = readInputFile(args[0]);
          const db = (await ctx.db()).knex;
          const file = parseUsersCsv(buf, args[0], await territoryCodes(db));
          if (opts.dryRun) {
            const plan = await planUserImport(db, file);
            if (ctx.config.json) ctx.out.data(plan);
            else ctx.out.info(`Dry run: ${plan.rows} valid row(s): ${plan.new} new, ${plan.existing} existing (updated where they differ). Nothing written.`);
            return;
          }
          await ctx.confirm(`Import ${file.users.length} user(s) from ${file.fileName}?`);
          const r = await importUsers(db, file, { now: ctx.now(), actor: ctx.actor });
          if (ctx.config.json) ctx.out.data(r);
          if (r.inserted + r.updated === 0) ctx.out.info(`Nothing to do: all ${r.unchanged} user(s) already up to date.`);
          else ctx.out.success(`${r.inserted} added, ${r.updated} updated, ${r.unchanged} unchanged.`);
        }),
      ),
    ['rayon user import users.csv --yes', 'rayon user import users.csv --dry-run'],
  );
}
