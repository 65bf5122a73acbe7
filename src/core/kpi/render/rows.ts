import type { KpiReport } from '../report.js';

/**
 * The report flattened to rows (section, item, value, unit, target, mark, definition), shared by
 * the CSV and the HTML foot so both say the same thing.
 */
export interface FlatRow {
  section: 'kpi' | 'programme' | 'manifest';
  id: string;
  name: string;
  /** The value in the unit's base, as text (a fraction for percents); empty when there is none. */
  value: string;
  display: string;
  unit: string;
  target: string;
  mark: string;
  baseline: string;
  change: string;
  definition: string;
}

export function flatten(r: KpiReport): FlatRow[] {
  const rows: FlatRow[] = r.figures.map((f) => ({
    section: 'kpi',
    id: f.id,
    name: f.name,
    value: f.value === null ? '' : f.unit === 'eur' && f.exact ? f.exact : String(f.value),
    display: f.display,
    unit: f.unit,
    target: f.target_text,
    mark: f.mark,
    baseline: f.baseline?.display ?? '',
    change: f.change?.display ?? '',
    definition: f.definition,
  }));
  const amount = (id: string, name: string, a: { points: number | null; eur: string | null; display: string }, definition: string) => {
    rows.push({ section: 'programme', id: `${id}_points`, name: `${name} (points)`, value: a.points === null ? '' : String(a.points), display: a.display, unit: 'points', target: '', mark: '', baseline: '', change: '', definition });
    rows.push({ section: 'programme', id: `${id}_eur`, name: `${name} (€)`, value: a.eur ?? '', display: a.eur === null ? a.display : `${a.eur} €`, unit: 'eur', target: '', mark: '', baseline: '', change: '', definition });
  };
  amount('liability', 'liability', r.liability, 'points outstanding at the as-of instant (lots not yet expired)');
  amount('breakage', 'breakage', r.breakage, 'points expired in the period');
  for (const f of r.forecast) amount(`expiring_${f.within_days}d`, `expiring within ${f.within_days} days`, f, `points outstanding whose lot expires within ${f.within_days} days of the as-of instant`);
  const m = r.manifest;
  const meta: Array<[string, string]> = [
    ['from', m.parameters.from],
    ['to', m.parameters.to],
    ['territory', m.parameters.territory ?? 'all'],
    ['as_of', m.as_of],
    ['baseline', `${m.baseline.from}..${m.baseline.to}`],
    ['last_transaction_id', m.high_water_mark.last_transaction_id === null ? '' : String(m.high_water_mark.last_transaction_id)],
    ['last_transaction_at', m.high_water_mark.last_transaction_at ?? ''],
    ['ledger_rows', String(m.high_water_mark.rows)],
    ['ledger_sum', String(m.high_water_mark.sum)],
    ['point_value_eur', m.point_value_eur ?? ''],
    ['scale_version', m.scale_version === null ? '' : String(m.scale_version)],
    ['software_version', m.software_version],
  ];
  for (const [id, v] of meta) rows.push({ section: 'manifest', id, name: id, value: v, display: v, unit: '', target: '', mark: '', baseline: '', change: '', definition: '' });
  return rows;
}
