import type { Command } from 'commander';
import { action, examples } from '../context.js';

export function registerFraudLift(fraud: Command): void {
  examples(
    fraud
      .command('lift')
      .argument('<user>', 'user id, or email (any case)')
      .requiredOption('--reason <text>', 'why (kept on the suspension and in the audit log)')
      .option('--restore-points', 're-credit exactly what the suspension voided, lot by lot (re-credit expiry rule, not lifetime points)')
      .description('end a user\'s suspension')
      .action(
        action(async (ctx, { args, opts }) => {
          const { resolveUser } = await import('../../core/users/index.js');
          const { liftUser } = await import('../../core/fraud/index.js');
          const knex = (await ctx.db()).knex;
          const user = await resolveUser(knex, args[0]);
          const r = await liftUser(knex, { userId: user.id, reason: opts.reason, actor: ctx.actor, restorePoints: Boolean(opts.restorePoints), now: ctx.now() });
          if (ctx.config.json) return ctx.out.data(r);
          if (r.noop || !r.suspension) {
            ctx.out.info(`${user.id} is not suspended; nothing changed.`);
            return;
          }
          ctx.out.success(`Suspension ${r.suspension.id} of ${user.id} lifted.`);
          if (r.restored.length) {
            ctx.out.table(
              ['lot voided', 'its expiry', 'points', 'restore transaction', 'new expiry'],
              r.restored.map((l) => [l.lot_id, l.expires_at, l.points, l.transaction_id, l.new_expires_at]),
            );
            ctx.out.info(`${r.points_restored} point(s) restored.`);
          } else if (opts.restorePoints) {
            ctx.out.info('The suspension voided no points: nothing to restore.');
          }
          if (r.points_left_voided > 0) ctx.out.warn(`${r.points_left_voided} voided point(s) stay voided (lifted without --restore-points).`);
        }),
      ),
    [
      'rayon fraud lift u-re-0042 --reason "investigated, honest user (SUP-1204)" --restore-points',
      'rayon fraud lift u-re-0042 --reason "chargeback settled"',
    ],
  );
}
