import type { Command } from 'commander';
import { action, examples, parseIntStrict } from '../context.js';

export function registerPointsAdjust(points: Command): void {
  examples(
    points
      .command('adjust')
      .argument('<user>', 'user id')
      .argument('<amount>', 'points to give (50) or take back (-50)')
      .requiredOption('--reason <text>', 'why (kept in the ledger and the audit log)')
      .option('--ticket <ref>', 'support ticket reference')
      .option('--clamp', 'for a debit beyond the balance: take what is left and report the shortfall')
      .description('one manual correction, as its own batch: a compensating credit or debit')
      .action(
        action(async (ctx, { args, opts }) => {
          const { adjustPoints } = await import('../../core/corrections/index.js');
          const { assertPointsAmount } = await import('../../core/bounds.js');
          const amount = parseIntStrict(args[1], 'amount');
          assertPointsAmount(amount, 'amount'); // before a connection is even opened
          const r = await adjustPoints(
            (await ctx.db()).knex,
            { userId: args[0], amount, reason: opts.reason, ticket: opts.ticket ?? null, clamp: Boolean(opts.clamp) },
            { now: ctx.now(), actor: ctx.actor },
          );
          const view = { batch_id: r.batchId, transaction_id: r.transactionId, user_id: r.userId, requested: r.requested, applied: r.applied, shortfall: r.shortfall, balance: r.balance };
          if (ctx.config.json) return ctx.out.data(view);
          ctx.out.text(`${r.batchId}  transaction ${r.transactionId}  ${r.applied > 0 ? '+' : ''}${r.applied} → balance ${r.balance}`);
          if (r.shortfall > 0) ctx.out.warn(`only ${-r.applied} of ${-r.requested} points could be taken: shortfall ${r.shortfall}.`);
        }),
      ),
    [
      'rayon points adjust u-re-0001 150 --reason "missed award, app outage" --ticket SUP-1234',
      'rayon points adjust u-re-0001 -50 --reason "duplicate award"',
      'rayon points adjust u-re-0001 -500 --reason "clawback" --clamp',
    ],
  );
}
