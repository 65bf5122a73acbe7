#!/usr/bin/env node
// Fraud scan benchmark (issue 14, landed with the demo generator of issue 15): on the database
// `npm run bench:demo` leaves (rayon_bench_demo: 100,000 users × 90 days), time the full
// `fraud scan` — all seven rules, a window covering the whole history — and, in the same run, one
// full scan of the ledger, `select count(*), sum(amount) from points_transactions`. Prints both
// and their ratio (target: the scan within 5 × the ledger scan), then, for the record, each rule on
// its own and the daily scan of the default window (the last 24 hours).
//
//   node bench/fraud.mjs                 on rayon_bench_demo (BENCH_DATABASE_URL / DATABASE_URL server)
//   node bench/fraud.mjs --db NAME       another demo database
//   node bench/fraud.mjs --repeat 5      best of five of each (default three)
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const here = path.dirname(fileURLToPath(import.meta.url));
const dist = (p) => path.join(here, '..', 'dist', 'src', p);
const { openDb } = await import(dist('db/connect.js'));
const { scanFraud, runRules, loadParams, RULE_NAMES } = await import(dist('core/fraud/index.js'));

const args = process.argv.slice(2);
const opt = (n, d) => (args.includes(n) ? args[args.indexOf(n) + 1] : d);
const DB = opt('--db', 'rayon_bench_demo');
const REPEAT = Number(opt('--repeat', '3'));
const baseUrl = process.env.BENCH_DATABASE_URL || process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
const u = new URL(baseUrl);
u.pathname = `/${DB}`;
const url = u.toString();

const probe = new pg.Client({ connectionString: url });
try {
  await probe.connect();
} catch (err) {
  console.error(`cannot open ${DB} (${err.message}): run \`npm run bench:demo\` first, it leaves that database for this benchmark.`);
  process.exit(1);
}
const span = (await probe.query(`select min(created_at) as first, max(created_at) as last, count(*)::bigint as n from points_transactions`)).rows[0];
await probe.end();
if (!Number(span.n)) {
  console.error(`${DB} has an empty ledger: run \`npm run bench:demo\` first.`);
  process.exit(1);
}

const db = await openDb({ databaseUrl: url, dataDir: '', statementTimeoutMs: 0 });
// The window covers the whole history: from its first ledger row to just after its last.
const window = { since: new Date(span.first), until: new Date(new Date(span.last).getTime() + 1000) };
const time = async (fn) => {
  let best = Infinity;
  let value;
  for (let i = 0; i < REPEAT; i++) {
    const t0 = performance.now();
    value = await fn();
    best = Math.min(best, performance.now() - t0);
  }
  return { ms: best, value };
};

const ledger = await time(async () => (await db.knex.raw('select count(*)::bigint as n, sum(amount)::bigint as total from points_transactions')).rows[0]);
const scan = await time(() => scanFraud(db.knex, { window, actor: 'bench', now: window.until }));
const ledgerAgain = await time(async () => (await db.knex.raw('select count(*)::bigint as n, sum(amount)::bigint as total from points_transactions')).rows[0]);
// For the record, the scan ops schedule every day: the default window, the last 24 hours of the history.
const day = { since: new Date(window.until.getTime() - 86_400_000), until: window.until };
const daily = await time(() => scanFraud(db.knex, { window: day, actor: 'bench', now: window.until }));
// Where the scan's time goes: each rule's statement on its own, read as the scan reads it (its
// connection settings, one rule, so one connection), with no case writes.
const params = await loadParams(db.knex);
const perRule = [];
for (const rule of RULE_NAMES) {
  const t0 = performance.now();
  const found = await runRules(db.knex, window, params, [rule]);
  perRule.push(`${rule} ${(performance.now() - t0).toFixed(0)} ms (${found.length})`);
}
await db.close();

const ledgerMs = Math.min(ledger.ms, ledgerAgain.ms);
const byRule = {};
for (const f of scan.value.findings) byRule[f.rule] = (byRule[f.rule] ?? 0) + 1;
console.log(`ledger: ${ledger.value.n} rows, sum ${ledger.value.total}`);
console.log(`select count(*), sum(amount) from points_transactions: ${ledgerMs.toFixed(0)} ms (best of ${REPEAT * 2})`);
console.log(`fraud scan, all ${scan.value.rules.length} rules, ${window.since.toISOString()} → ${window.until.toISOString()}: ${scan.ms.toFixed(0)} ms, ${scan.value.findings.length} finding(s): ${JSON.stringify(byRule)}`);
console.log(`ratio scan / ledger scan: ${(scan.ms / ledgerMs).toFixed(2)} (target ≤ 5: ${scan.ms / ledgerMs <= 5 ? 'met' : 'NOT met'})`);
console.log(`per rule (ms, findings): ${perRule.join(', ')}`);
console.log(`the daily scan (--since 24h, the default), ${day.since.toISOString()} → ${day.until.toISOString()}: ${daily.ms.toFixed(0)} ms, ${daily.value.findings.length} finding(s) (${(daily.ms / ledgerMs).toFixed(2)} × the ledger scan)`);
