import type { Command } from 'commander';
import { action, examples } from '../context.js';

export function registerUserBeta(user: Command): void {
  examples(
    user
      .command('beta')
      .argument('<user>', 'user id')
      .argument('<on|off>', 'flag or unflag')
      .description('flag a user for the closed beta of a territory (territory launch CODE --beta)')
      .action(
        action(async (ctx, { args }) => {
          const [id, flag] = args;
          if (flag !== 'on' && flag !== 'off') {
            const { RayonError } = await import('../../core/errors.js');
            throw new RayonError('VALIDATION_ERROR', `expected on or off, got ${JSON.stringify(flag)}`);
          }
          const { setBeta } = await import('../../core/users/index.js');
          const changed = await setBeta((await ctx.db()).knex, id, flag === 'on', { now: ctx.now(), actor: ctx.actor });
          if (ctx.config.json) ctx.out.data({ id, beta: flag === 'on', changed });
          if (changed) ctx.out.success(`User ${id}: beta ${flag}.`);
          else ctx.out.info(`User ${id} already has beta ${flag}: nothing to do.`);
        }),
      ),
    ['rayon user beta u-mq-0001 on'],
  );
}
