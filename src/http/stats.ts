import type { Knex } from 'knex';
import { BUCKET_SECONDS, LATENCY_BOUNDS_MS, addRequestStats, type StatsRow } from '../core/ops/index.js';

/**
 * Collects request statistics in memory per (minute, route, status class) and writes them to
 * the database every `flushMs` with an additive upsert. A failed flush keeps its rows for the
 * next attempt (bounded), so a database blip loses no counts and never slows requests.
 */
export class StatsRecorder {
  private pending = new Map<string, StatsRow>();
  private timer?: NodeJS.Timeout;
  private flushing?: Promise<void>;

  constructor(
    private readonly knex: Knex,
    private readonly flushMs: number,
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.flush(), this.flushMs);
    this.timer.unref();
  }

  record(route: string, statusCode: number, durationMs: number, at = Date.now()): void {
    const bucket = Math.floor(at / 1000 / BUCKET_SECONDS) * BUCKET_SECONDS * 1000;
    const cls = `${Math.min(5, Math.max(2, Math.floor(statusCode / 100)))}xx` as StatsRow['status_class'];
    const key = `${bucket}|${route}|${cls}`;
    let row = this.pending.get(key);
    if (!row) {
      // Bound memory if the database stays down for long: drop the oldest aggregates.
      if (this.pending.size >= 10_000) this.pending.delete(this.pending.keys().next().value as string);
      row = { bucket_start: new Date(bucket), route, status_class: cls, requests: 0, duration_us_sum: 0, bucket_counts: new Array(LATENCY_BOUNDS_MS.length + 1).fill(0) };
      this.pending.set(key, row);
    }
    row.requests++;
    row.duration_us_sum += Math.round(durationMs * 1000);
    let i = LATENCY_BOUNDS_MS.findIndex((b) => durationMs <= b);
    if (i < 0) i = LATENCY_BOUNDS_MS.length;
    row.bucket_counts[i]++;
  }

  /** Write what has accumulated; concurrent calls share one write. */
  flush(): Promise<void> {
    this.flushing ??= (async () => {
      const batch = this.pending;
      this.pending = new Map();
      try {
        await addRequestStats(this.knex, [...batch.values()]);
      } catch (err) {
        for (const [k, r] of batch) {
          const cur = this.pending.get(k);
          if (!cur) this.pending.set(k, r);
          else {
            cur.requests += r.requests;
            cur.duration_us_sum += r.duration_us_sum;
            r.bucket_counts.forEach((c, i) => (cur.bucket_counts[i] += c));
          }
        }
        this.onError(err);
      }
    })().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.flush();
  }
}
