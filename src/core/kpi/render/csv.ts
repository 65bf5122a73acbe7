import { stringify } from 'csv-stringify/sync';
import { neutralise } from '../../catalog/index.js';
import type { KpiReport } from '../report.js';
import { flatten, type FlatRow } from './rows.js';

/**
 * One row per figure, then the programme's amounts and the manifest. Plain: `,` and decimal
 * points. `excel`: what a French spreadsheet opens as is — `;` between fields, a BOM so it reads
 * UTF-8, and numeric values with a decimal comma so they land as numbers. Cells a spreadsheet
 * would run as a formula are neutralised as in the catalog export.
 */
const COLUMNS: Array<keyof FlatRow> = ['section', 'id', 'name', 'value', 'display', 'unit', 'target', 'mark', 'baseline', 'change', 'definition'];

const NUMBER_RE = /^-?\d+(\.\d+)?$/;

export function renderCsv(report: KpiReport, opts: { excel?: boolean } = {}): string {
  const excel = Boolean(opts.excel);
  const rows = flatten(report).map((r) =>
    COLUMNS.map((c) => {
      const v = r[c];
      // A number stays a number (a negative one too); any other cell a spreadsheet would run as a
      // formula ("+10.00 pts") gets the house's neutralising quote.
      if (NUMBER_RE.test(v)) return excel ? v.replace('.', ',') : v;
      return neutralise(v);
    }),
  );
  return stringify([COLUMNS, ...rows], { delimiter: excel ? ';' : ',', bom: excel, record_delimiter: excel ? 'windows' : 'unix' });
}
