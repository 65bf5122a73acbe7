import type { Command } from 'commander';
import { action, examples } from '../context.js';
import { validationError } from '../../core/errors.js';

export function registerScaleApply(scale: Command): void {
  examples(
    scale
      .command('apply')
      .argument('<file>', 'a whole scale document (JSON)')
      .requiredOption('--effective <date>', 'local date YYYY-MM-DD it takes effect, after today in every territory')
      .requiredOption('--reason <text>', 'why (kept with the version and in the audit log)')
      .option('--dry-run', 'validate and show the change, write nothing')
      .description('a new scale version from a file, after showing what changes')
      .action(
        action(async (ctx, { args, opts }) => {
          if (!String(opts.reason).trim()) throw validationError('--reason must not be empty', [{ where: '--reason', message: 'empty' }]);
          const { planScaleChange, writeScaleVersion, parseScaleJson } = await import('../../core/scale/index.js');
          const { readInputFile } = await import('../files.js');
          const { renderPlan } = await import('./render.js');
          const candidate = parseScaleJson(readInputFile(args[0]).toString('utf8'), args[0]);
          const db = (await ctx.db()).knex;
          const plan = await planScaleChange(db, candidate, opts.effective, ctx.now());
          if (plan.changes.length === 0) return ctx.out.info(`Nothing to do: ${args[0]} is identical to version ${plan.base.version}, in force on ${plan.effective}.`);
          renderPlan(ctx.out, plan, ctx.config.json);
          if (opts.dryRun) return ctx.out.info('Dry run: nothing written.');
          await ctx.confirm(`Write ${args[0]} as a new scale version effective ${plan.effective} (${plan.changes.length} change(s))?`);
          const v = await writeScaleVersion(db, plan, { reason: opts.reason, actor: ctx.actor, now: ctx.now(), via: 'apply', source: args[0] });
          ctx.out.success(`Scale version ${v.version} written, effective from ${v.effective_from}.`);
        }),
      ),
    ['rayon scale apply scale-2027.json --effective 2027-01-01 --reason "2027 programme"', 'rayon scale apply scale-2027.json --effective 2027-01-01 --reason "check" --dry-run'],
  );
}
