import type { Command } from 'commander';
import { action, examples, parseIntStrict } from '../context.js';
import type { CaseStatus } from '../../core/fraud/index.js';

export function registerFraudCases(fraud: Command): void {
  examples(
    fraud
      .command('cases')
      .option('--status <status>', 'only this status: open, dismissed or actioned')
      .option('--user <id>', 'only this user (or operator:<actor>)')
      .option('--limit <n>', 'rows (1-10000)', '1000')
      .description('the review queue: one case per user and rule, most recently seen first')
      .action(
        action(async (ctx, { opts }) => {
          const { CASE_STATUSES, listCases } = await import('../../core/fraud/index.js');
          const { RayonError } = await import('../../core/errors.js');
          if (opts.status !== undefined && !CASE_STATUSES.includes(opts.status)) {
            throw new RayonError('VALIDATION_ERROR', `--status ${JSON.stringify(opts.status)} is not one of ${CASE_STATUSES.join(', ')}`);
          }
          const rows = await listCases((await ctx.db()).knex, { status: opts.status as CaseStatus | undefined, userId: opts.user, limit: parseIntStrict(opts.limit, '--limit', { min: 1, max: 10_000 }) });
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
