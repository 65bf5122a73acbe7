#!/usr/bin/env node
// KPI report benchmark (issue 15). Plain ESM over the compiled core in dist/ (`npm run bench:kpi`
// builds first). On the demo database that `npm run bench:demo` leaves (100,000 users × 90 days,
// rayon_bench_demo), it times the 90-day report (every KPI, liability, breakage, forecast) and, in
// the same run, one full scan of the ledger (`select count(*), sum(amount) from
// points_transactions`), and prints both and their ratio. Target: the report within 10 scans.
//
//   node bench/kpi.mjs [--database-url URL]       default postgres://postgres@127.0.0.1:5432/rayon_bench_demo
//   node bench/kpi.mjs --synthetic 20000 [--days 90] [--keep]
//        fallback without a demo: a scratch database rayon_bench_kpi_<pid> filled by a SQL generator
//        (N users over 6 territories, daily streaks, earns, redemptions with their lot allocations,
//        old credits about to expire, one HTTP statistics row per route and minute), dropped at the
//        end unless --keep.
import { performance } from 'node:perf_hooks';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const here = path.dirname(fileURLToPath(import.meta.url));
const dist = (p) => path.join(here, '..', 'dist', 'src', p);
const { openDb } = await import(dist('db/connect.js'));
const { migrateLatest } = await import(dist('db/migrate.js'));
const { kpiReport, resolvePeriods } = await import(dist('core/kpi/index.js'));

const args = process.argv.slice(2);
const flag = (n) => args.includes(n);
const opt = (n, d) => (args.includes(n) ? args[args.indexOf(n) + 1] : d);
const withDatabase = (url, name) => {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
};

const synthetic = opt('--synthetic');
const DAYS = Number(opt('--days', '90'));
const base = process.env.BENCH_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
let url = opt('--database-url', withDatabase(base, 'rayon_bench_demo'));
let scratch;

function fail(message) {
  process.stderr.write(`bench:kpi: ${message}\n`);
  process.exit(1);
}

if (synthetic) {
  const n = Number(synthetic);
  if (!Number.isSafeInteger(n) || n < 1) fail(`--synthetic takes a number of users, got ${synthetic}`);
  scratch = `rayon_bench_kpi_${process.pid}`;
  url = withDatabase(base, scratch);
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`create database ${scratch}`);
  await admin.end();
}

let db;
try {
  db = await openDb({ databaseUrl: url, dataDir: '', statementTimeoutMs: 0, poolMax: 2 });
} catch (err) {
  fail(`${err.message}\n  (run \`npm run bench:demo\` first to create the demo database, pass --database-url URL, or --synthetic N)`);
}
const k = db.knex;

