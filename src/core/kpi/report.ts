import type { Knex } from 'knex';
import { requestStatsSummary } from '../ops/index.js';
import { RayonError } from '../errors.js';
import { addDays, startOfLocalDay } from '../time.js';
import { activity } from './activity.js';
import { liability, pointValueAt } from './balance.js';
import { eurFigure, figure, fromText, NO_DATA, type Figure } from './figures.js';
import { buildManifest, type Manifest } from './manifest.js';
import { centsToText, eurCents } from './money.js';
import { resolvePeriods } from './period.js';
import { periodDays, type Day } from './days.js';
import { redemptionDelay } from './points.js';
import type { Scope } from './scope.js';
import { streakRuns, type RunLength } from './streaks.js';
import { inLanes, parallelism } from '../../db/lanes.js';

/**
 * The KPI report: every figure of the dashboard, liability, breakage and the expiry forecast,
 * the series the charts draw, and the manifest. All reads run in one read-only repeatable-read
 * transaction (one snapshot), each bounded by the as-of instant.
 */

const REPORT_STATEMENT_TIMEOUT = '10min';
const REPORT_WORK_MEM = '64MB';
/** Connections reading at once on PostgreSQL (bounded by the pool): the families run side by side. */
const REPORT_LANES = 3;

export interface ReportOptions {
  from?: string;
  to?: string;
  /** Rebuild the ledger as it stood at this instant; default `now`. */
  asOf?: Date;
  now: Date;
  territory?: string;
}

export interface Amount {
  points: number | null;
  /** € as exact text with two decimals; null without a point value or without data. */
  eur: string | null;
  display: string;
}

export interface KpiReport {
  manifest: Manifest;
  figures: Figure[];
  liability: Amount;
  breakage: Amount;
  forecast: Array<{ within_days: 30 | 60 | 90 } & Amount>;
  series: { days: Day[]; streaks: RunLength[] };
}

export async function kpiReport(db: Knex, opts: ReportOptions): Promise<KpiReport> {
  const asOf = opts.asOf ?? opts.now;
  if (asOf.getTime() > opts.now.getTime()) {
    throw new RayonError('VALIDATION_ERROR', `--as-of ${asOf.toISOString()} is later than now (${opts.now.toISOString()}): a report describes the ledger as it stood`, {
      details: [{ where: '--as-of', message: 'later than now' }],
    });
  }
  const lanes = parallelism(db, REPORT_LANES);
  return db.transaction(
    async (trx) => {
      await prepare(trx);
      return build(trx, opts, asOf, (tasks) => inLanes(db, trx, lanes, prepare, tasks));
    },
    { isolationLevel: 'repeatable read', readOnly: true },
  );
}

/** The settings of every connection that reads for the report. */
async function prepare(trx: Knex.Transaction): Promise<void> {
  // A report is a long read over the whole ledger: more time than an operator's statement.
  await trx.raw(`set local statement_timeout = '${REPORT_STATEMENT_TIMEOUT}'`);
  // Room for the per-user groupings to hash in memory instead of sorting on disk.
  await trx.raw(`set local work_mem = '${REPORT_WORK_MEM}'`);
  // Each family is one statement: compiling it costs more than it saves on these scans.
  await trx.raw('set local jit = off');
  // The families already run side by side on the lanes: a statement's own parallel workers
  // would only compete with them for the same cores (and gather what the lanes need not).
  await trx.raw('set local max_parallel_workers_per_gather = 0');
}

type Run = (tasks: Array<(q: Knex) => Promise<unknown>>) => Promise<unknown[]>;

