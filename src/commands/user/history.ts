import type { Command } from 'commander';
import { action, examples, parseIntStrict } from '../context.js';

export function registerUserHistory(user: Command): void {
  examples(
    user
      .command('history')
      .argument('<user>', 'user id')
      .option('--type <type>', 'only this transaction type (daily, earn, adjustment, redeem, refund, expire, fraud_void, fraud_restore, revert)')
      .option('--from <when>', "from this local date of the user's territory (YYYY-MM-DD) or this ISO instant, inclusive")
      .option('--to <when>', "to this local date of the user's territory (YYYY-MM-DD) or this ISO instant, inclusive")
      .option('--limit <n>', 'rows per page (1-100)', '20')
      .option('--page <n>', 'page, from 1', '1')
      .description("a user's transactions, newest first")
      .action(
        action(async (ctx, { args, opts }) => {
          const { parseHistoryBound, pointsHistory } = await import('../../core/ledger/index.js');
          const from = opts.from === undefined ? undefined : parseHistoryBound(opts.from, '--from');
          const to = opts.to === undefined ? undefined : parseHistoryBound(opts.to, '--to');
          const limit = parseIntStrict(opts.limit, '--limit', { min: 1, max: 100 });
          const pageNo = parseIntStrict(opts.page, '--page', { min: 1 });
          const page = await pointsHistory((await ctx.db()).knex, args[0], { type: opts.type, from, to, limit, page: pageNo });
          if (ctx.config.json) return ctx.out.data(page);
          ctx.out.table(
            ['id', 'when', 'type', 'amount', 'expires', 'action / reason', 'reference', 'reverted'],
            page.items.map((t) => [t.id, t.created_at, t.type, t.amount, t.expires_at, t.action_type ?? t.reason ?? '', t.reference_id ?? t.batch_id ?? '', t.reverted ? 'yes' : '']),
          );
          ctx.out.info(`page ${page.page} of ${Math.max(1, Math.ceil(page.total / page.limit))} (${page.total} transaction(s))`);
        }),
      ),
    [
      'rayon user history u-re-0001',
      'rayon user history u-re-0001 --type daily --limit 50',
      'rayon user history u-re-0001 --from 2026-11-01 --to 2026-11-30',
      'rayon user history u-re-0001 --from 2026-11-20T06:00:00Z',
    ],
  );
}
