import type { Command } from 'commander';
import { action, examples } from '../context.js';

export function registerPointsCorrect(points: Command): void {
  examples(
    points
      .command('correct')
      .argument('<file>', 'CSV with columns user_id,amount,reason,ticket,ref (ref unique in the file)')
      .option('--dry-run', 'show what would be applied, write nothing')
      .option('--clamp', 'debits beyond a balance take what is left instead of refusing the file')
      .description('bulk corrections in one transaction; re-sending a file applies each row once')
      .action(
        action(async (ctx, { args, opts }) => {
          const { applyCorrections, parseCorrectionsCsv } = await import('../../core/corrections/index.js');
          const { readInputFile } = await import('../files.js');
          const file = parseCorrectionsCsv(readInputFile(args[0]), args[0]);
          const db = (await ctx.db()).knex;
          if (!opts.dryRun) await ctx.confirm(`Apply ${file.lines.length} correction row(s) from ${file.fileName}?`);
          const r = await applyCorrections(db, file, { now: ctx.now(), actor: ctx.actor, clamp: Boolean(opts.clamp), dryRun: Boolean(opts.dryRun) });
          const view = {
            batch_id: r.dryRun ? null : r.batchId, dry_run: r.dryRun, rows: r.total, applied: r.applied.length, already_applied: r.skipped.length,
            points: r.applied.reduce((s, a) => s + a.applied, 0), shortfall: r.applied.reduce((s, a) => s + a.shortfall, 0),
            lines: r.applied.map((a) => ({ user_id: a.userId, ref: a.ref, requested: a.requested, applied: a.applied, shortfall: a.shortfall, balance: a.balance, transaction_id: r.dryRun ? null : a.transactionId })),
          };
          if (ctx.config.json) return ctx.out.data(view);
          if (r.applied.length === 0) {
            ctx.out.info(`Nothing to do: all ${r.total} row(s) of ${file.fileName} were already applied.`);
            return;
          }
          ctx.out.table(['user', 'ref', 'requested', 'applied', 'shortfall', 'balance'], view.lines.map((l) => [l.user_id, l.ref, l.requested, l.applied, l.shortfall || '', l.balance]));
          const head = r.dryRun ? 'Dry run, nothing written:' : `${r.batchId}:`;
          ctx.out.success(`${head} ${r.applied.length} row(s) applied (${view.points} points net), ${r.skipped.length} already applied before.`);
          if (view.shortfall > 0) ctx.out.warn(`shortfall of ${view.shortfall} point(s) on clamped debits.`);
        }),
      ),
    ['rayon points correct corrections.csv --dry-run', 'rayon points correct corrections.csv --yes'],
  );
}