async function build(db: Knex, opts: ReportOptions, asOf: Date, run: Run): Promise<KpiReport> {
  const territories: Array<{ code: string; timezone: string }> = await db('territories').select('code', 'timezone').orderBy('code');
  const territory = opts.territory ? opts.territory.toUpperCase() : null;
  const chosen = territory ? territories.find((t) => t.code === territory) : undefined;
  if (territory && !chosen) {
    throw new RayonError('VALIDATION_ERROR', `--territory ${opts.territory}: unknown territory (known: ${territories.map((t) => t.code).join(', ')})`, {
      details: [{ where: '--territory', message: 'unknown territory' }],
    });
  }
  const zones = chosen ? [chosen.timezone] : territories.map((t) => t.timezone);
  const periods = resolvePeriods({ from: opts.from, to: opts.to, asOf, zones });
  const scope: Scope = { asOf, territory, periods };
  const p = periods.current;

  // HTTP statistics are kept for the whole service, not per territory: the period's local days in
  // the territory's zone (UTC for the whole programme), up to the as-of instant.
  const tz = chosen?.timezone ?? 'UTC';
  const httpTo = new Date(Math.min(startOfLocalDay(addDays(p.to, 1), tz).getTime(), asOf.getTime()));
  // Independent reads of one snapshot, the longest first so that parallel lanes finish together.
  const [delay, runs, counts, days, owed, pointValue, http] = (await run([
    (q) => redemptionDelay(q, scope),
    (q) => streakRuns(q, scope),
    (q) => activity(q, scope),
    (q) => periodDays(q, scope),
    (q) => liability(q, scope),
    (q) => pointValueAt(q, p.to),
    (q) => requestStatsSummary(q, startOfLocalDay(p.from, tz), httpTo),
  ])) as [
    Awaited<ReturnType<typeof redemptionDelay>>,
    Awaited<ReturnType<typeof streakRuns>>,
    Awaited<ReturnType<typeof activity>>,
    Awaited<ReturnType<typeof periodDays>>,
    Awaited<ReturnType<typeof liability>>,
    Awaited<ReturnType<typeof pointValueAt>>,
    Awaited<ReturnType<typeof requestStatsSummary>>,
  ];

  const hwm: Manifest['high_water_mark'] = {
    last_transaction_id: days.ledger.last_id,
    last_transaction_at: days.ledger.last_at,
    rows: days.ledger.rows,
    sum: days.ledger.sum,
  };
  const sum = (k: keyof Omit<Day, 'day'>) => days.days.reduce((s, d) => s + Number(d[k]), 0);
  const credited = sum('credited');
  const redeemed = sum('redeemed');
  const refunded = sum('refunded');
  const expired = sum('expired');
  const net = redeemed - refunded;
  const runCount = runs.reduce((s, r) => s + r.runs, 0);
  const runDays = runs.reduce((s, r) => s + r.runs * r.length, 0);
  const ratio = (n: number, d: number) => (d > 0 ? n / d : null);

  const figures: Figure[] = [
    figure('activation_rate', {
      value: ratio(counts.activated, counts.registered),
      exact: counts.registered > 0 ? `${counts.activated}/${counts.registered}` : null,
      missing: `${NO_DATA}: no user registered by ${p.to}`,
      inputs: { registered: counts.registered, activated: counts.activated },
    }),
    figure('daily_collection_rate', {
      value: fromText(days.collection_mean),
      exact: days.collection_mean,
      missing: `${NO_DATA}: no registered user on any day of the period`,
      inputs: { days_counted: days.days_counted, collections: sum('collectors') },
    }),
    figure('average_streak_length', {
      value: ratio(runDays, runCount),
      exact: runCount > 0 ? `${runDays}/${runCount}` : null,
      missing: `${NO_DATA}: no daily collection in the period`,
      inputs: { runs: runCount, run_days: runDays },
    }),
    figure('points_usage_rate', {
      value: ratio(net, credited),
      exact: credited > 0 ? `${net}/${credited}` : null,
      missing: `${NO_DATA}: no points credited by daily or earn rows in the period`,
      inputs: { redeemed, refunded, credited },
    }),
    figure('average_redemption_delay', {
      value: fromText(delay.days),
      exact: delay.days,
      missing: `${NO_DATA}: no redemption in the period`,
      inputs: { points: delay.points },
    }),
    figure('retention', {
      value: ratio(counts.retained, counts.active_b1),
      exact: counts.active_b1 > 0 ? `${counts.retained}/${counts.active_b1}` : null,
      missing: `${NO_DATA}: no user active in the previous period`,
      baseline: ratio(counts.retained_b1, counts.active_b2),
      inputs: { retained: counts.retained, active_previous: counts.active_b1, retained_baseline: counts.retained_b1, active_before_baseline: counts.active_b2 },
    }),
    figure('frequency', {
      value: ratio(counts.active_days, counts.active),
      exact: counts.active > 0 ? `${counts.active_days}/${counts.active}` : null,
      missing: `${NO_DATA}: no active user in the period`,
      baseline: ratio(counts.active_days_b1, counts.active_b1),
      inputs: { active_days: counts.active_days, active_users: counts.active, active_days_baseline: counts.active_days_b1, active_users_baseline: counts.active_b1 },
    }),
    figure('conversion', { value: null }),
    figure('response_time', {
      value: http.p95_ms_upper_bound,
      exact: http.p95_ms_upper_bound === null ? null : String(http.p95_ms_upper_bound),
      missing: `${NO_DATA}: no HTTP-mode request recorded in the period`,
      inputs: { requests: http.requests },
      note: 'the bound of the histogram bucket holding the 95th percentile; all territories',
    }),
    figure('availability', { value: null }),
    figure('error_rate', {
      value: ratio(http.errors_5xx, http.requests),
      exact: http.requests > 0 ? `${http.errors_5xx}/${http.requests}` : null,
      missing: `${NO_DATA}: no HTTP-mode request recorded in the period`,
      inputs: { errors_5xx: http.errors_5xx, requests: http.requests },
      note: 'all territories',
    }),
    eurFigure('cost_per_user', counts.active > 0 && pointValue ? eurCents(net, pointValue.value, counts.active) : null, {
      missing: pointValue ? `${NO_DATA}: no active user in the period` : `${NO_DATA}: no scale in force on ${p.to}`,
      inputs: { net_redeemed_points: net, active_users: counts.active, point_value_eur: pointValue?.value ?? null },
    }),
    figure('roi_revenue_share', { value: null }),
  ];

  const hasLedger = hwm.rows > 0;
  const amount = (points: number): Amount => {
    if (!hasLedger) return { points: null, eur: null, display: NO_DATA };
    const eur = pointValue ? centsToText(eurCents(points, pointValue.value)) : null;
    return { points, eur, display: `${points} pts${eur === null ? '' : ` (${eur} €)`}` };
  };

  return {
    manifest: buildManifest({ periods, territory, asOf, asOfGiven: Boolean(opts.asOf), hwm, pointValue }),
    figures,
    liability: amount(owed.outstanding),
    breakage: amount(expired),
    forecast: ([30, 60, 90] as const).map((d) => ({ within_days: d, ...amount(owed[`expiring_${d}`]) })),
    series: { days: days.days, streaks: runs },
  };
}
