import { createRequire } from 'node:module';
import type * as Luxon from 'luxon';

// luxon is needed only for the start of a local day: it is loaded on first use, so this module
// (and the configuration layer, which parses --now with it) stays light for `rayon --help`.
const require = createRequire(import.meta.url);
let luxon: typeof Luxon | undefined;
const DateTime = () => (luxon ??= require('luxon') as typeof Luxon).DateTime;

/**
 * Local days. A "day" is always a calendar date in the user's territory time zone; the
 * conversions go through the platform's IANA database (Intl, luxon), never hand-made offsets.
 */

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' });
    formatters.set(tz, f);
  }
  return f;
}

/** The local calendar date (YYYY-MM-DD) of an instant in a time zone. */
export function localDate(instant: Date, tz: string): string {
  return formatter(tz).format(instant);
}

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

export function isIsoDate(s: string): boolean {
  const m = DATE_RE.exec(s);
  if (!m) return false;
  const d = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3]));
  return d.getUTCFullYear() === +m[1] && d.getUTCMonth() === +m[2] - 1 && d.getUTCDate() === +m[3];
}

/** Calendar arithmetic on local dates, independent of any time zone. */
export function addDays(date: string, days: number): string {
  const m = DATE_RE.exec(date);
  if (!m) throw new Error(`not a date: ${date}`);
  const d = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3] + days));
  return d.toISOString().slice(0, 10);
}

/** Whole days from a to b (b - a). */
export function daysBetween(a: string, b: string): number {
  return Math.round((Date.parse(`${b}T00:00:00Z`) - Date.parse(`${a}T00:00:00Z`)) / 86_400_000);
}

/** The first instant of a local date in a time zone (handles DST gaps at midnight). */
export function startOfLocalDay(date: string, tz: string): Date {
  const dt = DateTime().fromISO(date, { zone: tz }).startOf('day');
  if (!dt.isValid) throw new Error(`invalid date or time zone: ${date} ${tz}`);
  return dt.toJSDate();
}

/**
 * When a lot credited at `creditedAt` expires: valid through local date E + expiryDays, so it
 * expires at the first instant of the following local day.
 */
export function lotExpiry(creditedAt: Date, tz: string, expiryDays: number): Date {
  return startOfLocalDay(addDays(localDate(creditedAt, tz), expiryDays + 1), tz);
}

/**
 * A re-credit (refund, restore, revert of a debit) expires at the later of the original lot's
 * expiry and the end of the local day 30 days after the re-credit.
 */
export function recreditExpiry(originalExpiry: Date, now: Date, tz: string): Date {
  const floor = startOfLocalDay(addDays(localDate(now, tz), 31), tz);
  return originalExpiry.getTime() > floor.getTime() ? originalExpiry : floor;
}

/** Parse an ISO instant strictly (with a zone designator), or throw with the given name. */
export function parseInstant(s: string): Date | null {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/.test(s)) return null;
  const d = new Date(s);
  return Number.isNaN(d.getTime()) ? null : d;
}
