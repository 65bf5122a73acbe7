import type { Command } from 'commander';
import { Option } from 'commander';
import type { KpiReport } from '../../core/kpi/index.js';
import { action, examples, type Ctx } from '../context.js';
import { FORCE_DESCRIPTION } from '../output-file.js';

const FORMATS = ['table', 'json', 'csv', 'html'] as const;
type Format = (typeof FORMATS)[number];

export function registerKpiReport(kpi: Command): void {
  examples(
    kpi
      .command('report')
      .description('the KPI dashboard for a period (local dates) and optionally a territory, as the ledger stood at --as-of')
      .option('--from <date>', 'first local date of the period (default: 30 days ending yesterday)')
      .option('--to <date>', 'last local date of the period (default: yesterday)')
      .option('--as-of <instant>', 'rebuild the ledger as it stood at this ISO instant (default: now)')
      .option('--territory <code>', 'only the users of this territory')
      .addOption(new Option('--format <format>', 'table, json, csv or html (--json = --format json)').choices([...FORMATS]))
      .option('--out <file>', 'write the report to this file instead of stdout')
      .option('--excel', 'CSV for a French spreadsheet: ";" between fields, decimal commas, a BOM (implies --format csv)')
      .option('--force', FORCE_DESCRIPTION)
      .action(action(async (ctx, { opts }) => runReport(ctx, opts))),
    [
      'rayon kpi report',
      'rayon kpi report --from 2026-11-01 --to 2026-11-30 --territory RE',
      'rayon kpi report --format html --out dashboard.html',
      'rayon kpi report --excel --out kpi.csv --force',
      'rayon kpi report --as-of 2026-12-01T00:00:00Z --json',
      'RAYON_REPORT_DATABASE_URL=postgres://replica/rayon rayon kpi report   # read a replica',
    ],
  );
}

interface ReportOpts {
  from?: string;
  to?: string;
  asOf?: string;
  territory?: string;
  format?: Format;
  out?: string;
  excel?: boolean;
  force?: boolean;
}

async function runReport(ctx: Ctx, opts: ReportOpts): Promise<number> {
  const { RayonError } = await import('../../core/errors.js');
  const format = chooseFormat(ctx, opts, (m, where) => new RayonError('VALIDATION_ERROR', m, { details: [{ where, message: m }] }));
  let asOf: Date | undefined;
  if (opts.asOf !== undefined) {
    const { parseInstant } = await import('../../core/time.js');
    asOf = parseInstant(opts.asOf) ?? undefined;
    if (!asOf) throw new RayonError('VALIDATION_ERROR', `--as-of must be an ISO instant with a zone (e.g. 2026-11-25T00:00:00Z), got ${JSON.stringify(opts.asOf)}`, { details: [{ where: '--as-of', message: 'not an ISO instant with a zone' }] });
  }
  // Settle the output file before any work: never over an input, an existing one only with --force.
  let target: Awaited<ReturnType<typeof import('../output-file.js').outputTarget>> | undefined;
  if (opts.out) target = await (await import('../output-file.js')).outputTarget(ctx, opts.out, { option: '--out', force: opts.force });

  const kpi = await import('../../core/kpi/index.js');
  const params = { from: opts.from, to: opts.to, asOf, now: ctx.now(), territory: opts.territory };
  let report: KpiReport;
  if (ctx.config.reportDatabaseUrl) {
    const { withDb } = await import('../../db/connect.js');
    report = await withDb({ databaseUrl: ctx.config.reportDatabaseUrl, dataDir: ctx.config.dataDir, poolMax: 2, applicationName: 'rayon-report' }, (db) => kpi.kpiReport(db.knex, params));
  } else {
    report = await kpi.kpiReport((await ctx.db()).knex, params);
  }

  const table = format === 'table' ? await import('./render-table.js') : undefined;
  if (table && !target) table.renderTable(ctx.out, report);
  const text =
    format === 'json' ? `${JSON.stringify(report, null, 2)}\n`
    : format === 'csv' ? await kpi.renderKpiCsv(report, { excel: opts.excel })
    : format === 'html' ? await kpi.renderKpiHtml(report)
    : target ? table!.tableText(report) : '';
  if (target) {
    const { writeOutputFile } = await import('../../core/files/index.js');
    const { dest } = await writeOutputFile(target.file, target, async (out) => {
      await new Promise<void>((resolve, reject) => out.write(text, (err) => (err ? reject(err) : resolve())));
    });
    ctx.out.success(`Wrote the ${format} report (${report.manifest.parameters.from} to ${report.manifest.parameters.to}) to ${dest}.`);
  } else if (text) {
    process.stdout.write(text);
  }
  const missing = report.figures.filter((f) => f.mark === 'not met').length;
  ctx.out.info(`${report.figures.filter((f) => f.mark === 'met').length} target(s) met, ${missing} not met, ${report.figures.filter((f) => f.mark === 'n/a').length} n/a; ledger as of ${report.manifest.as_of}.`);
  return 0;
}

function chooseFormat(ctx: Ctx, opts: ReportOpts, fail: (m: string, where: string) => Error): Format {
  if (ctx.config.json && opts.format && opts.format !== 'json') throw fail(`--json asks for JSON but --format is ${opts.format}: give one of them`, '--format');
  if (opts.excel && opts.format && opts.format !== 'csv') throw fail(`--excel is a CSV option: it does not apply to --format ${opts.format}`, '--excel');
  return opts.format ?? (ctx.config.json ? 'json' : opts.excel ? 'csv' : 'table');
}

export type { Format };
