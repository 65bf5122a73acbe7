import type { Command } from 'commander';
import { action, examples, parseIntStrict } from '../context.js';

export function registerAudit(program: Command): void {
  const auditCmd = program.command('audit').description('the append-only audit log');
  examples(
    auditCmd
      .command('list')
      .option('--actor <name>', 'only this actor')
      .option('--action <action>', 'only this action (points.adjust) or family (points)')
      .option('--target <target>', 'only this target (a user id, a batch, a sku…)')
      .option('--since <when>', 'a duration back from now (24h, 7d) or an ISO instant')
      .option('--limit <n>', 'rows (1-1000)', '100')
      .description('who changed what, newest first')
      .action(
        action(async (ctx, { opts }) => {
          const { listAudit } = await import('../../core/audit/index.js');
          const { parseSince } = await import('../since.js');
          const rows = await listAudit((await ctx.db()).knex, {
            actor: opts.actor, action: opts.action, target: opts.target,
            since: opts.since ? parseSince(opts.since, ctx.now(), '--since') : undefined,
            limit: parseIntStrict(opts.limit, '--limit', { min: 1, max: 1000 }),
          });
          if (ctx.config.json) return ctx.out.data(rows);
          ctx.out.table(['id', 'at', 'actor', 'action', 'target', 'details'], rows.map((r) => [r.id, r.at, r.actor, r.action, r.target, r.details]));
        }),
      ),
    ['rayon audit list --since 24h', 'rayon audit list --actor alice --action points'],
  );
}
