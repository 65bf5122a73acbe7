import type { Command } from 'commander';
import { action, examples } from '../context.js';
import { validationError } from '../../core/errors.js';

export function registerScaleSet(scale: Command): void {
  examples(
    scale
      .command('set')
      .argument('<assignments...>', 'PATH=VALUE pairs (VALUE is JSON when it parses, null removes a key)')
      .requiredOption('--effective <date>', 'local date YYYY-MM-DD it takes effect, after today in every territory')
      .requiredOption('--reason <text>', 'why (kept with the version and in the audit log)')
      .option('--dry-run', 'show the change, write nothing')
      .description('a new scale version: the one in force on that date with some values changed')
      .action(
        action(async (ctx, { args, opts }) => {
          if (!String(opts.reason).trim()) throw validationError('--reason must not be empty', [{ where: '--reason', message: 'empty' }]);
          const { parseAssignment, planScaleSet, writeScaleVersion } = await import('../../core/scale/index.js');
          const { renderPlan } = await import('./render.js');
          const assignments = args.map(parseAssignment);
          const db = (await ctx.db()).knex;
          const plan = await planScaleSet(db, assignments, opts.effective, ctx.now());
          if (plan.changes.length === 0) return ctx.out.info(`Nothing to do: version ${plan.base.version} already has these values.`);
          renderPlan(ctx.out, plan, ctx.config.json);
          if (opts.dryRun) return ctx.out.info('Dry run: nothing written.');
          await ctx.confirm(`Write these ${plan.changes.length} change(s) as a new scale version effective ${plan.effective}?`);
          const v = await writeScaleVersion(db, plan, { reason: opts.reason, actor: ctx.actor, now: ctx.now(), via: 'set', source: args.join(' ') });
          ctx.out.success(`Scale version ${v.version} written, effective from ${v.effective_from}.`);
        }),
      ),
    [
      'rayon scale set actions.review_posted.points=15 --effective 2027-01-01 --reason "boost reviews"',
      'rayon scale set daily.multipliers[4].multiplier=2.5 actions.profile_completed=null --effective 2027-01-01 --reason "Q1 plan" --yes',
      'rayon scale set \'actions.photo_added={"points":5,"daily_cap":3,"user_reportable":true}\' --effective 2027-01-01 --reason "new action"',
    ],
  );
}
