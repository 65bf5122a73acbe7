import type { Command } from 'commander';
import { action, examples, parseIntStrict } from '../context.js';

export function registerRedemptionApprove(redemption: Command): void {
  examples(
    redemption
      .command('approve')
      .argument('<id>', 'redemption id')
      .option('--force', "approve even though the user is suspended (their pending redemptions are held otherwise); recorded in the audit log")
      .description('approve a pending (manual) redemption: it becomes fulfilled, exactly once')
      .action(
        action(async (ctx, { args, opts }) => {
          const id = parseIntStrict(args[0], 'redemption id', { min: 1 });
          const { approveRedemption } = await import('../../core/redemption/index.js');
          const r = await approveRedemption((await ctx.db()).knex, id, { actor: ctx.actor, now: ctx.now(), force: Boolean(opts.force) });
          if (ctx.config.json) return ctx.out.data(r);
          if (r.forced) ctx.out.warn(`User ${r.user_id} is suspended: approved because of --force.`);
          ctx.out.success(`Redemption ${id} of ${r.user_id} approved (fulfilled).`);
        }),
      ),
    ['rayon redemption approve 42', 'rayon redemption approve 42 --force   # the user is suspended, approved after review'],
  );
}
