import { scaleBand, scaleLinear, scalePoint } from 'd3-scale';
import { line } from 'd3-shape';
import type { KpiReport } from '../report.js';
import { el, esc, n, short } from './svg.js';

/**
 * The report's charts as inline SVG, computed on the server: d3-scale places the values and
 * picks round ticks, d3-shape writes the line's path. No script runs in the page. Every drawn
 * data point is an element of class "mark" and the chart says how many it holds (data-marks).
 */

const W = 720;
const H = 260;
const M = { top: 28, right: 16, bottom: 40, left: 56 };
const COLOURS = { rate: '#1f6feb', target: '#9a6700', credited: '#2da44e', redeemed: '#1f6feb', expired: '#cf222e', runs: '#8250df', liability: '#57606a', forecast: '#bf8700' };

export interface Chart {
  id: string;
  title: string;
  svg: string;
  marks: number;
}

function frame(id: string, title: string, marks: number, body: string, legend: Array<[string, string]>): Chart {
  const items = legend
    .map(([label, colour], i) => el('g', { transform: `translate(${M.left + i * 150},10)` }, el('rect', { width: 12, height: 12, y: -9, fill: colour }) + el('text', { x: 16, 'font-size': 11 }, esc(label))))
    .join('');
  const svg = el(
    'svg',
    { xmlns: 'http://www.w3.org/2000/svg', viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: 'img', 'aria-label': title, id: `chart-${id}`, class: 'chart', 'data-marks': marks },
    `<title>${esc(title)}</title>${el('g', { class: 'legend' }, items)}${body}`,
  );
  return { id, title, svg, marks };
}

function noData(id: string, title: string): Chart {
  return frame(id, title, 0, el('text', { x: W / 2, y: H / 2, 'text-anchor': 'middle', 'font-size': 14, fill: '#57606a' }, 'no data'), []);
}

/** Left axis with round ticks and a grid line each. */
function yAxis(y: ReturnType<typeof scaleLinear<number, number>>, format: (v: number) => string, label: string, counts = false): string {
  // Counts (points, runs) get whole ticks only: "0.2 runs" means nothing.
  const ticks = y.ticks(5).filter((t) => !counts || Number.isInteger(t)).map((t) =>
    el('line', { x1: M.left, x2: W - M.right, y1: y(t), y2: y(t), stroke: '#d0d7de', 'stroke-width': 0.5 }) +
    el('text', { x: M.left - 6, y: y(t) + 4, 'text-anchor': 'end', 'font-size': 10 }, esc(format(t))),
  );
  const title = el('text', { transform: `translate(12,${(M.top + H - M.bottom) / 2}) rotate(-90)`, 'text-anchor': 'middle', 'font-size': 11 }, esc(label));
  return el('g', { class: 'axis y' }, ticks.join('') + el('line', { x1: M.left, x2: M.left, y1: M.top, y2: H - M.bottom, stroke: '#57606a' }) + title);
}

/** Bottom axis: at most ~12 labels, so a 90-day period stays readable. */
function xAxis(labels: string[], pos: (l: string) => number, label: string, fmt: (l: string) => string = (l) => l): string {
  const every = Math.max(1, Math.ceil(labels.length / 12));
  const ticks = labels
    .filter((_, i) => i % every === 0)
    .map((l) => el('text', { x: pos(l), y: H - M.bottom + 14, 'text-anchor': 'middle', 'font-size': 10 }, esc(fmt(l))));
  return el(
    'g',
    { class: 'axis x' },
    el('line', { x1: M.left, x2: W - M.right, y1: H - M.bottom, y2: H - M.bottom, stroke: '#57606a' }) + ticks.join('') + el('text', { x: (M.left + W - M.right) / 2, y: H - 6, 'text-anchor': 'middle', 'font-size': 11 }, esc(label)),
  );
}

const pct = (v: number) => `${n(v * 100)}%`;
const mmdd = (d: string) => d.slice(5);

export function collectionChart(r: KpiReport, target: number): Chart {
  const title = 'Daily collection rate';
  const pts = r.series.days.filter((d) => d.registered > 0).map((d) => ({ day: d.day, rate: d.collectors / d.registered }));
  if (pts.length === 0) return noData('collection', title);
  const x = scalePoint<string>().domain(r.series.days.map((d) => d.day)).range([M.left + 8, W - M.right - 8]);
  const y = scaleLinear().domain([0, Math.max(target, ...pts.map((p) => p.rate)) * 1.1]).nice().range([H - M.bottom, M.top]);
  const path = line<{ day: string; rate: number }>().x((p) => x(p.day) as number).y((p) => y(p.rate))(pts) ?? '';
  const body =
    yAxis(y, pct, 'users who collected / registered') +
    xAxis(r.series.days.map((d) => d.day), (d) => x(d) as number, 'local date', mmdd) +
    el('line', { x1: M.left, x2: W - M.right, y1: y(target), y2: y(target), stroke: COLOURS.target, 'stroke-dasharray': '6 4' }) +
    el('path', { d: path, fill: 'none', stroke: COLOURS.rate, 'stroke-width': 2 }) +
    pts.map((p) => el('circle', { class: 'mark', cx: x(p.day) as number, cy: y(p.rate), r: 3, fill: COLOURS.rate }, `<title>${esc(`${p.day}: ${pct(p.rate)}`)}</title>`)).join('');
  return frame('collection', title, pts.length, body, [['collection rate', COLOURS.rate], [`target ${pct(target)}`, COLOURS.target]]);
}

