import { Writable } from 'node:stream';
import type { KpiReport } from '../../core/kpi/index.js';
import { Output } from '../output.js';

/**
 * The dashboard as text through the output module: one row per KPI with its value, change,
 * target and a coloured met / not met / n/a mark, then liability, breakage and the forecast, then
 * the manifest. Loaded only when a table is asked for.
 */
export function renderTable(out: Output, r: KpiReport): void {
  const c = out.c;
  const mark = (m: string) => (m === 'met' ? c.green(m) : m === 'not met' ? c.red(m) : c.dim(m));
  out.table(
    ['KPI', 'value', 'change vs baseline', 'target', 'mark'],
    r.figures.map((f) => [f.name, f.value === null ? (f.missing ?? f.display) : f.display, f.change && f.value !== null ? `${f.change.display} (baseline ${f.baseline?.display})` : '', f.target_text, mark(f.mark)]),
  );
  out.table(['programme', 'value'], [
    ['liability', r.liability.display],
    ['breakage (expired in the period)', r.breakage.display],
    ...r.forecast.map((f) => [`expiring within ${f.within_days} days`, f.display]),
  ]);
  const m = r.manifest;
  const h = m.high_water_mark;
  out.text(`period ${m.parameters.from} to ${m.parameters.to} (baseline ${m.baseline.from} to ${m.baseline.to}), ${m.parameters.territory ?? 'all territories'}`);
  out.text(`as of ${m.as_of}; ledger ${h.last_transaction_id === null ? 'empty' : `up to transaction ${h.last_transaction_id} at ${h.last_transaction_at}: ${h.rows} rows, sum ${h.sum}`}`);
  out.text(`point value ${m.point_value_eur ?? 'n/a'} € (scale ${m.scale_version ?? 'n/a'}); rayon ${m.software_version}`);
}

/** The same table as plain text (no colour), for --out. */
export function tableText(r: KpiReport): string {
  let text = '';
  const sink = new Writable({
    write(chunk, _enc, done) {
      text += String(chunk);
      done();
    },
  });
  renderTable(new Output(false, false, sink, sink), r);
  return text;
}
