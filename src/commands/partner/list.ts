import type { Command } from 'commander';
import { action, examples } from '../context.js';

export function registerPartnerList(partner: Command): void {
  examples(
    partner
      .command('list')
      .description('list partners with their commission rate and number of active rewards')
      .action(
        action(async (ctx) => {
          const { listPartners } = await import('../../core/catalog/index.js');
          const rows = await listPartners((await ctx.db()).knex);
          if (ctx.config.json) return ctx.out.data(rows);
          ctx.out.table(
            ['code', 'name', 'territory', 'commission', 'active rewards', 'contract'],
            rows.map((p) => [p.code, p.name, p.territory, p.commission_rate, p.active_rewards, p.contract_details ?? '']),
          );
        }),
      ),
    ['rayon partner list', 'rayon partner list --json'],
  );
}