try {
  if (synthetic) {
    await migrateLatest(db);
    const t0 = performance.now();
    await fill(k, Number(synthetic), DAYS);
    process.stderr.write(`synthetic data: ${Number(synthetic).toLocaleString('en')} users × ${DAYS} days in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  }
  const users = await k.raw('select count(*)::bigint as n from users').then((r) => Number(r.rows[0].n), () => null);
  if (users === null) fail(`${db.label} has no rayon schema: run \`npm run bench:demo\` (or rayon demo) first, or pass --synthetic N`);
  if (users === 0) fail(`${db.label} holds no users: run \`npm run bench:demo\` (or rayon demo) first, or pass --synthetic N`);

  const scan = async () => {
    const t = performance.now();
    const { rows } = await k.raw('select count(*)::bigint as n, coalesce(sum(amount), 0)::bigint as s from points_transactions');
    return { ms: performance.now() - t, rows: Number(rows[0].n), sum: Number(rows[0].s) };
  };
  const now = new Date();
  const territories = await k('territories').select('timezone');
  const { current } = resolvePeriods({ asOf: now, zones: territories.map((t) => t.timezone) });
  const to = current.to;
  const from = new Date(Date.parse(`${to}T00:00:00Z`) - 89 * 86_400_000).toISOString().slice(0, 10);

  await scan(); // warm the cache: both measures then read the same warm pages
  const scans = [await scan(), await scan(), await scan()];
  const scanMs = scans.map((s) => s.ms).sort((a, b) => a - b)[1];
  const t = performance.now();
  const report = await kpiReport(k, { from, to, now });
  const reportMs = performance.now() - t;
  const after = await scan();

  const show = (f) => `${f.name.padEnd(26)} ${f.display}${f.change ? ` (${f.change.display})` : ''} — ${f.mark}`;
  process.stdout.write(
    [
      `database        ${db.label}`,
      `users           ${users.toLocaleString('en')}`,
      `ledger          ${scans[0].rows.toLocaleString('en')} rows, sum ${scans[0].sum.toLocaleString('en')}`,
      `full scan       ${scans.map((s) => `${s.ms.toFixed(0)} ms`).join(', ')} (median ${scanMs.toFixed(0)} ms), after the report ${after.ms.toFixed(0)} ms`,
      `90-day report   ${reportMs.toFixed(0)} ms (${from} to ${to}, all KPIs, liability, breakage, 30/60/90-day forecast)`,
      `ratio           ${(reportMs / scanMs).toFixed(2)} × one full scan (target ≤ 10)`,
      '',
      ...report.figures.map(show),
      `${'liability'.padEnd(26)} ${report.liability.display}`,
      `${'breakage'.padEnd(26)} ${report.breakage.display}`,
      ...report.forecast.map((f) => `${`expiring within ${f.within_days} days`.padEnd(26)} ${f.display}`),
      '',
    ].join('\n'),
  );
} finally {
  await db.close();
  if (scratch && !flag('--keep')) {
    const admin = new pg.Client({ connectionString: base });
    await admin.connect();
    await admin.query(`drop database if exists ${scratch} with (force)`);
    await admin.end();
  } else if (scratch) process.stderr.write(`kept ${url}\n`);
}

/** The SQL generator: set-based inserts, deterministic (hashes of ids and dates, no random()). */
async function fill(k, users, days) {
  const end = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
  const start = new Date(Date.parse(`${end}T00:00:00Z`) - (days - 1) * 86_400_000).toISOString().slice(0, 10);
  const step = async (label, sql, bindings = []) => {
    const t = performance.now();
    const r = await k.raw(sql, bindings);
    process.stderr.write(`  ${label}: ${r.rowCount ?? ''} rows, ${((performance.now() - t) / 1000).toFixed(1)} s\n`);
  };
  await k.raw(`update territories set state = 'open' where code in ('RE','MQ','GP','GF','YT','PF')`);
  // Users register from 60 days before the window to its end: some arrive mid-period.
  await step('users', `insert into users (id, email, name, territory_code, created_at)
    select 'u' || g, 'u' || g || '@bench.example', 'User ' || g, (array['RE','RE','RE','MQ','GP','GF','YT','PF'])[1 + g % 8],
           ?::date - 60 + (g % (60 + ?)) + interval '8 hours'
      from generate_series(1, ?) g`, [start, days, users]);
  // Profiles by hash: 1/4 daily collectors (85%), 1/4 occasional (35%), the rest rare (8%).
  await step('daily rows', `insert into points_transactions (user_id, type, amount, created_at, local_date, territory_code, streak_day, m100, jokers_used, idempotency_key)
    with cand as (
      select u.id as user_id, u.territory_code, t.timezone, d::date as day
        from users u join territories t on t.code = u.territory_code,
             generate_series(?::date, ?::date, interval '1 day') d
       where d::date >= (u.created_at at time zone t.timezone)::date
         and abs(hashtext(u.id || d::date::text)) % 100 < (array[85, 35, 8, 8])[1 + abs(hashtext(u.id)) % 4]
    ), isl as (
      select *, day - (row_number() over (partition by user_id order by day))::int as grp from cand
    ), s as (
      select *, row_number() over (partition by user_id, grp order by day)::int as streak_day from isl
    )
    select user_id, 'daily',
           case when streak_day >= 30 then 30 when streak_day >= 14 then 20 when streak_day >= 7 then 15 when streak_day >= 3 then 12 else 10 end,
           (day + time '09:00') at time zone timezone, day, territory_code, streak_day,
           case when streak_day >= 30 then 300 when streak_day >= 14 then 200 when streak_day >= 7 then 150 when streak_day >= 3 then 120 else 100 end,
           0, 'daily:' || user_id || ':' || day
      from s`, [start, end]);
  await step('earn rows', `insert into points_transactions (user_id, type, amount, created_at, local_date, territory_code, action_type, reference_id, idempotency_key)
    select p.user_id, 'earn', 20, p.created_at + interval '2 hours', p.local_date, p.territory_code, 'listing_created', 'l-' || p.id,
           'earn:' || p.user_id || ':listing_created:l-' || p.id
      from points_transactions p where p.type = 'daily' and abs(hashtext('e' || p.id)) % 100 < 30`);
  // Old credits: one user in ten got 100 points ~350 days ago (they expire within the forecast).
  await step('old credits', `insert into points_transactions (user_id, type, amount, created_at, local_date, territory_code, actor, reason, idempotency_key)
    select u.id, 'adjustment', 100, ((?::date - 350 + (u.id_n % 60)) + time '10:00') at time zone t.timezone, ?::date - 350 + (u.id_n % 60), u.territory_code, 'bench', 'welcome', 'bench-old:' || u.id
      from (select id, territory_code, substr(id, 2)::int as id_n from users) u join territories t on t.code = u.territory_code
     where u.id_n % 10 = 0`, [end, end]);
  await step('lots', `insert into points_lots (user_id, transaction_id, amount, remaining, credited_at, expires_at)
    select p.user_id, p.id, p.amount, p.amount, p.created_at, (p.local_date + 366 + time '00:00') at time zone t.timezone
      from points_transactions p join territories t on t.code = p.territory_code where p.amount > 0`);
  // Redemptions of 10 points, five days after a daily credit, taking them from that credit's lot.
  await step('redemptions', `with src as (
      select p.user_id, p.local_date, p.territory_code, t.timezone, l.id as lot_id
        from points_transactions p join points_lots l on l.user_id = p.user_id and l.transaction_id = p.id
        join territories t on t.code = p.territory_code
       where p.type = 'daily' and p.local_date + 5 <= ?::date and abs(hashtext('r' || p.id)) % 100 < 10
    ), ins as (
      insert into points_transactions (user_id, type, amount, created_at, local_date, territory_code, idempotency_key)
      select user_id, 'redeem', -10, (local_date + 5 + time '12:00') at time zone timezone, local_date + 5, territory_code, 'bench-redeem:' || lot_id
        from src returning user_id, id, idempotency_key
    )
    insert into lot_allocations (user_id, transaction_id, lot_id, points, lot_credited_at)
    select i.user_id, i.id, l.id, 10, l.credited_at from ins i join points_lots l on l.user_id = i.user_id and l.id = substr(i.idempotency_key, 14)::bigint`, [end]);
  await step('lot remainders', `update points_lots l set remaining = l.amount - a.points
      from lot_allocations a where a.user_id = l.user_id and a.lot_id = l.id`);
  await step('http statistics', `insert into http_request_stats (bucket_start, bucket_seconds, route, status_class, requests, duration_us_sum, le_ms, bucket_counts)
    select m, 60, r, case when abs(hashtext(r || m::text)) % 1000 = 0 then '5xx' else '2xx' end, 40, 40 * 30000,
           '{5,10,25,50,100,200,500,1000,2000,5000}', '{2,6,12,12,5,2,1,0,0,0,0}'
      from generate_series(?::date::timestamptz, ?::date::timestamptz + interval '1 day' - interval '1 minute', interval '1 minute') m,
           unnest(array['balance', 'collect', 'catalog']) r`, [start, end]);
  await k.raw('analyze');
}
