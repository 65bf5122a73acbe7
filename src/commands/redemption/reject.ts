import type { Command } from 'commander';
import { action, examples, parseIntStrict } from '../context.js';

export function registerRedemptionReject(redemption: Command): void {
  examples(
    redemption
      .command('reject')
      .argument('<id>', 'redemption id')
      .requiredOption('--reason <text>', 'why (kept on the redemption and in the audit log)')
      .description('reject a pending redemption: points come back as re-credits, the unit returns to stock')
      .action(
        action(async (ctx, { args, opts }) => {
          const id = parseIntStrict(args[0], 'redemption id', { min: 1 });
          const { rejectRedemption } = await import('../../core/redemption/index.js');
          const r = await rejectRedemption((await ctx.db()).knex, id, { actor: ctx.actor, now: ctx.now(), reason: opts.reason });
          if (ctx.config.json) return ctx.out.data(r);
          ctx.out.success(`Redemption ${id} rejected: ${r.points_refunded} point(s) back to ${r.user_id} (balance ${r.balance}).`);
        }),
      ),
    ['rayon redemption reject 42 --reason "partner out of business"'],
  );
}
