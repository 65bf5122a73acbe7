import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Knex } from 'knex';
import { dailyBatchStats } from '../core/earning/index.js';

/**
 * Prometheus metrics of one server. Each server gets its own registry (tests run several in
 * one process; the global default registry would mix them).
 */
export class Metrics {
  readonly registry = new Registry();
  readonly requests: Counter<'route' | 'method' | 'status'>;
  readonly duration: Histogram<'route' | 'method' | 'status_class'>;
  readonly errors: Counter<'route' | 'code'>;
  readonly rateLimited: Counter<'route'>;
  readonly callerRateLimited: Counter<'sub'>;
  readonly deadlineExceeded: Counter<'route'>;
  readonly connectionsRefused: Counter;
  private rendering?: Promise<string>;
  private rendered?: { text: string; at: number };

  constructor(knex: Knex | null, extra: { rateLimitStoreErrors: () => number; healthProbes?: () => number }) {
    collectDefaultMetrics({ register: this.registry, prefix: 'rayon_' });
    this.requests = new Counter({
      name: 'rayon_http_requests_total',
      help: 'HTTP requests answered, by route, method and status',
      labelNames: ['route', 'method', 'status'],
      registers: [this.registry],
    });
    this.duration = new Histogram({
      name: 'rayon_http_request_duration_seconds',
      help: 'HTTP request latency, by route, method and status class',
      labelNames: ['route', 'method', 'status_class'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1, 2, 5],
      registers: [this.registry],
    });
    this.errors = new Counter({
      name: 'rayon_http_errors_total',
      help: 'HTTP error answers, by route and error code',
      labelNames: ['route', 'code'],
      registers: [this.registry],
    });
    this.rateLimited = new Counter({
      name: 'rayon_http_rate_limited_total',
      help: 'requests refused by the rate limiter, by route',
      labelNames: ['route'],
      registers: [this.registry],
    });
    this.callerRateLimited = new Counter({
      name: 'rayon_http_caller_rate_limited_total',
      help: 'requests refused by the overall limit of a service or admin token, by token subject',
      labelNames: ['sub'],
      registers: [this.registry],
    });
    this.deadlineExceeded = new Counter({
      name: 'rayon_http_deadline_exceeded_total',
      help: 'requests answered 503 at the request deadline (RAYON_REQUEST_TIMEOUT_MS), by route',
      labelNames: ['route'],
      registers: [this.registry],
    });
    this.connectionsRefused = new Counter({
      name: 'rayon_http_connections_refused_total',
      help: 'client connections closed at once because RAYON_MAX_CONNECTIONS were open',
      registers: [this.registry],
    });
    // Read at scrape time; left unset when there is nothing to read.
    const gauge = (name: string, help: string, read: () => number | undefined) =>
      new Gauge({
        name,
        help,
        registers: [this.registry],
        collect() {
          const value = read();
          if (value !== undefined) this.set(value);
        },
      });
    gauge('rayon_rate_limit_store_errors', 'rate-limit store failures since start (requests were let through)', () => extra.rateLimitStoreErrors());
    gauge('rayon_health_probes', 'database probes /healthz made since start (at most one a second)', () => extra.healthProbes?.());
    const initialPool = (knex?.client as { pool?: TarnPool } | undefined)?.pool;
    // knex creates its pool lazily and replaces it on destroy: read it at scrape time.
    const poolGauge = (name: string, help: string, read: (p: TarnPool) => number) =>
      gauge(name, help, () => {
        const p = (knex?.client as { pool?: TarnPool } | undefined)?.pool ?? initialPool;
        return p ? read(p) : undefined;
      });
    poolGauge('rayon_db_pool_used', 'database connections in use', (p) => p.numUsed());
    poolGauge('rayon_db_pool_free', 'idle database connections', (p) => p.numFree());
    poolGauge('rayon_db_pool_pending_acquires', 'requests waiting for a database connection', (p) => p.numPendingAcquires());
    poolGauge('rayon_db_pool_max', 'maximum database connections', (p) => p.max);
    // Daily collections in batches (src/core/earning/batches.ts), since start (0 on the embedded database,
    // which does not batch).
    const dailyGauge = (name: string, help: string, read: (s: NonNullable<ReturnType<typeof dailyBatchStats>>) => number) =>
      gauge(name, help, () => {
        const stats = knex ? dailyBatchStats(knex) : undefined;
        return stats ? read(stats) : undefined;
      });
    dailyGauge('rayon_daily_batches', 'daily-collection batches written since start', (s) => s.batches);
    dailyGauge('rayon_daily_batched_collections', 'daily collections taken into batches since start', (s) => s.batchedUsers);
    dailyGauge('rayon_daily_batch_written', 'daily collections written by batch statements since start', (s) => s.batchWritten);
    dailyGauge('rayon_daily_collected_alone', 'daily collections redone on their own after a batch (guard missed, row held, batch failed) since start', (s) => s.alone);
    dailyGauge('rayon_daily_failed_batches', 'daily-collection batches whose statements failed since start', (s) => s.failedBatches);
    dailyGauge('rayon_daily_waiting', 'daily collections waiting for the next batch now', (s) => s.waiting);
  }

  /**
   * The exposition text, rendered at most once per `RENDER_REUSE_MS`: every gauge reads process
   * memory (no database query), and a burst of scrapes costs one rendering, not one each.
   */
  render(nowMs = Date.now()): Promise<string> {
    if (this.rendered && nowMs - this.rendered.at < RENDER_REUSE_MS) return Promise.resolve(this.rendered.text);
    this.rendering ??= this.registry
      .metrics()
      .then((text) => {
        this.rendered = { text, at: nowMs };
        return text;
      })
      .finally(() => {
        this.rendering = undefined;
      });
    return this.rendering;
  }
}

/** A scrape within this time of the last rendering gets the same text. */
const RENDER_REUSE_MS = 1000;

interface TarnPool {
  numUsed(): number;
  numFree(): number;
  numPendingAcquires(): number;
  max: number;
}
