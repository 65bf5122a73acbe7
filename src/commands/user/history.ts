import type { Command } from 'commander';
import { action, examples, parseIntStrict } from '../context.js';
import { pointsHistory } from '../../core/ledger/index.js';

export function registerUserHistory(user: Command): void {
  examples(
    user
      .command('history')
      .argument('<user>', 'user id')
      .option('--type <type>', 'only this transaction type (daily, earn, adjustment, redeem, refund, expire, fraud_void, fraud_restore, revert)')
      .option('--limit <n>', 'rows per page (1-100)', '20')
      .option('--page <n>', 'page, from 1', '1')
      .description("a user's transactions, newest first")
      .action(
        action(async (ctx, { args, opts }) => {
          const db = (await ctx.db()).knex;
          const page = await pointsHistory(db, args[0], {
            type: opts.type,
            limit: parseIntStrict(opts.limit, '--limit', { min: 1, max: 100 }),
            page: parseIntStrict(opts.page, '--page', { min: 1 }),
          });
          if (ctx.config.json) return ctx.out.data(page);
          ctx.out.table(
            ['id', 'when', 'type', 'amount', 'expires', 'action / reason', 'reference', 'reverted'],
            page.items.map((t) => [t.id, t.created_at, t.type, t.amount, t.expires_at, t.action_type ?? t.reason ?? '', t.reference_id ?? t.batch_id ?? '', t.reverted ? 'yes' : '']),
          );
          ctx.out.info(`page ${page.page} of ${Math.max(1, Math.ceil(page.total / page.limit))} (${page.total} transaction(s))`);
        }),
      ),
    ['rayon user history u-re-0001', 'rayon user history u-re-0001 --type daily --limit 50'],
  );
}
