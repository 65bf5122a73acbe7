import type { Command } from 'commander';
import { action, examples } from '../context.js';
import { RayonError } from '../../core/errors.js';

export function registerPointsExpire(points: Command): void {
  examples(
    points
      .command('expire')
      .option('--as-of <instant>', 'expire what is due at this instant (default: now; never later than now)')
      .option('--dry-run', 'count what would expire, write nothing')
      .option('--batch-size <n>', 'users per committed batch', '500')
      .description('the daily expiry run: idempotent, resumable, safe to run twice at once')
      .action(
        action(async (ctx, { opts }) => {
          const { expirePoints } = await import('../../core/ledger/index.js');
          const { parseInstant } = await import('../../core/time.js');
          const now = ctx.now();
          let asOf = now;
          if (opts.asOf) {
            const d = parseInstant(opts.asOf);
            if (!d) throw new RayonError('VALIDATION_ERROR', `--as-of must be an ISO instant with a zone, got ${JSON.stringify(opts.asOf)}`);
            asOf = d;
          }
          const cliProgress = process.stderr.isTTY && !ctx.config.json ? (await import('cli-progress')).default : null;
          const bar = cliProgress ? new cliProgress.SingleBar({ format: 'expiring {value} points for {users} users', clearOnComplete: true }) : null;
          bar?.start(0, 0, { users: 0 });
          const r = await expirePoints((await ctx.db()).knex, {
            asOf, now, actor: ctx.actor, dryRun: Boolean(opts.dryRun), batchSize: Number(opts.batchSize) || 500,
            onProgress: (p) => bar?.update(p.points, { users: p.users }),
          }).finally(() => bar?.stop());
          if (ctx.config.json) return ctx.out.data(r);
          if (r.points === 0) ctx.out.info(`Nothing to expire as of ${asOf.toISOString()}.`);
          else if (r.dryRun) ctx.out.info(`Dry run: ${r.points} point(s) in ${r.lots} lot(s) of ${r.users} user(s) would expire as of ${asOf.toISOString()}.`);
          else ctx.out.success(`Expired ${r.points} point(s) in ${r.lots} lot(s) of ${r.users} user(s) as of ${asOf.toISOString()}.`);
        }),
      ),
    ['rayon points expire', 'rayon points expire --dry-run', 'rayon points expire --as-of 2026-11-25T00:00:00Z'],
  );
}
