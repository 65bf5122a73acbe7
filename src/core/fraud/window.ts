import { RayonError } from '../errors.js';
import { isIsoDate, parseInstant } from '../time.js';
import type { ScanWindow } from './finding.js';

const FORMS = 'a number of hours or days back from now (24h, 7d), an ISO date (2026-11-24, from 00:00 UTC) or an ISO instant (2026-11-24T06:00:00Z)';

/**
 * The scan window for `--since`: from the instant it names to `now`. A date means 00:00 UTC of
 * that date (one instant for every territory); a window that starts after now is refused.
 */
export function scanWindow(since: string, now: Date, where = '--since'): ScanWindow {
  const fail = (why: string) => new RayonError('VALIDATION_ERROR', `${where} ${why}: expected ${FORMS}`, { details: [{ where, message: why }] });
  const text = since.trim();
  let start: Date | null = null;
  const m = /^(\d{1,6})([hd])$/.exec(text);
  if (m) {
    if (Number(m[1]) === 0) throw fail(`must not be zero, got ${JSON.stringify(since)}`);
    start = new Date(now.getTime() - Number(m[1]) * (m[2] === 'h' ? 3_600_000 : 86_400_000));
  } else if (isIsoDate(text)) {
    start = new Date(`${text}T00:00:00Z`);
  } else {
    start = parseInstant(text);
  }
  if (!start || Number.isNaN(start.getTime())) throw fail(`cannot be read: ${JSON.stringify(since)}`);
  if (start.getTime() > now.getTime()) throw fail(`is after now (${now.toISOString()}): ${JSON.stringify(since)}`);
  return { since: start, until: now };
}
