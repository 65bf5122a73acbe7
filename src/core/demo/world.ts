import type { ScaleVersion } from '../scale/index.js';
import { versionInForce } from '../scale/index.js';
import { lotExpiry, startOfLocalDay } from '../time.js';

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
  readonly requests = new Map<string, number>();
  private readonly dayStarts = new Map<string, Date>();
  private readonly expiries = new Map<string, Date>();

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

  /** When a lot credited on local date `date` expires: the ledger's rule, memoised per day. */
  lotExpiry(tz: string, date: string, expiryDays: number): Date {
    const k = `${tz}|${date}|${expiryDays}`;
    let d = this.expiries.get(k);
    if (!d) this.expiries.set(k, (d = lotExpiry(this.dayStart(tz, date), tz, expiryDays)));
    return d;
  }

  countRequest(at: Date, route: HttpRoute, statusClass: '2xx' | '4xx'): void {
    const hour = Math.floor(at.getTime() / 3_600_000) * 3_600_000;
    const k = `${hour}|${route}|${statusClass}`;
    this.requests.set(k, (this.requests.get(k) ?? 0) + 1);
  }

  /** A unit of a reward is left (unlimited, or fewer taken than supplied). */
  unitLeft(r: DemoReward): boolean {
    return r.stock === null || (this.unitsTaken.get(r.id) ?? 0) < r.stock;
  }

  takeUnit(r: DemoReward, delta = 1): void {
    this.unitsTaken.set(r.id, (this.unitsTaken.get(r.id) ?? 0) + delta);
  }
}
