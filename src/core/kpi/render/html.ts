import type { Figure } from '../figures.js';
import type { KpiReport } from '../report.js';
import { collectionChart, flowsChart, liabilityChart, streaksChart, type Chart } from './charts.js';
import { esc } from './svg.js';

/**
 * The report as ONE self-contained HTML file: no script, no network (no font, image or style
 * sheet fetched), the charts as inline SVG, each KPI's definition beside its figure, the manifest
 * at the foot; laid out for A4 when printed.
 */

const CSS = `
  :root { color-scheme: light; }
  body { font: 13px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1f2328; margin: 24px auto; max-width: 1000px; padding: 0 16px; }
  h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 16px; margin: 24px 0 8px; border-bottom: 1px solid #d0d7de; padding-bottom: 4px; }
  .sub { color: #57606a; margin: 0 0 12px; }
  table { border-collapse: collapse; width: 100%; } th, td { text-align: left; vertical-align: top; padding: 5px 8px; border-bottom: 1px solid #d0d7de; }
  th { background: #f6f8fa; font-weight: 600; } td.num { white-space: nowrap; font-variant-numeric: tabular-nums; }
  td.def { color: #57606a; font-size: 12px; }
  .mark { font-weight: 600; white-space: nowrap; } .met { color: #1a7f37; } .not-met { color: #cf222e; } .na { color: #57606a; }
  .charts figure { margin: 0 0 16px; break-inside: avoid; page-break-inside: avoid; }
  .charts svg { width: 100%; height: auto; max-width: 720px; display: block; }
  figcaption { font-weight: 600; margin-bottom: 4px; }
  footer { margin-top: 24px; font-size: 12px; color: #57606a; } footer table td, footer table th { padding: 2px 8px; }
  @page { size: A4; margin: 14mm; }
  @media print {
    body { margin: 0; max-width: none; font-size: 10.5pt; }
    h2 { break-after: avoid; page-break-after: avoid; }
    tr, figure { break-inside: avoid; page-break-inside: avoid; }
    .charts svg { max-width: 100%; }
  }
`;

const markClass = (m: Figure['mark']) => (m === 'met' ? 'met' : m === 'not met' ? 'not-met' : 'na');

function dashboard(r: KpiReport): string {
  const rows = r.figures
    .map((f) => {
      const vs = f.change ? `${esc(f.change.display)} vs ${esc(f.baseline?.display ?? '')}` : '';
      const why = f.value === null && f.missing && f.missing !== f.display ? `<br><small>${esc(f.missing)}</small>` : '';
      return `<tr id="kpi-${esc(f.id)}"><td>${esc(f.name)}</td><td class="num">${esc(f.display)}${why}</td><td class="num">${vs}</td><td class="num">${esc(f.target_text)}</td>` +
        `<td class="mark ${markClass(f.mark)}">${esc(f.mark)}</td><td class="def">${esc(f.definition)}${f.note ? `<br><em>${esc(f.note)}</em>` : ''}</td></tr>`;
    })
    .join('\n');
  return `<table class="dashboard"><thead><tr><th>KPI</th><th>value</th><th>change vs baseline</th><th>target</th><th>mark</th><th>definition</th></tr></thead><tbody>\n${rows}\n</tbody></table>`;
}

function programme(r: KpiReport): string {
  const row = (name: string, display: string, def: string) => `<tr><td>${esc(name)}</td><td class="num">${esc(display)}</td><td class="def">${esc(def)}</td></tr>`;
  return `<table class="programme"><thead><tr><th>figure</th><th>value</th><th>definition</th></tr></thead><tbody>
${row('liability', r.liability.display, 'points outstanding at the as-of instant, in points and €')}
${row('breakage', r.breakage.display, 'points expired in the period')}
${r.forecast.map((f) => row(`expiring within ${f.within_days} days`, f.display, `points outstanding whose lot expires within ${f.within_days} days of the as-of instant`)).join('\n')}
</tbody></table>`;
}

function manifest(r: KpiReport): string {
  const m = r.manifest;
  const h = m.high_water_mark;
  const items: Array<[string, string]> = [
    ['period', `${m.parameters.from} to ${m.parameters.to} (local dates, inclusive)`],
    ['baseline', `${m.baseline.from} to ${m.baseline.to}`],
    ['territory', m.parameters.territory ?? 'all territories'],
    ['as of', `${m.as_of}${m.parameters.as_of_given ? ' (--as-of)' : ''}`],
    ['ledger high-water mark', h.last_transaction_id === null ? 'empty ledger' : `transaction ${h.last_transaction_id} at ${h.last_transaction_at}; ${h.rows} rows summing to ${h.sum} points`],
    ['point value', m.point_value_eur === null ? 'no scale in force' : `${m.point_value_eur} € (scale version ${m.scale_version})`],
    ['software', `rayon ${m.software_version}`],
  ];
  return `<table class="manifest">${items.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join('')}</table>`;
}

function chart(c: Chart): string {
  return `<figure id="figure-${esc(c.id)}"><figcaption>${esc(c.title)}</figcaption>${c.svg}</figure>`;
}

export function renderHtml(r: KpiReport): string {
  const target = r.figures.find((f) => f.id === 'daily_collection_rate')?.target ?? 0.25;
  const charts = [collectionChart(r, target), flowsChart(r), streaksChart(r), liabilityChart(r)];
  const m = r.manifest;
  const scope = m.parameters.territory ? `territory ${m.parameters.territory}` : 'all territories';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Rayon points — KPI report ${esc(m.parameters.from)} to ${esc(m.parameters.to)}</title>
<style>${CSS}</style>
</head>
<body>
<header><h1>Rayon points — KPI report</h1>
<p class="sub">${esc(m.parameters.from)} to ${esc(m.parameters.to)} · ${esc(scope)} · ledger as of ${esc(m.as_of)}</p></header>
<main>
<section><h2>Dashboard</h2>
${dashboard(r)}
</section>
<section><h2>Liability, breakage and expiry forecast</h2>
${programme(r)}
</section>
<section class="charts"><h2>Charts</h2>
${charts.map(chart).join('\n')}
</section>
</main>
<footer><h2>Manifest</h2>
${manifest(r)}
</footer>
</body>
</html>
`;
}
