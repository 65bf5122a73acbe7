import type { Command } from 'commander';
import { action, examples } from '../context.js';

export function registerUserAdd(user: Command): void {
  examples(
    user
      .command('add')
      .requiredOption('--id <id>', 'accounts-system id (1-64 of A-Z a-z 0-9 _ . -)')
      .requiredOption('--email <email>', 'email (unique, case-insensitive)')
      .requiredOption('--name <name>', 'display name')
      .requiredOption('--territory <code>', 'territory code, e.g. RE')
      .option('--beta', 'flag the user for closed betas')
      .description('create or update one user (upsert by id)')
      .action(
        action(async (ctx, { opts }) => {
          const { addUser } = await import('../../core/users/index.js');
          const r = await addUser(
            (await ctx.db()).knex,
            { id: opts.id, email: opts.email, name: opts.name, territory: String(opts.territory), beta: opts.beta ? true : undefined },
            { now: ctx.now(), actor: ctx.actor },
          );
          if (ctx.config.json) ctx.out.data({ id: opts.id, ...r });
          if (r.inserted) ctx.out.success(`User ${opts.id} added.`);
          else if (r.updated) ctx.out.success(`User ${opts.id} updated.`);
          else ctx.out.info(`User ${opts.id} already up to date: nothing to do.`);
        }),
      ),
    ['rayon user add --id u-re-0042 --email paul@example.org --name "Paul Hoarau" --territory RE'],
  );
}
