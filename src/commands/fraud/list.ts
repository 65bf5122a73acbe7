import type { Command } from 'commander';
import { action, examples, parseIntStrict } from '../context.js';

export function registerFraudList(fraud: Command): void {
  examples(
    fraud
      .command('list')
      .option('--active', 'only suspensions not lifted')
      .option('--limit <n>', 'rows (1-10000)', '1000')
      .description('suspensions, latest first: actor, reason, case, points voided and restored')
      .action(
        action(async (ctx, { opts }) => {
          const limit = parseIntStrict(opts.limit, '--limit', { min: 1, max: 10_000 });
          const { listSuspensions } = await import('../../core/fraud/index.js');
          const rows = await listSuspensions((await ctx.db()).knex, { active: Boolean(opts.active), limit });
          if (ctx.config.json) return ctx.out.data(rows);
          ctx.out.table(
            ['id', 'user', 'since', 'by', 'reason', 'case', 'voided', 'restored', 'lifted'],
            rows.map((s) => [
              s.id, s.user_id, s.started_at, s.actor, s.reason, s.case_id ?? '', s.points_voided, s.points_restored,
              s.lifted_at ? `${s.lifted_at.toISOString()} by ${s.lifted_by}: ${s.lift_reason}` : 'active',
            ]),
          );
          ctx.out.info(`${rows.length} suspension(s).`);
        }),
      ),
    ['rayon fraud list --active', 'rayon fraud list --json'],
  );
}
