/**
 * KPI reports (SPEC "KPIs"): the dashboard's figures, liability, breakage and the expiry
 * forecast, computed set-based in SQL from the ledger as it stood at an instant, with a manifest.
 *
 * The room's door: everything outside src/core/kpi/ imports it through this file; the room's own
 * files import each other directly. The renderers load their libraries (csv-stringify, d3) only
 * when a report in their format is asked for.
 */
import type { KpiReport } from './report.js';

export { KPI_DEFINITIONS, type KpiDefinition, type KpiId } from './definitions.js';
export { EXTERNAL, NO_DATA, type Figure, type Mark } from './figures.js';
export type { Manifest } from './manifest.js';
export { centsToText, eurCents } from './money.js';
export { resolvePeriods, type Period, type Periods } from './period.js';
export { kpiReport, type Amount, type KpiReport, type ReportOptions } from './report.js';

/** The report as CSV, one row per figure; `excel`: `;`, decimal commas and a BOM for a French spreadsheet. */
export async function renderKpiCsv(report: KpiReport, opts: { excel?: boolean } = {}): Promise<string> {
  return (await import('./render/csv.js')).renderCsv(report, opts);
}

/** The report as one self-contained HTML page with inline SVG charts. */
export async function renderKpiHtml(report: KpiReport): Promise<string> {
  return (await import('./render/html.js')).renderHtml(report);
}
