import type { ScaleVersion } from '../scale/index.js';
import { versionInForce } from '../scale/index.js';
import { addDays, lotExpiry, startOfLocalDay } from '../time.js';

/**
 * What every simulated user shares: the territories with their period and catalog, the scale
 * versions, the id counters (ids are handed out in user order, so a seed gives the same ids), the
 * units sold of stocked rewards, and the request counts the HTTP statistics are made from.
 */

export interface DemoReward {
  id: number;
  sku: string;
  cost: number;
  fulfilment: 'instant' | 'manual';
  /** Units the partner supplies; null for unlimited. */
  stock: number | null;
}

export interface DemoTerritory {
  code: string;
  tz: string;
  /** First and last local date of the history (the last is yesterday there). */
  start: string;
  end: string;
  rewards: DemoReward[];
  /** The beta flag demo users get (true when the territory is in closed beta). */
  beta: boolean;
  /** The local dates start..end, and the first instant of each (the hot loop reads them by index). */
  days: string[];
  dayStarts: Date[];
  /** Lot expiry of a credit on day i, per expiry_days (filled as needed). */
  expiries: Map<number, Date[]>;
}

/** A territory's period, with its days and their first instants computed once. */
export function territoryPeriod(code: string, tz: string, start: string, end: string, beta: boolean): DemoTerritory {
  const days: string[] = [];
  for (let d = start; d <= end; d = addDays(d, 1)) days.push(d);
  return { code, tz, start, end, beta, rewards: [], days, dayStarts: days.map((d) => startOfLocalDay(d, tz)), expiries: new Map() };
}

export interface IdCounters {
  tx: number;
  lot: number;
  redemption: number;
  batch: number;
}

/** Who does what in the demo (every ledger row is attributed). */
export const DEMO_ACTORS = {
  /** Actions are reported by the marketplace with a service token: audited, one row per user batch. */
  marketplace: 'service:marketplace',
  /** The nightly `points expire` run. */
  expiry: 'ops.nightly',
  /** Ops deciding manual redemptions. */
  ops: 'ops.demo',
  /** Support's goodwill credits. */
  support: 'support.demo',
  /** The operator of the `operator_adjustments` pattern. */
  rogue: 'ops.rogue',
} as const;

export const HTTP_ROUTES = ['collect-daily', 'earn', 'redeem'] as const;
export type HttpRoute = (typeof HTTP_ROUTES)[number];

export class DemoWorld {
  readonly territories = new Map<string, DemoTerritory>();
  /** Units taken so far of each stocked reward. */
  readonly unitsTaken = new Map<number, number>();
  /** Requests per (hour start in ms, route, status class): the HTTP statistics' raw material. */
  private readonly requests = new Map<number, number>();
  private readonly dayStarts = new Map<string, Date>();

  constructor(
    readonly seed: number,
    readonly prefix: string,
    readonly versions: ScaleVersion[],
    readonly ids: IdCounters,
  ) {}

  scaleOn(localDate: string): ScaleVersion {
    return versionInForce(this.versions, localDate);
  }

  /** The first instant of a local date (memoised: the time zone database is slow to ask). */
  dayStart(tz: string, date: string): Date {
    const k = `${tz}|${date}`;
    let d = this.dayStarts.get(k);
    if (!d) this.dayStarts.set(k, (d = startOfLocalDay(date, tz)));
    return d;
  }

  /** The ledger's expiry rule for a credit on the territory's day i, computed once per day. */
  lotExpiryOn(t: DemoTerritory, i: number, expiryDays: number): Date {
    let list = t.expiries.get(expiryDays);
    if (!list) t.expiries.set(expiryDays, (list = []));
    return (list[i] ??= lotExpiry(t.dayStarts[i], t.tz, expiryDays));
  }

  countRequest(at: Date, route: HttpRoute, statusClass: '2xx' | '4xx'): void {
    // A number as key (hour × 8 + route × 2 + class): this runs once per event.
    const k = Math.floor(at.getTime() / 3_600_000) * 8 + HTTP_ROUTES.indexOf(route) * 2 + (statusClass === '2xx' ? 0 : 1);
    this.requests.set(k, (this.requests.get(k) ?? 0) + 1);
  }

  /** The request counts as (hour start, route, status class, count). */
  *requestCounts(): Generator<[number, HttpRoute, '2xx' | '4xx', number]> {
    for (const [k, n] of this.requests) yield [Math.floor(k / 8) * 3_600_000, HTTP_ROUTES[Math.floor((k % 8) / 2)], k % 2 === 0 ? '2xx' : '4xx', n];
  }

  /** ISO text of an instant many rows share (lot expiries): converted once. */
  iso(d: Date): string {
    let s = this.isoCache.get(d);
    if (s === undefined) this.isoCache.set(d, (s = d.toISOString()));
    return s;
  }
  private readonly isoCache = new Map<Date, string>();

  /** A unit of a reward is left (unlimited, or fewer taken than supplied). */
  unitLeft(r: DemoReward): boolean {
    return r.stock === null || (this.unitsTaken.get(r.id) ?? 0) < r.stock;
  }

  takeUnit(r: DemoReward, delta = 1): void {
    this.unitsTaken.set(r.id, (this.unitsTaken.get(r.id) ?? 0) + delta);
  }
}
