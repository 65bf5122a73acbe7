import type { Command } from 'commander';
import { action, examples, parseIntStrict } from '../context.js';
import { approveRedemption } from '../../core/redemption/index.js';

export function registerRedemptionApprove(redemption: Command): void {
  examples(
    redemption
      .command('approve')
      .argument('<id>', 'redemption id')
      .description('approve a pending (manual) redemption: it becomes fulfilled, exactly once')
      .action(
        action(async (ctx, { args }) => {
          const id = parseIntStrict(args[0], 'redemption id', { min: 1 });
          const r = await approveRedemption((await ctx.db()).knex, id, { actor: ctx.actor, now: ctx.now() });
          if (ctx.config.json) return ctx.out.data(r);
          ctx.out.success(`Redemption ${id} of ${r.user_id} approved (fulfilled).`);
        }),
      ),
    ['rayon redemption approve 42'],
  );
}
