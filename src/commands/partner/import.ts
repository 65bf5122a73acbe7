import type { Command } from 'commander';
import { action, dryRunOption, examples } from '../context.js';

export function registerPartnerImport(partner: Command): void {
  examples(
    partner
      .command('import')
      .argument('<file>', 'CSV with code,name,territory,commission_rate[,contract_details]')
      .description('upsert partners by code, atomically (one bad row: nothing is written)')
      .addOption(dryRunOption())
      .action(
        action(async (ctx, { args, opts }) => {
          const { importPartners } = await import('../../core/catalog/index.js');
          const db = await ctx.db();
          if (!opts.dryRun) await ctx.confirm(`Import partners from ${args[0]} on ${db.label}?`);
          const r = await importPartners(db.knex, args[0], { actor: ctx.actor, now: ctx.now(), dryRun: Boolean(opts.dryRun) });
          if (ctx.config.json) return ctx.out.data(r);
          const summary = `${r.rows} row(s): ${r.new} new, ${r.updated} updated, ${r.unchanged} unchanged`;
          if (r.dryRun) ctx.out.info(`Dry run of ${r.file} — ${summary}. Nothing was written.`);
          else if (r.new + r.updated === 0) ctx.out.info(`Nothing to change: ${r.file} matches the partners (${summary}).`);
          else ctx.out.success(`Imported ${r.file} — ${summary}.`);
        }),
      ),
    ['rayon partner import partners.csv --dry-run', 'rayon partner import partners.csv --yes'],
  );
}
