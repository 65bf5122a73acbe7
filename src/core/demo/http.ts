import type { Knex } from 'knex';
import { addRequestStats, LATENCY_BOUNDS_MS, type StatsRow as OpsStatsRow } from '../ops/index.js';
import { Rng, STREAM } from './prng.js';
import type { DemoWorld } from './world.js';

/**
 * HTTP-mode request statistics for the technical KPIs (response time p95, error rate): hourly
 * rows of http_request_stats made from the demo's own activity — each collection, earn and
 * redemption was a request, and the app read balances, the catalog and histories around them —
 * with latency histograms per route, a few 5xx answers, and one incident hour with more.
 */

/** Share of each histogram bucket (LATENCY_BOUNDS_MS, then the open bucket). */
const READ_MIX = [0.3, 0.3, 0.22, 0.09, 0.05, 0.025, 0.01, 0.004, 0.001, 0, 0];
const WRITE_MIX = [0.04, 0.14, 0.34, 0.22, 0.13, 0.08, 0.04, 0.008, 0.002, 0, 0];
const ERROR_MIX = [0, 0, 0.02, 0.03, 0.05, 0.1, 0.2, 0.2, 0.2, 0.15, 0.05];
/** Reads made around each collection, per route. */
const READS_PER_COLLECT: Record<string, number> = { balance: 1.4, 'streak-status': 0.8, catalog: 0.5, history: 0.25 };
/** Share of answers that are 5xx in an ordinary hour, and in the incident hour. */
const ERROR_SHARE = 0.0003;
const INCIDENT_SHARE = 0.04;

interface StatsRow {
  bucket_start: string;
  route: string;
  status_class: string;
  requests: number;
  duration_us_sum: number;
  bucket_counts: number[];
}

export function buildRequestStats(world: DemoWorld): StatsRow[] {
  const rng = new Rng(world.seed, STREAM.http, 0);
  const byHour = new Map<number, Map<string, number>>();
  for (const [h, route, cls, n] of world.requestCounts()) {
    let m = byHour.get(h);
    if (!m) byHour.set(h, (m = new Map()));
    m.set(`${route}|${cls}`, n);
    if (route === 'collect-daily') {
      for (const [read, per] of Object.entries(READS_PER_COLLECT)) m.set(`${read}|2xx`, Math.round(n * per));
    }
  }
  const hours = [...byHour.keys()].sort((a, b) => a - b);
  // The incident: the busiest hour of the last week of the history.
  const lastWeek = hours.filter((h) => h >= hours[hours.length - 1] - 7 * 86_400_000);
  const incident = lastWeek.reduce((best, h) => (total(byHour.get(h)!) > total(byHour.get(best)!) ? h : best), lastWeek[0]);
  const rows: StatsRow[] = [];
  for (const h of hours) {
    const m = byHour.get(h)!;
    for (const key of [...m.keys()].sort()) {
      const [route, cls] = key.split('|');
      let n = m.get(key)!;
      if (n === 0) continue;
      if (cls === '2xx') {
        const errors = Math.min(n, h === incident ? Math.ceil(n * INCIDENT_SHARE) : rng.count(n * ERROR_SHARE));
        if (errors > 0) rows.push(row(h, route, '5xx', errors, ERROR_MIX, rng));
        n -= errors;
        if (n === 0) continue;
      }
      rows.push(row(h, route, cls, n, route === 'collect-daily' || route === 'earn' || route === 'redeem' ? WRITE_MIX : READ_MIX, rng));
    }
  }
  return rows;
}

function total(m: Map<string, number>): number {
  let s = 0;
  for (const n of m.values()) s += n;
  return s;
}

/** A histogram of n answers following `mix`: whole counts, the remainder spread at random. */
function row(hour: number, route: string, cls: string, n: number, mix: number[], rng: Rng): StatsRow {
  const counts = mix.map((p) => Math.floor(n * p));
  for (let left = n - counts.reduce((s, c) => s + c, 0); left > 0; left--) {
    let x = rng.float();
    let i = 0;
    while (i < mix.length - 1 && (x -= mix[i]) >= 0) i++;
    counts[i]++;
  }
  const bounds = [...LATENCY_BOUNDS_MS, 10_000];
  const mid = bounds.map((b, i) => ((i === 0 ? 0 : bounds[i - 1]) + b) / 2);
  const durationUs = counts.reduce((s, c, i) => s + Math.round(c * mid[i] * 1000), 0);
  return { bucket_start: new Date(hour).toISOString(), route, status_class: cls, requests: n, duration_us_sum: durationUs, bucket_counts: counts };
}

export async function writeRequestStats(trx: Knex.Transaction, rows: StatsRow[]): Promise<void> {
  // The HTTP mode's own upsert, by hourly buckets and in slices of 2,000 rows per statement.
  for (let i = 0; i < rows.length; i += 2000) {
    const slice = rows.slice(i, i + 2000).map((r) => ({ ...r, bucket_start: new Date(r.bucket_start), status_class: r.status_class as OpsStatsRow['status_class'] }));
    await addRequestStats(trx, slice, 3600);
  }
}
