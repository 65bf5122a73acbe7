import type { Command } from 'commander';
import { action, examples } from '../context.js';
import { validationError } from '../../core/errors.js';

export function registerScaleShow(scale: Command): void {
  examples(
    scale
      .command('show')
      .option('--at <date>', 'the version in force on this local date YYYY-MM-DD (default: today, UTC)')
      .description('print the scale in force on a date')
      .action(
        action(async (ctx, { opts }) => {
          const { scaleAt } = await import('../../core/scale/index.js');
          const { isIsoDate } = await import('../../core/time.js');
          const { renderScale } = await import('./render.js');
          const date: string = opts.at ?? ctx.now().toISOString().slice(0, 10);
          if (!isIsoDate(date)) throw validationError(`--at must be a date YYYY-MM-DD, got ${JSON.stringify(date)}`, [{ where: '--at', message: 'not a date' }]);
          const v = await scaleAt((await ctx.db()).knex, date);
          if (ctx.config.json) return ctx.out.data(v);
          renderScale(ctx.out, v);
        }),
      ),
    ['rayon scale show', 'rayon scale show --at 2027-01-01', 'rayon scale show --json | jq .document.actions'],
  );
}
