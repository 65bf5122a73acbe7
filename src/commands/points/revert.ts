import type { Command } from 'commander';
import { action, examples } from '../context.js';

export function registerPointsRevert(points: Command): void {
  examples(
    points
      .command('revert')
      .argument('<id>', 'a transaction id, or a batch id (batch_…)')
      .requiredOption('--reason <text>', 'why')
      .description('undo a daily, earn or adjustment transaction, or a whole correction batch — atomically, once')
      .action(
        action(async (ctx, { args, opts }) => {
          const { revert } = await import('../../core/corrections/index.js');
          const db = (await ctx.db()).knex;
          await ctx.confirm(`Revert ${args[0]}?`);
          const r = await revert(db, args[0], { reason: opts.reason, actor: ctx.actor, now: ctx.now() });
          if (ctx.config.json) return ctx.out.data(r);
          ctx.out.table(
            ['transaction', 'user', 'type', 'amount', 'taken back', 'shortfall', 'balance', 'status'],
            r.items.map((i) => [i.transactionId, i.userId, i.type, i.amount, i.taken, i.shortfall || '', i.balance, i.status]),
          );
          ctx.out.success(`Reverted ${r.items.length} transaction(s) of ${r.target}.`);
          const short = r.items.reduce((s, i) => s + i.shortfall, 0);
          if (short > 0) ctx.out.warn(`${short} point(s) had already been spent or expired and could not be taken back.`);
        }),
      ),
    ['rayon points revert 1234 --reason "awarded twice" --yes', 'rayon points revert batch_3f2a9c1d0b7e4a55 --reason "wrong file" --yes'],
  );
}
