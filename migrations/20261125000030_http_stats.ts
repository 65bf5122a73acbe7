import type { Knex } from 'knex';
import { runSql } from '../src/db/sql.js';

/**
 * Aggregated HTTP-mode request statistics for the KPI report's technical section (response
 * time p95, error rate): one row per (bucket, route, status class) with a latency histogram,
 * upserted by each server every few seconds — never one row per request.
 */
export async function up(knex: Knex): Promise<void> {
  await runSql(knex, `
    create table http_request_stats (
      bucket_start timestamptz not null,
      bucket_seconds integer not null check (bucket_seconds in (60, 3600)),
      route text not null check (length(route) between 1 and 100),
      status_class text not null check (status_class in ('2xx', '3xx', '4xx', '5xx')),
      requests bigint not null check (requests >= 0),
      duration_us_sum bigint not null check (duration_us_sum >= 0),
      -- upper bounds in ms of the histogram buckets; bucket_counts has one more (the open bucket)
      le_ms integer[] not null,
      bucket_counts bigint[] not null,
      primary key (bucket_start, bucket_seconds, route, status_class),
      constraint http_request_stats_buckets_check check (cardinality(bucket_counts) = cardinality(le_ms) + 1)
    );
    create index http_request_stats_start_idx on http_request_stats (bucket_start);
  `);
}

export async function down(knex: Knex): Promise<void> {
  await runSql(knex, `drop table if exists http_request_stats`);
}
