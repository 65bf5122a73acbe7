import type { Knex } from 'knex';

/**
 * HTTP-mode request statistics, stored aggregated: one row per (minute, route, status class)
 * with a latency histogram, never one row per request. The KPI report reads its response time
 * (p95) and error rate from these rows.
 */

/** Upper bounds (milliseconds) of the latency histogram; a last, open bucket counts the rest. */
export const LATENCY_BOUNDS_MS = [5, 10, 25, 50, 100, 200, 500, 1000, 2000, 5000] as const;
export const BUCKET_SECONDS = 60;

export interface StatsRow {
  bucket_start: Date;
  route: string;
  status_class: '2xx' | '3xx' | '4xx' | '5xx';
  requests: number;
  duration_us_sum: number;
  /** Non-cumulative counts, one per bound plus the open bucket. */
  bucket_counts: number[];
}

/**
 * Add rows to the stored aggregates (upsert: concurrent servers add up, never overwrite).
 * `bucketSeconds`: the width of the rows' buckets (the HTTP mode's minute, or the demo's hour).
 */
export async function addRequestStats(db: Knex, rows: StatsRow[], bucketSeconds = BUCKET_SECONDS): Promise<void> {
  if (rows.length === 0) return;
  const bounds = `{${LATENCY_BOUNDS_MS.join(',')}}`;
  await db.raw(
    `insert into http_request_stats (bucket_start, bucket_seconds, route, status_class, requests, duration_us_sum, le_ms, bucket_counts)
     select x.bucket_start, ?, x.route, x.status_class, x.requests, x.duration_us_sum, ?::int[],
            array(select (v #>> '{}')::bigint from jsonb_array_elements(x.bucket_counts) v)
       from jsonb_to_recordset(?::jsonb) as x(bucket_start timestamptz, route text, status_class text, requests bigint,
                                              duration_us_sum bigint, bucket_counts jsonb)
     on conflict (bucket_start, bucket_seconds, route, status_class) do update set
       requests = http_request_stats.requests + excluded.requests,
       duration_us_sum = http_request_stats.duration_us_sum + excluded.duration_us_sum,
       bucket_counts = array(select a + b from unnest(http_request_stats.bucket_counts, excluded.bucket_counts) with ordinality u(a, b, i) order by i)`,
    [bucketSeconds, bounds, JSON.stringify(rows.map((r) => ({ ...r, bucket_start: r.bucket_start.toISOString() })))],
  );
}

export interface RequestStatsSummary {
  requests: number;
  errors_5xx: number;
  /** Upper bound (ms) of the histogram bucket holding the 95th percentile; null without data. */
  p95_ms_upper_bound: number | null;
}

/**
 * Requests, 5xx answers and the p95 latency bucket over buckets starting in [from, to). The
 * histograms are summed in SQL (a 90-day window holds ~130,000 minute rows per route), so only
 * one summed histogram reaches the application.
 */
export async function requestStatsSummary(db: Knex, from: Date, to: Date): Promise<RequestStatsSummary> {
  // One sum per histogram bucket, by subscript: one pass over the rows, no unnest.
  const sums = Array.from({ length: LATENCY_BOUNDS_MS.length + 1 }, (_, i) => `coalesce(sum(bucket_counts[${i + 1}]), 0)::bigint`).join(', ');
  const { rows } = await db.raw(
    `select coalesce(sum(requests), 0)::bigint as requests,
            coalesce(sum(requests) filter (where status_class = '5xx'), 0)::bigint as errors,
            array[${sums}] as counts
       from http_request_stats
      where bucket_start >= ? and bucket_start < ?`,
    [from, to],
  );
  const requests = Number(rows[0].requests);
  const errors = Number(rows[0].errors);
  const counts = (rows[0].counts as Array<number | string>).map(Number);
  let p95: number | null = null;
  if (requests > 0) {
    const target = Math.ceil(requests * 0.95);
    let seen = 0;
    for (let i = 0; i < counts.length; i++) {
      seen += counts[i];
      if (seen >= target) {
        p95 = i < LATENCY_BOUNDS_MS.length ? LATENCY_BOUNDS_MS[i] : Number.POSITIVE_INFINITY;
        break;
      }
    }
  }
  return { requests, errors_5xx: errors, p95_ms_upper_bound: p95 };
}
