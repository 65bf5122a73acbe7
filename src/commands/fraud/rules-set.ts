import type { Command } from 'commander';
import { action, examples } from '../context.js';

export function registerFraudRulesSet(rules: Command): void {
  examples(
    rules
      .command('set')
      .argument('<RULE.PARAM=V>', 'the parameter and its new value (a whole number)')
      .requiredOption('--reason <text>', 'why (kept in the audit log)')
      .description('change one rule parameter (audited: old and new values); back-test it first with `fraud scan --set`')
      .action(
        action(async (ctx, { args, opts }) => {
          const { parseAssignment, setRuleParam } = await import('../../core/fraud/index.js');
          const a = parseAssignment(args[0], 'RULE.PARAM=V');
          const r = await setRuleParam((await ctx.db()).knex, a, { reason: opts.reason, actor: ctx.actor, now: ctx.now() });
          if (ctx.config.json) return ctx.out.data(r);
          if (r.changed) ctx.out.success(`${r.rule}.${r.param}: ${r.previous} → ${r.value}.`);
          else ctx.out.info(`${r.rule}.${r.param} is already ${r.value}: nothing to change.`);
        }),
      ),
    ['rayon fraud rules set earn_velocity.max_per_hour=30 --reason "marketplace promo week, back-tested on 30d"'],
  );
}
