import type { Command } from 'commander';
import { Option } from 'commander';
import { action, examples, parseIntStrict } from '../context.js';

export function registerRedemptionList(redemption: Command): void {
  examples(
    redemption
      .command('list')
      .description('list redemptions, newest first')
      .addOption(new Option('--status <status>', 'only this status').choices(['pending', 'fulfilled', 'rejected']))
      .option('--user <id>', 'only this user')
      .option('--page <n>', 'page, from 1', '1')
      .option('--limit <n>', 'rows per page (at most 1000)', '50')
      .action(
        action(async (ctx, { opts }) => {
          const { listRedemptions } = await import('../../core/redemption/index.js');
          const res = await listRedemptions((await ctx.db()).knex, {
            status: opts.status,
            userId: opts.user,
            page: parseIntStrict(opts.page, '--page', { min: 1 }),
            limit: parseIntStrict(opts.limit, '--limit', { min: 1, max: 1000 }),
          });
          if (ctx.config.json) return ctx.out.data(res);
          ctx.out.table(
            ['id', 'created', 'user', 'sku', 'points', 'status', 'voucher', 'decided by', 'reason'],
            res.items.map((r) => [r.id, r.created_at, r.user_id, r.sku, r.points_spent, r.status, r.voucher_code ?? '', r.decided_by ?? '', r.reason ?? '']),
          );
          ctx.out.info(`${res.total} redemption(s); page ${res.page} shows ${res.items.length}.`);
        }),
      ),
    ['rayon redemption list --status pending', 'rayon redemption list --user u-re-0001 --json'],
  );
}
