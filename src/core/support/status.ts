import type { ScaleStatus } from '../scale/index.js';

/**
 * Pure helpers of the support view: the status ladder and a territory's wall clock. No database.
 */

export interface NextStatus {
  /** The next status up, null at the top of the ladder. */
  code: string | null;
  /** Lifetime points still to earn to reach it (0 at the top). */
  points_to_go: number;
  min_lifetime_points: number | null;
}

/** The status above the one held, and how many lifetime points are missing to reach it. */
export function nextStatus(held: string, lifetimePoints: number, statuses: ScaleStatus[]): NextStatus {
  const ladder = [...statuses].sort((a, b) => a.min_lifetime_points - b.min_lifetime_points);
  const heldAt = ladder.find((s) => s.code === held)?.min_lifetime_points ?? 0;
  // Status never goes down by itself: the next one is the first above both the held one and the lifetime points.
  const next = ladder.find((s) => s.min_lifetime_points > heldAt && s.min_lifetime_points > lifetimePoints);
  if (!next) return { code: null, points_to_go: 0, min_lifetime_points: null };
  return { code: next.code, points_to_go: next.min_lifetime_points - lifetimePoints, min_lifetime_points: next.min_lifetime_points };
}

/** The local wall-clock time of an instant in a time zone: `YYYY-MM-DD HH:MM` (24 h). */
export function localTime(instant: Date, tz: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
  }).formatToParts(instant);
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? '';
  return `${get('year')}-${get('month')}-${get('day')} ${get('hour')}:${get('minute')}`;
}
