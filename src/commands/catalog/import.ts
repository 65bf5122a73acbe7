import type { Command } from 'commander';
import { action, dryRunOption, examples } from '../context.js';
import type { CatalogImportResult } from '../../core/catalog/index.js';
import type { Output } from '../output.js';
import { fileProgress } from '../progress.js';
import { FORCE_DESCRIPTION, outputTarget } from '../output-file.js';

export function registerCatalogImport(catalog: Command): void {
  examples(
    catalog
      .command('import')
      .argument('<file>', 'catalog CSV (UTF-8, `,` or `;`)')
      .description('validate and upsert a partner catalog by sku, atomically (one bad row: nothing is written)')
      .addOption(dryRunOption())
      .option('--replace', 'deactivate active rewards that are not in the file (never deleted)')
      .option('--reject-file <file>', 'write the refused rows there, with an `error` column (never over the input)')
      .option('--force', FORCE_DESCRIPTION)
      .action(
        action(async (ctx, { args, opts }) => {
          const rejects = opts.rejectFile ? await outputTarget(ctx, opts.rejectFile, { option: '--reject-file', inputs: [args[0]], force: opts.force }) : undefined;
          const { importCatalog } = await import('../../core/catalog/index.js');
          const db = await ctx.db();
          if (!opts.dryRun) await ctx.confirm(`Import ${args[0]} into the catalog on ${db.label}${opts.replace ? ', deactivating rewards absent from it' : ''}?`);
          const progress = fileProgress(process.stderr, 'importing');
          const res = await importCatalog(db.knex, args[0], {
            actor: ctx.actor,
            now: ctx.now(),
            dryRun: Boolean(opts.dryRun),
            replace: Boolean(opts.replace),
            rejectFile: rejects?.file,
            replaceRejectFile: rejects?.replace,
            onProgress: progress.onProgress,
          }).finally(() => progress.stop());
          render(ctx.out, ctx.config.json, res, Boolean(opts.replace));
        }),
      ),
    [
      'rayon catalog import partners-2026.csv --dry-run',
      'rayon catalog import partners-2026.csv --yes --reject-file refused.csv',
      'rayon catalog import partners-2026.csv --yes --reject-file refused.csv --force   # replace the last refused.csv',
      'rayon catalog import full-catalog.csv --replace --yes',
    ],
  );
}

function render(out: Output, json: boolean, r: CatalogImportResult, replace: boolean): void {
  if (json) return out.data(r);
  const rows: unknown[][] = [
    ...r.details.new.map((n) => [n.line, n.sku, 'new', '']),
    ...r.details.updated.map((u) => [u.line, u.sku, 'updated', u.fields.join(', ')]),
    ...r.details.deactivated.map((s) => ['', s, 'deactivated', 'absent from the file']),
  ];
  if (rows.length) out.table(['line', 'sku', 'change', 'fields'], rows);
  const shown = rows.length;
  const changes = r.new + r.updated + r.deactivated;
  if (changes > shown) out.info(`(${shown} of ${changes} changes listed; --json gives the counts)`);
  const summary = `${r.rows} row(s): ${r.new} new, ${r.updated} updated, ${r.unchanged} unchanged${replace ? `, ${r.deactivated} deactivated` : ''}`;
  const cats = r.categoriesCreated.length ? `; new categories: ${r.categoriesCreated.join(', ')}` : '';
  if (r.dryRun) out.info(`Dry run of ${r.file} — ${summary}${cats}. Nothing was written.`);
  else if (changes === 0) out.info(`Nothing to change: ${r.file} matches the catalog (${r.rows} row(s) unchanged).`);
  else out.success(`Imported ${r.file} (sha256 ${r.sha256.slice(0, 12)}…) — ${summary}${cats}.`);
}
