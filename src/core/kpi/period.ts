import { RayonError, type FieldError } from '../errors.js';
import { addDays, daysBetween, isIsoDate, localDate } from '../time.js';

/**
 * The report's period: local dates, inclusive. Default: the 30 local days ending yesterday.
 * "Yesterday" is taken in the territory's zone, or — for the whole programme — in the zone whose
 * day ends last (the earliest local date among the territories), so that every user's local
 * yesterday is over. The baselines are the previous periods of the same length (retention's own
 * baseline needs the one before that).
 */

export interface Period {
  from: string;
  to: string;
  days: number;
}

export interface Periods {
  current: Period;
  /** The previous period of the same length: the baseline of the relative targets. */
  baseline: Period;
  /** The period before the baseline: what the baseline's retention is measured against. */
  baseline2: Period;
}

export const DEFAULT_DAYS = 30;
export const MAX_DAYS = 3660;

function shift(p: Period, days: number): Period {
  return { from: addDays(p.from, days), to: addDays(p.to, days), days: p.days };
}

/** The last complete local day at `asOf` for the given zones. */
export function yesterdayIn(asOf: Date, zones: string[]): string {
  const today = zones.map((tz) => localDate(asOf, tz)).sort()[0] ?? asOf.toISOString().slice(0, 10);
  return addDays(today, -1);
}

export function resolvePeriods(opts: { from?: string; to?: string; asOf: Date; zones: string[] }): Periods {
  const problems: FieldError[] = [];
  for (const [name, v] of [['--from', opts.from], ['--to', opts.to]] as const) {
    if (v !== undefined && !isIsoDate(v)) problems.push({ where: name, message: `must be a date YYYY-MM-DD, got ${JSON.stringify(v)}` });
  }
  if (problems.length) throw new RayonError('VALIDATION_ERROR', problems.map((p) => `${p.where} ${p.message}`).join('; '), { details: problems });
  const to = opts.to ?? yesterdayIn(opts.asOf, opts.zones);
  const from = opts.from ?? addDays(to, -(DEFAULT_DAYS - 1));
  const days = daysBetween(from, to) + 1;
  if (days < 1) {
    throw new RayonError('VALIDATION_ERROR', `--from ${from} is after --to ${to}`, { details: [{ where: '--from', message: `after --to ${to}` }] });
  }
  if (days > MAX_DAYS) {
    throw new RayonError('VALIDATION_ERROR', `the period is ${days} days long: at most ${MAX_DAYS}`, { details: [{ where: '--from', message: `at most ${MAX_DAYS} days before --to` }] });
  }
  const current = { from, to, days };
  return { current, baseline: shift(current, -days), baseline2: shift(current, -2 * days) };
}

/** Every local date of a period, in order (for the per-day charts). */
export function datesOf(p: Period): string[] {
  return Array.from({ length: p.days }, (_, i) => addDays(p.from, i));
}
