import type { Command } from 'commander';
import { Option } from 'commander';
import { action, examples } from '../context.js';
import { FORCE_DESCRIPTION, outputTarget } from '../output-file.js';

export function registerCatalogExport(catalog: Command): void {
  examples(
    catalog
      .command('export')
      .argument('<file>', 'CSV file to write')
      .description('write the whole catalog as CSV that `catalog import` takes back unchanged (formula cells neutralised)')
      .addOption(new Option('--delimiter <d>', 'field delimiter').choices([',', ';']).default(','))
      .option('--bom', 'start with a UTF-8 BOM (helps older spreadsheets detect UTF-8)')
      .option('--force', FORCE_DESCRIPTION)
      .action(
        action(async (ctx, { args, opts }) => {
          const target = await outputTarget(ctx, args[0], { option: 'FILE', force: opts.force });
          const { exportCatalog } = await import('../../core/catalog/index.js');
          const db = await ctx.db();
          const res = await exportCatalog(db.knex, target.file, { delimiter: opts.delimiter, bom: Boolean(opts.bom), replace: target.replace, option: target.option });
          if (ctx.config.json) ctx.out.data(res);
          ctx.out.success(`Exported ${res.rows} reward(s) to ${res.file}.`);
        }),
      ),
    ['rayon catalog export catalog.csv', 'rayon catalog export catalog.csv --force   # replace yesterday\'s export', "rayon catalog export catalog-excel.csv --delimiter ';' --bom"],
  );
}
