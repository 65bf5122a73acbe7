import type { Command } from 'commander';
import { action, examples, parseIntStrict, type Ctx } from '../context.js';
import type { DemoResult } from '../../core/demo/index.js';

/** `rayon demo`: realistic synthetic history, for try-outs, the dashboard, fraud rules and benchmarks. */
export function registerDemo(program: Command): void {
  examples(
    program
      .command('demo')
      .description('write a realistic, deterministic history ending yesterday: users, catalog, redemptions, expiries, HTTP statistics, fraud patterns')
      .option('--users <n>', 'number of users', '2000')
      .option('--days <n>', 'days of history, ending yesterday (local days of each territory)', '60')
      .option('--seed <n>', 'random seed: the same seed and version give the same rows', '1')
      .option('--territories <codes>', 'comma-separated territory codes (default: every open or beta territory)')
      .option('--batch-size <n>', 'users generated and written per batch (memory bound)', '1000')
      .option('--stats', 'also print the process peak memory (max RSS), for benchmarks')
      .action(
        action(async (ctx, { opts }) => {
          const users = parseIntStrict(String(opts.users), '--users', { min: 1, max: 1_000_000 });
          const days = parseIntStrict(String(opts.days), '--days', { min: 1, max: 730 });
          const seed = parseIntStrict(String(opts.seed), '--seed', { allowZero: true, min: 0, max: 2_147_483_647 });
          const batchSize = parseIntStrict(String(opts.batchSize), '--batch-size', { min: 1, max: 100_000 });
          const territories = opts.territories === undefined ? undefined : parseTerritories(String(opts.territories));
          const bar = await progressBar(ctx);
          const { loadDemo } = await import('../../core/demo/index.js');
          const knex = (await ctx.db()).knex;
          const r = await loadDemo(knex, {
            users, days, seed, territories, batchSize, now: ctx.now(), actor: ctx.actor, allowExisting: ctx.config.yes,
            onProgress: bar ? (done, total) => bar.update(done, total) : undefined,
          }).finally(() => bar?.stop());
          const maxRssMb = opts.stats ? Math.round(process.resourceUsage().maxRSS / 1024) : undefined;
          render(ctx, r, maxRssMb);
        }),
      ),
    [
      'rayon demo',
      'rayon demo --users 200 --days 40 --seed 7 --territories RE,MQ',
      'rayon demo --users 100000 --days 90 --json --stats   # what bench:demo runs',
    ],
  );
}

/** Codes as typed (the core names any it does not know, with --territories). */
function parseTerritories(text: string): string[] {
  return text.split(',').map((c) => c.trim().toUpperCase());
}

/** A bar on stderr when it is a terminal (and not under --json): users generated and written. */
async function progressBar(ctx: Ctx): Promise<{ update(done: number, total: number): void; stop(): void } | null> {
  if (!process.stderr.isTTY || ctx.config.json) return null;
  const { default: cliProgress } = await import('cli-progress');
  const bar = new cliProgress.SingleBar({ stream: process.stderr, format: 'demo [{bar}] {percentage}% | {value}/{total} users | {eta_formatted} left', clearOnComplete: true }, cliProgress.Presets.shades_classic);
  let started = false;
  return {
    update(done, total) {
      if (!started) bar.start(total, 0);
      started = true;
      bar.update(done);
    },
    stop: () => started && bar.stop(),
  };
}

function render(ctx: Ctx, r: DemoResult, maxRssMb: number | undefined): void {
  const events = r.rows.transactions + r.rows.refused;
  const perSecond = Math.round(events / Math.max(r.elapsed_ms / 1000, 0.001));
  if (ctx.config.json) {
    ctx.out.data({ ...r, events, events_per_second: perSecond, ...(maxRssMb === undefined ? {} : { max_rss_mb: maxRssMb }) });
    return;
  }
  ctx.out.table(['what', 'rows'], Object.entries(r.rows).map(([k, v]) => [k, v]));
  ctx.out.table(['territory', 'from', 'to'], r.territories.map((t) => [t.code, t.from, t.to]));
  ctx.out.table(['fraud pattern', 'planted on'], Object.entries(r.fraud_patterns).map(([rule, who]) => [rule, who.join(', ')]));
  const p = r.points;
  ctx.out.info(`Points: ${p.credited} credited, ${p.redeemed} redeemed, ${p.refunded} refunded, ${p.expired} expired (the demo scale expires points after ${r.expiry_days} days).`);
  ctx.out.info(`Redemptions: ${r.redemptions.fulfilled} fulfilled, ${r.redemptions.pending} pending, ${r.redemptions.rejected} rejected and refunded.`);
  if (r.showcase_user) ctx.out.info(`A user with a story (joker, expiry, refund): rayon user show ${r.showcase_user}`);
  if (maxRssMb !== undefined) ctx.out.info(`Peak memory (max RSS): ${maxRssMb} MB.`);
  ctx.out.success(
    `Demo of seed ${r.seed}: ${r.users} users over ${r.days} days, ${events} events in ${(r.elapsed_ms / 1000).toFixed(1)} s ` +
      `(${perSecond} events/s, ${r.method === 'copy' ? 'COPY' : "the embedded database's COPY"}). Try: rayon ledger verify · rayon fraud scan --since ${r.days}d`,
  );
}
