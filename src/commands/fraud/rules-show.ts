import type { Command } from 'commander';
import { action, examples } from '../context.js';

export function registerFraudRulesShow(rules: Command): void {
  examples(
    rules
      .command('show')
      .description('each rule\'s parameters: value, default, what it means')
      .action(
        action(async (ctx) => {
          const { showRules } = await import('../../core/fraud/index.js');
          const rows = await showRules((await ctx.db()).knex);
          if (ctx.config.json) return ctx.out.data(rows);
          ctx.out.table(
            ['rule', 'parameter', 'value', 'default', 'meaning', 'changed by'],
            rows.map((r) => [r.rule, r.param, r.value, r.default, r.meaning, r.updated_by === 'system' ? '' : `${r.updated_by} ${r.updated_at?.toISOString() ?? ''}`]),
          );
        }),
      ),
    ['rayon fraud rules show', 'rayon fraud rules show --json'],
  );
}
