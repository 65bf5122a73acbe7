import { type Command, Option } from 'commander';
import { action, examples, parseIntStrict } from '../context.js';
import { CASE_STATUSES, listCases } from '../../core/fraud/index.js';

export function registerFraudCases(fraud: Command): void {
  examples(
    fraud
      .command('cases')
      .addOption(new Option('--status <status>', 'only this status').choices([...CASE_STATUSES]))
      .option('--user <id>', 'only this user (or operator:<actor>)')
      .option('--limit <n>', 'rows (1-10000)', '1000')
      .description('the review queue: one case per user and rule, most recently seen first')
      .action(
        action(async (ctx, { opts }) => {
          const rows = await listCases((await ctx.db()).knex, { status: opts.status, userId: opts.user, limit: parseIntStrict(opts.limit, '--limit', { min: 1, max: 10_000 }) });
          if (ctx.config.json) return ctx.out.data(rows);
          ctx.out.table(
            ['case', 'user', 'rule', 'status', 'score', 'first seen', 'last seen', 'evidence', 'dismissed'],
            rows.map((c) => [c.id, c.user_id, c.rule, c.status, c.score, c.first_seen, c.last_seen, c.evidence, c.dismissed_at ? `${c.dismissed_by}: ${c.dismiss_reason}` : '']),
          );
          ctx.out.info(`${rows.length} case(s).`);
        }),
      ),
    ['rayon fraud cases --status open', 'rayon fraud cases --user u-re-0042 --json'],
  );
}
