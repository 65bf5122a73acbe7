import { definitionOf, type KpiDefinition, type KpiId, type Unit } from './definitions.js';
import { centsToText } from './money.js';

/**
 * One dashboard figure: its definition, its value (or why there is none), its target and mark.
 * Values are held in the unit's base: a fraction for percents (0.25 = 25%), days, ms, € as cents.
 */

export type Mark = 'met' | 'not met' | 'n/a';

export interface Figure extends KpiDefinition {
  /** The value in the unit's base; null when it cannot be computed. */
  value: number | null;
  /** The exact value as text where it is a quotient (full precision) or money ("12.34"). */
  exact: string | null;
  /** The value for people: "42.86%", "3.50 days", "≤ 200 ms", "0.12 €", "no data", "n/a (external data)". */
  display: string;
  /** Why there is no value ("no data: no user registered by 2026-11-30"); null when there is one. */
  missing: string | null;
  baseline: { value: number | null; display: string } | null;
  change: { value: number | null; display: string } | null;
  mark: Mark;
  /** The counts the value was computed from. */
  inputs: Record<string, number | string | null>;
  note?: string;
}

export const NO_DATA = 'no data';
export const EXTERNAL = 'n/a (external data)';

export function formatValue(unit: Unit, v: number): string {
  switch (unit) {
    case 'percent':
      return `${(v * 100).toFixed(2)}%`;
    case 'days':
      return `${v.toFixed(2)} days`;
    case 'ms':
      return Number.isFinite(v) ? `≤ ${v} ms` : '> 5000 ms';
    case 'eur':
      return `${v.toFixed(2)} €`;
    default:
      return String(v);
  }
}

interface FigureInput {
  value: number | null;
  exact?: string | null;
  missing?: string;
  baseline?: number | null;
  inputs?: Record<string, number | string | null>;
  note?: string;
}

const EPS = 1e-12;

export function figure(id: KpiId, f: FigureInput): Figure {
  const def = definitionOf(id);
  if (def.comparator === 'external') {
    return { ...def, value: null, exact: null, display: EXTERNAL, missing: EXTERNAL, baseline: null, change: null, mark: 'n/a', inputs: {}, note: f.note };
  }
  const value = f.value;
  const display = value === null ? NO_DATA : formatValue(def.unit, value);
  let baseline: Figure['baseline'] = null;
  let change: Figure['change'] = null;
  let mark: Mark = 'n/a';
  if (def.comparator === 'change_pts_at_least' || def.comparator === 'change_rel_at_least') {
    const b = f.baseline ?? null;
    baseline = { value: b, display: b === null ? NO_DATA : formatValue(def.unit, b) };
    let c: number | null = null;
    if (value !== null && b !== null) {
      if (def.comparator === 'change_pts_at_least') c = value - b;
      else if (b !== 0) c = (value - b) / b;
    }
    const cText = c === null ? 'n/a' : def.comparator === 'change_pts_at_least' ? `${c >= 0 ? '+' : ''}${(c * 100).toFixed(2)} pts` : `${c >= 0 ? '+' : ''}${(c * 100).toFixed(2)}%`;
    change = { value: c, display: cText };
    if (c !== null && def.target !== null) mark = c >= def.target - EPS ? 'met' : 'not met';
  } else if (value !== null && def.target !== null) {
    const t = def.target;
    const ok =
      def.comparator === 'at_least' ? value >= t - EPS
      : def.comparator === 'at_most' ? value <= t + EPS
      : def.unit === 'ms' ? value <= t // the stored histogram tells the bucket's bound, not the exact p95
      : value < t - EPS;
    mark = ok ? 'met' : 'not met';
  }
  return {
    ...def,
    value,
    exact: f.exact ?? (value === null ? null : String(value)),
    display,
    missing: value === null ? (f.missing ?? NO_DATA) : null,
    baseline,
    change,
    mark,
    inputs: f.inputs ?? {},
    note: f.note,
  };
}

/** A quotient given as exact decimal text from SQL (numeric), as a number; null stays null. */
export function fromText(text: string | null | undefined): number | null {
  return text === null || text === undefined ? null : Number(text);
}

/** A money figure from integer cents. */
export function eurFigure(id: KpiId, cents: bigint | null, f: Omit<FigureInput, 'value' | 'exact'>): Figure {
  if (cents === null) return figure(id, { ...f, value: null });
  const fig = figure(id, { ...f, value: Number(cents) / 100, exact: centsToText(cents) });
  return { ...fig, display: `${centsToText(cents)} €` };
}
