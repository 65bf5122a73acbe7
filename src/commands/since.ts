import { RayonError } from '../core/errors.js';
import { parseInstant } from '../core/time.js';

/** `24h`, `7d`, `30m` back from now, or an ISO instant. */
export function parseSince(value: string, now: Date, name: string): Date {
  const m = /^(\d+)([mhd])$/.exec(value.trim());
  if (m) return new Date(now.getTime() - Number(m[1]) * { m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'm' | 'h' | 'd']);
  const d = parseInstant(value) ?? (/^\d{4}-\d{2}-\d{2}$/.test(value) ? new Date(`${value}T00:00:00Z`) : null);
  if (!d || Number.isNaN(d.getTime())) throw new RayonError('VALIDATION_ERROR', `${name} must be a duration (24h, 7d, 30m) or an ISO instant, got ${JSON.stringify(value)}`);
  return d;
}
