#!/usr/bin/env node
// HTTP-mode load benchmark (issue 5): 10,000 distinct users collect their daily points at once
// over 64 keep-alive connections against `rayon serve`, then a second round on the same day;
// beside it, pgbench -N (16 clients, 15 s) as the machine's limit for a small write transaction.
//
//   npm run bench:http                       (builds first)
//   node bench/http.mjs --users 10000 --connections 64 --pool 8 --warm-up 3000 [--skip-pgbench] [--analyze]
//
// Scratch databases rayon_bench_http and rayon_bench_pgbench on BENCH_DATABASE_URL (else
// DATABASE_URL, else postgres://postgres@127.0.0.1:5432/test), dropped at the end.
import os from 'node:os';
import { SignJWT } from 'jose';
import { SECRET, cpuMeter, dist, drop, fmt, load, pgbenchN, recreate, startServe } from './http-lib.mjs';

const args = process.argv.slice(2);
const opt = (n, d) => (args.includes(n) ? args[args.indexOf(n) + 1] : d);
const USERS = Number(opt('--users', '10000'));
const CONNECTIONS = Number(opt('--connections', '64'));
const POOL = opt('--pool', '8');
const NOW = '2026-11-25T08:00:00Z';
const NAME = 'rayon_bench_http';

const { openDb } = await import(dist('db/connect.js'));
const { migrateLatest } = await import(dist('db/migrate.js'));
const { upsertUsers } = await import(dist('core/users/index.js'));
const { collectDaily } = await import(dist('core/earning/index.js'));
// The same collection called in-process, with no HTTP, on other users: how much the HTTP layer costs.
const CORE_USERS = Math.min(3000, USERS);
// Before round 1, other users collect (not counted): the figures are for a server whose code V8
// has already optimised, as after a few seconds of traffic (cold, the first second of round 1
// runs at about half speed: see the README).
const WARM_USERS = Number(opt('--warm-up', '3000'));

