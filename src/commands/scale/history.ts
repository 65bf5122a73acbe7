import type { Command } from 'commander';
import { action, examples } from '../context.js';

export function registerScaleHistory(scale: Command): void {
  examples(
    scale
      .command('history')
      .description('every scale version: when it takes effect, who made it and why')
      .action(
        action(async (ctx) => {
          const { listScaleVersions } = await import('../../core/scale/index.js');
          const versions = await listScaleVersions((await ctx.db()).knex);
          const rows = versions.map((v) => ({ version: v.version, effective_from: v.effective_from, actor: v.actor, reason: v.reason, created_at: v.created_at }));
          if (ctx.config.json) return ctx.out.data(rows);
          ctx.out.table(['version', 'effective from', 'actor', 'reason', 'created at'], rows.map((r) => Object.values(r)));
        }),
      ),
    ['rayon scale history'],
  );
}