export function flowsChart(r: KpiReport): Chart {
  const title = 'Points credited, redeemed and expired per day';
  const days = r.series.days;
  const keys = [['credited', COLOURS.credited], ['redeemed', COLOURS.redeemed], ['expired', COLOURS.expired]] as const;
  const max = Math.max(0, ...days.flatMap((d) => keys.map(([k]) => Number(d[k]))));
  if (days.length === 0 || max === 0) return noData('flows', title);
  const x = scaleBand<string>().domain(days.map((d) => d.day)).range([M.left, W - M.right]).padding(0.15);
  const inner = scaleBand<string>().domain(keys.map(([k]) => k)).range([0, x.bandwidth()]);
  const y = scaleLinear().domain([0, max]).nice().range([H - M.bottom, M.top]);
  const bars = days.flatMap((d) =>
    keys.map(([k, colour]) => {
      const v = Number(d[k]);
      return el('rect', { class: 'mark', x: (x(d.day) as number) + (inner(k) as number), y: y(v), width: Math.max(inner.bandwidth(), 0.5), height: y(0) - y(v), fill: colour }, `<title>${esc(`${d.day} ${k}: ${v}`)}</title>`);
    }),
  );
  const body = yAxis(y, short, 'points', true) + xAxis(days.map((d) => d.day), (d) => (x(d) as number) + x.bandwidth() / 2, 'local date', mmdd) + bars.join('');
  return frame('flows', title, bars.length, body, keys.map(([k, c]) => [k, c] as [string, string]));
}

export function streaksChart(r: KpiReport): Chart {
  const title = 'Streak-length distribution (runs with a collection in the period)';
  const runs = r.series.streaks;
  if (runs.length === 0) return noData('streaks', title);
  const x = scaleBand<string>().domain(runs.map((s) => String(s.length))).range([M.left, W - M.right]).padding(0.2);
  const y = scaleLinear().domain([0, Math.max(...runs.map((s) => s.runs))]).nice().range([H - M.bottom, M.top]);
  const bars = runs.map((s) => el('rect', { class: 'mark', x: x(String(s.length)) as number, y: y(s.runs), width: x.bandwidth(), height: y(0) - y(s.runs), fill: COLOURS.runs }, `<title>${esc(`${s.length} days: ${s.runs} runs`)}</title>`));
  const body = yAxis(y, short, 'runs', true) + xAxis(runs.map((s) => String(s.length)), (l) => (x(l) as number) + x.bandwidth() / 2, 'run length (days)') + bars.join('');
  return frame('streaks', title, bars.length, body, [['runs', COLOURS.runs]]);
}

export function liabilityChart(r: KpiReport): Chart {
  const title = 'Liability and points expiring within 30 / 60 / 90 days';
  if (r.liability.points === null) return noData('liability', title);
  const items: Array<[string, number, string]> = [
    ['outstanding', r.liability.points, COLOURS.liability],
    ...r.forecast.map((f) => [`≤ ${f.within_days} days`, f.points ?? 0, COLOURS.forecast] as [string, number, string]),
  ];
  const x = scaleBand<string>().domain(items.map((i) => i[0])).range([M.left, W - M.right]).padding(0.3);
  const y = scaleLinear().domain([0, Math.max(1, ...items.map((i) => i[1]))]).nice().range([H - M.bottom, M.top]);
  const bars = items.map(([label, v, colour]) =>
    el('rect', { class: 'mark', x: x(label) as number, y: y(v), width: x.bandwidth(), height: y(0) - y(v), fill: colour }, `<title>${esc(`${label}: ${v} points`)}</title>`) +
    el('text', { x: (x(label) as number) + x.bandwidth() / 2, y: y(v) - 4, 'text-anchor': 'middle', 'font-size': 10 }, esc(short(v))),
  );
  const body = yAxis(y, short, 'points', true) + xAxis(items.map((i) => i[0]), (l) => (x(l) as number) + x.bandwidth() / 2, 'at the as-of instant') + bars.join('');
  return frame('liability', title, items.length, body, [['liability', COLOURS.liability], ['expiring', COLOURS.forecast]]);
}
