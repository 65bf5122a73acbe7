#!/usr/bin/env node
// Demo generator benchmark (issue 15): `rayon demo` of 100,000 users × 90 days on PostgreSQL.
// Plain ESM over the compiled code in dist/ (`npm run bench:demo` builds first).
//
//   node bench/demo.mjs                          100,000 users × 90 days into rayon_bench_demo
//   node bench/demo.mjs --users 10000 --days 30  a smaller run
//   node bench/demo.mjs --reuse                  keep rayon_bench_demo when it already holds a demo
//
// The database (BENCH_DATABASE_URL, else DATABASE_URL, else postgres://postgres@127.0.0.1:5432/test,
// with the database name replaced by rayon_bench_demo, or --db NAME) is dropped, created, migrated,
// then filled by the real command in a child process (`rayon demo --json --stats`), whose wall
// time, events per second and peak RSS are printed. The database is left in place for
// `npm run bench:fraud` (and the KPI benchmark): drop it with `dropdb rayon_bench_demo`.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.join(here, '..');
const { openDb } = await import(path.join(root, 'dist/src/db/connect.js'));
const { migrateLatest } = await import(path.join(root, 'dist/src/db/migrate.js'));

const args = process.argv.slice(2);
const flag = (n) => args.includes(n);
const opt = (n, d) => (args.includes(n) ? args[args.indexOf(n) + 1] : d);
const USERS = Number(opt('--users', '100000'));
const DAYS = Number(opt('--days', '90'));
const SEED = Number(opt('--seed', '1'));
const DB = opt('--db', 'rayon_bench_demo');

const baseUrl = process.env.BENCH_DATABASE_URL || process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
export const withDb = (name) => {
  const u = new URL(baseUrl);
  u.pathname = `/${name}`;
  return u.toString();
};
const url = withDb(DB);

const admin = new pg.Client({ connectionString: baseUrl });
await admin.connect();
const exists = (await admin.query('select 1 from pg_database where datname = $1', [DB])).rowCount > 0;
let reuse = false;
if (exists && flag('--reuse')) {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  const r = await c.query(`select count(*)::int as n from users where id like 'd${SEED}-%'`).catch(() => ({ rows: [{ n: 0 }] }));
  await c.end();
  reuse = r.rows[0].n > 0;
}
if (!reuse) {
  await admin.query(`drop database if exists ${DB} with (force)`);
  await admin.query(`create database ${DB}`);
}
await admin.end();
if (reuse) {
  console.log(`${DB} already holds the demo of seed ${SEED}: nothing generated (drop --reuse to regenerate).`);
  process.exit(0);
}

const db = await openDb({ databaseUrl: url, dataDir: '', statementTimeoutMs: 0 });
await migrateLatest(db);
await db.close();

console.log(`rayon demo --users ${USERS} --days ${DAYS} --seed ${SEED} into ${DB} …`);
const t0 = performance.now();
const child = spawn(process.execPath, [path.join(root, 'bin/rayon.js'), 'demo', '--users', String(USERS), '--days', String(DAYS), '--seed', String(SEED), '--json', '--stats'], {
  env: { ...process.env, DATABASE_URL: url, RAYON_ACTOR: 'bench' },
  stdio: ['ignore', 'pipe', 'inherit'],
});
let out = '';
child.stdout.on('data', (d) => (out += d));
const code = await new Promise((resolve) => child.on('close', resolve));
const wallS = (performance.now() - t0) / 1000;
if (code !== 0) {
  console.error(`rayon demo exited ${code}: ${out}`);
  process.exit(1);
}
const r = JSON.parse(out);
const rows = Object.values(r.rows).reduce((s, n) => s + n, 0);
console.log(`users ${USERS}, days ${DAYS}: ${r.events} events (ledger rows + refused earns), ${rows} rows in all tables, ${r.method}`);
console.log(`  rows: ${Object.entries(r.rows).map(([k, v]) => `${k} ${v}`).join(', ')}`);
console.log(`  wall time (process start to exit): ${wallS.toFixed(1)} s; generation + writes: ${(r.elapsed_ms / 1000).toFixed(1)} s`);
if (r.phases_ms) console.log(`  phases: ${Object.entries(r.phases_ms).map(([k, v]) => `${k} ${(v / 1000).toFixed(1)} s`).join(', ')}`);
console.log(`  events/s: ${Math.round(r.events / wallS)} over the wall time, ${r.events_per_second} over generation + writes`);
console.log(`  peak RSS of the demo process: ${r.max_rss_mb} MB`);
console.log(`  targets: under 180 s (${wallS < 180 ? 'met' : 'NOT met'}), under 1024 MB (${r.max_rss_mb < 1024 ? 'met' : 'NOT met'})`);
console.log(`${DB} is kept for npm run bench:fraud (drop it with: dropdb ${DB}).`);
