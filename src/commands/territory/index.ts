import type { Command } from 'commander';
import { action, examples } from '../context.js';

export function registerTerritory(program: Command): void {
  const territory = program.command('territory').description('list territories; launch (open or beta) and close them');

  examples(
    territory
      .command('list')
      .description('territories with their time zone, state, local date and user count')
      .action(
        action(async (ctx) => {
          const { listTerritories } = await import('../../core/users/index.js');
          const rows = await listTerritories((await ctx.db()).knex, ctx.now());
          if (ctx.config.json) return ctx.out.data(rows);
          ctx.out.table(
            ['code', 'name', 'time zone', 'state', 'local date', 'users'],
            rows.map((r) => [r.code, r.name, r.timezone, stateLabel(ctx.out.c, r.state), r.local_date, r.users]),
          );
        }),
      ),
    ['rayon territory list', 'rayon territory list --json'],
  );

  examples(
    territory
      .command('launch')
      .argument('<code>', 'territory code, e.g. MQ')
      .option('--beta', 'closed beta: only users flagged beta may act (see `rayon user beta`)')
      .description('open a territory (or put it in closed beta)')
      .action(
        action(async (ctx, { args, opts }) => {
          const { normaliseTerritoryCode, setTerritoryState } = await import('../../core/users/index.js');
          const code = normaliseTerritoryCode(args[0]);
          const state = opts.beta ? 'beta' : 'open';
          const changed = await setTerritoryState((await ctx.db()).knex, code, state, { actor: ctx.actor, now: ctx.now() });
          if (ctx.config.json) ctx.out.data({ code, state, changed });
          if (changed) ctx.out.success(`${code} is now ${state}.`);
          else ctx.out.info(`${code} is already ${state}: nothing to do.`);
        }),
      ),
    ['rayon territory launch MQ --beta', 'rayon territory launch MQ'],
  );

  examples(
    territory
      .command('unlaunch')
      .argument('<code>', 'territory code')
      .description('close a territory: its users can still read, not collect, earn or redeem')
      .action(
        action(async (ctx, { args }) => {
          const { normaliseTerritoryCode, setTerritoryState } = await import('../../core/users/index.js');
          const code = normaliseTerritoryCode(args[0]);
          const changed = await setTerritoryState((await ctx.db()).knex, code, 'closed', { actor: ctx.actor, now: ctx.now() });
          if (ctx.config.json) ctx.out.data({ code, state: 'closed', changed });
          if (changed) ctx.out.success(`${code} is now closed.`);
          else ctx.out.info(`${code} is already closed: nothing to do.`);
        }),
      ),
    ['rayon territory unlaunch MQ'],
  );
}

function stateLabel(c: { green(s: string): string; yellow(s: string): string; dim(s: string): string }, s: string): string {
  return s === 'open' ? c.green(s) : s === 'beta' ? c.yellow(s) : c.dim(s);
}
