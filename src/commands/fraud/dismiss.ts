import type { Command } from 'commander';
import { action, examples, parseIntStrict } from '../context.js';

export function registerFraudDismiss(fraud: Command): void {
  examples(
    fraud
      .command('dismiss')
      .argument('<case>', 'case id (from `rayon fraud cases`)')
      .requiredOption('--reason <text>', 'why it is a false positive (kept on the case and in the audit log)')
      .description('record a false positive: the rule reopens the case only on events later than the dismissal')
      .action(
        action(async (ctx, { args, opts }) => {
          const id = parseIntStrict(args[0], 'case id', { min: 1 });
          const { dismissCase } = await import('../../core/fraud/index.js');
          const r = await dismissCase((await ctx.db()).knex, id, { reason: opts.reason, actor: ctx.actor, now: ctx.now() });
          if (ctx.config.json) return ctx.out.data({ ...r.case, changed: r.changed });
          if (r.changed) ctx.out.success(`Case ${id} (${r.case.user_id}, ${r.case.rule}) dismissed.`);
          else ctx.out.info(`Case ${id} is already dismissed (by ${r.case.dismissed_by} at ${r.case.dismissed_at?.toISOString()}: ${r.case.dismiss_reason}); nothing changed.`);
        }),
      ),
    ['rayon fraud dismiss 42 --reason "family accounts, checked with support (SUP-981)"'],
  );
}
