import type { Command } from 'commander';
import { action, examples } from '../context.js';
import type { SimulationRow } from '../../core/earning/index.js';

const SHOWN_STATUS_CHANGES = 20;

export function registerScaleSimulate(scale: Command): void {
  examples(
    scale
      .command('simulate')
      .argument('<file>', 'the proposed scale document (JSON)')
      .requiredOption('--from <date>', 'first local date of the period (YYYY-MM-DD)')
      .requiredOption('--to <date>', 'last local date of the period, inclusive')
      .description("what the period's real events would have earned under the proposed scale, by territory and action")
      .action(
        action(async (ctx, { args, opts }) => {
          const { parseScaleJson } = await import('../../core/scale/index.js');
          const { simulateScale } = await import('../../core/earning/index.js');
          const { readInputFile } = await import('../files.js');
          const candidate = parseScaleJson(readInputFile(args[0]).toString('utf8'), args[0]);
          const sim = await simulateScale((await ctx.db()).knex, candidate, opts.from, opts.to);
          if (ctx.config.json) return ctx.out.data(sim);
          ctx.out.text(`Simulation of ${args[0]} over ${sim.from} … ${sim.to} (${sim.users} users with events):`);
          const line = (r: SimulationRow) => [
            r.territory, r.action, r.actual_count, r.actual_points, `${r.actual_eur} €`, r.proposed_count, r.proposed_points, `${r.proposed_eur} €`,
            `${r.delta_points > 0 ? '+' : ''}${r.delta_points}`, r.actual_points ? `${r.delta_points >= 0 ? '+' : ''}${((100 * r.delta_points) / r.actual_points).toFixed(1)}%` : '—',
          ];
          ctx.out.table(
            ['territory', 'action', 'credits', 'points', '€', 'credits (proposed)', 'points (proposed)', '€ (proposed)', 'Δ points', 'Δ %'],
            [...sim.rows.map(line), line(sim.total)],
          );
          if (sim.status_changes.length === 0) return ctx.out.text('No user would change status.');
          ctx.out.text(`${sim.status_changes.length} user(s) would end the period with another status:`);
          ctx.out.table(
            ['user', 'status', 'status (proposed)', 'lifetime points', 'lifetime (proposed)'],
            sim.status_changes.slice(0, SHOWN_STATUS_CHANGES).map((s) => [s.user_id, s.actual_status, s.proposed_status, s.actual_lifetime, s.proposed_lifetime]),
          );
          if (sim.status_changes.length > SHOWN_STATUS_CHANGES) ctx.out.text(`… and ${sim.status_changes.length - SHOWN_STATUS_CHANGES} more (--json lists them all).`);
        }),
      ),
    ['rayon scale simulate proposal.json --from 2026-10-01 --to 2026-10-31', 'rayon scale simulate proposal.json --from 2026-10-01 --to 2026-10-31 --json'],
  );
}