const url = await recreate(NAME);
let server;
try {
  const db = await openDb({ databaseUrl: url, dataDir: '', statementTimeoutMs: 0 });
  await migrateLatest(db);
  const ids = Array.from({ length: USERS }, (_, i) => `u${String(i).padStart(6, '0')}`);
  const coreIds = Array.from({ length: CORE_USERS }, (_, i) => `c${String(i).padStart(6, '0')}`);
  const warmIds = Array.from({ length: WARM_USERS }, (_, i) => `w${String(i).padStart(6, '0')}`);
  await db.knex.transaction((trx) =>
    upsertUsers(trx, [...ids, ...coreIds, ...warmIds].map((id) => ({ id, email: `${id}@bench.example`, name: id, territory: 'RE' })), new Date('2026-01-01T00:00:00Z')),
  );
  // --analyze: statistics taken now, with the ledger still empty — a programme's first minute,
  // before autovacuum sees the ledger grow (see "Prepared plans and fresh databases" in the README).
  if (args.includes('--analyze')) await db.knex.raw('vacuum analyze');
  const key = new TextEncoder().encode(SECRET);
  const exp = Math.floor(Date.now() / 1000) + 3600;
  const sign = (id) => new SignJWT({ role: 'user' }).setProtectedHeader({ alg: 'HS256' }).setSubject(id).setExpirationTime(exp).sign(key);
  const tokens = await Promise.all(ids.map(sign));
  const warmTokens = await Promise.all(warmIds.map(sign));
  process.stderr.write(`${USERS} users imported; starting rayon serve (pool ${POOL}, rate limits off)…\n`);

  server = await startServe(url, { RAYON_NOW: NOW, RAYON_POOL_MAX: POOL });
  const requests = tokens.map((token) => ({ method: 'POST', path: '/api/points/collect-daily', token, body: {} }));
  // Warm-up (JIT, pool connections): status reads of the measured users, then collections of
  // other users (w…), which round 1's credit count leaves out.
  await load(server.url, tokens.slice(0, 500).map((token) => ({ method: 'GET', path: '/api/streaks/status', token })), CONNECTIONS);
  await load(server.url, warmTokens.map((token) => ({ method: 'POST', path: '/api/points/collect-daily', token, body: {} })), CONNECTIONS);

  const meter = await cpuMeter(server.pid);
  let mark = meter.start();
  const r1 = await load(server.url, requests, CONNECTIONS);
  const cpu1 = meter.perRequest(mark, requests.length);
  const daily = () => db.knex('points_transactions').where({ type: 'daily' }).andWhere('user_id', 'like', 'u%');
  const credits1 = Number((await daily().clone().count({ n: '*' }))[0].n);
  mark = meter.start();
  const r2 = await load(server.url, requests, CONNECTIONS);
  const cpu2 = meter.perRequest(mark, requests.length);
  const credits2 = Number((await daily().clone().count({ n: '*' }))[0].n) - credits1;
  const distinct = Number((await daily().clone().countDistinct({ n: 'user_id' }))[0].n);
  await server.stop();
  server = undefined;
  const coreDb = await openDb({ databaseUrl: url, dataDir: '', poolMax: Number(POOL) });
  const now = new Date(NOW);
  let next = 0;
  const c0 = performance.now();
  await Promise.all(Array.from({ length: CONNECTIONS }, async () => {
    for (let i = next++; i < CORE_USERS; i = next++) await collectDaily(coreDb.knex, coreIds[i], now);
  }));
  const coreRps = CORE_USERS / ((performance.now() - c0) / 1000);
  await coreDb.close();
  await db.close();

  // --skip-pgbench: for quick comparisons of settings (the ratio is then not printed).
  const skipPgbench = args.includes('--skip-pgbench');
  if (!skipPgbench) process.stderr.write('running pgbench -N (16 clients, 15 s)…\n');
  const pgb = skipPgbench ? { tps: NaN, latencyAvgMs: NaN, postgresCpuUs: null } : await pgbenchN({ meter: await cpuMeter(null) });
  const line = (label, r, credits) =>
    `${label.padEnd(14)} ${fmt(r.rps, 0).padStart(7)} req/s   p50 ${fmt(r.p50, 2).padStart(6)} ms   p99 ${fmt(r.p99, 2).padStart(6)} ms   max ${fmt(r.max, 1).padStart(6)} ms   5xx ${r.fiveXx}   credits ${credits}   statuses ${JSON.stringify(r.statuses)}`;
  console.log(`bench:http — ${USERS} users, ${CONNECTIONS} keep-alive connections, pool ${POOL}, after ${WARM_USERS} other users' collections to warm up, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  console.log(line('round 1', r1, credits1));
  console.log(line('round 2 (same day)', r2, credits2));
  const cpuLine = (label, c) =>
    `${label.padEnd(14)} CPU per request: server ${fmt(c.server, 0)} µs (kernel ${fmt(c.serverSys, 0)}) · PostgreSQL ${fmt(c.postgres, 0)} µs · load generator ${fmt(c.load, 0)} µs (2 cores = 2,000,000 µs/s)`;
  console.log(cpuLine('round 1', cpu1));
  console.log(cpuLine('round 2', cpu2));
  console.log(`core only      ${fmt(coreRps, 0)} collections/s in-process, no HTTP (${CORE_USERS} other users, ${CONNECTIONS} concurrent, pool ${POOL})`);
  console.log(`ledger         ${credits1 + credits2} daily credits for ${distinct} distinct users`);
  console.log(`pgbench -N     ${fmt(pgb.tps, 0)} tps (16 clients, 15 s, latency avg ${fmt(pgb.latencyAvgMs, 2)} ms; PostgreSQL CPU ${fmt(pgb.postgresCpuUs, 0)} µs per transaction)`);
  console.log(`ratio          round 1 req/s / pgbench tps = ${fmt(r1.rps / pgb.tps, 2)}`);
  const ok = credits1 === USERS && distinct === USERS && credits2 === 0 && r1.fiveXx === 0 && r2.fiveXx === 0;
  console.log(
    `targets        ${credits1 === USERS && distinct === USERS ? 'PASS' : 'FAIL'} all credited once · ${credits2 === 0 ? 'PASS' : 'FAIL'} round 2 zero credits · ` +
      `${r1.fiveXx + r2.fiveXx === 0 ? 'PASS' : 'FAIL'} 0 errors · ${r1.p99 < 50 ? 'PASS' : 'FAIL'} p99 < 50 ms · ` +
      `${r1.rps >= 0.5 * pgb.tps ? 'PASS' : 'FAIL'} throughput ≥ 0.5 × pgbench`,
  );
  process.exitCode = ok ? 0 : 1;
} finally {
  if (server) await server.stop();
  await drop(NAME);
}
