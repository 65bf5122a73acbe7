#!/usr/bin/env node
// Catalog browsing benchmark (issue 5): the app's catalog page with territory + category filters
// on a 200,000-reward catalog, over 32 keep-alive connections against `rayon serve`.
//
//   npm run bench:catalog-browse                    (builds first)
//   node bench/catalog-browse.mjs --rewards 200000 --requests 20000 --warm-up 5000 --connections 32
//
// Scratch database rayon_bench_catalog_browse on BENCH_DATABASE_URL (else DATABASE_URL, else
// postgres://postgres@127.0.0.1:5432/test), dropped at the end. The catalog is generated in SQL
// (the CSV import has its own benchmark, bench/catalog.mjs): 20 categories, 200 partners, 10%
// of rewards offered everywhere, the others in about a quarter of the territories, some
// inactive, out of their window or sold out, so the filters have real work to do.
import os from 'node:os';
import { SignJWT } from 'jose';
import { SECRET, cpuMeter, dist, drop, fmt, load, recreate, startServe } from './http-lib.mjs';

const args = process.argv.slice(2);
const opt = (n, d) => (args.includes(n) ? args[args.indexOf(n) + 1] : d);
const REWARDS = Number(opt('--rewards', '200000'));
const REQUESTS = Number(opt('--requests', '20000'));
// The server's first few thousand pages run slower while V8 optimises its code (measured: about
// 600-1,000 pages/s over the first second after 1,000 warm-up pages, then ~1,700): the figures are
// for a server that has been up a little while. The measured run lasts several times the catalog
// totals' time to live, so recounting them is part of it.
const WARM_UP = Number(opt('--warm-up', '5000'));
const CONNECTIONS = Number(opt('--connections', '32'));
const NOW = '2026-11-25T08:00:00Z';
const NAME = 'rayon_bench_catalog_browse';

const { openDb } = await import(dist('db/connect.js'));
const { migrateLatest } = await import(dist('db/migrate.js'));

const url = await recreate(NAME);
let server;
try {
  const db = await openDb({ databaseUrl: url, dataDir: '', statementTimeoutMs: 0 });
  await migrateLatest(db);
  const k = db.knex;
  await k.raw(`insert into categories (code, name) select 'cat' || g, 'Category ' || g from generate_series(1, 15) g on conflict do nothing`);
  await k.raw(`insert into partners (code, name, territory_code, commission_rate) select 'P' || g, 'Partner ' || g, 'RE', 0.1 from generate_series(1, 200) g`);
  const t0 = performance.now();
  await k.raw(
    `insert into rewards (sku, name, description, cost, category_code, partner_id, all_territories, available_from, available_to,
                          stock, units_taken, fulfilment, active, territories)
     select 'SKU-' || g, 'Reward ' || g, 'Generated reward number ' || g, 100 + (g * 37) % 5000,
            (select array_agg(code order by code) from categories)[1 + g % 20],
            (select min(id) from partners) + g % 200,
            g % 10 = 0,
            date '2026-01-01' + (g % 360) - 30, date '2026-01-01' + (g % 360) + 30 + (g * 13) % 365,
            case when g % 3 = 0 then null else 50 end, case when g % 40 = 0 then 50 else 0 end,
            case when g % 2 = 0 then 'instant' else 'manual' end, g % 17 <> 0,
            case when g % 10 = 0 then '{}'::text[] else coalesce((select array_agg(t.code order by t.code) from territories t
                                                                  where abs(hashtext('SKU-' || g || t.code)) % 4 = 0), '{}') end
       from generate_series(1, ?) g`,
    [REWARDS],
  );
  // What autovacuum does shortly after a bulk load (and the importer does after a large import):
  // statistics plus the visibility map that index-only scans rely on.
  await k.raw('vacuum (analyze)');
  const territories = (await k('territories').select('code')).map((r) => r.code);
  const categories = (await k('categories').select('code')).map((r) => r.code);
  process.stderr.write(`${REWARDS} rewards generated in ${fmt((performance.now() - t0) / 1000)} s; starting rayon serve…\n`);

  const token = await new SignJWT({ role: 'service' }).setProtectedHeader({ alg: 'HS256' }).setSubject('bench').setExpirationTime(Math.floor(Date.now() / 1000) + 3600).sign(new TextEncoder().encode(SECRET));
  // Deterministic mix: every territory x category, pages 1-3, limit 20.
  const requests = Array.from({ length: REQUESTS }, (_, i) => ({
    method: 'GET',
    path: `/api/rewards/catalog?territory_id=${territories[i % territories.length]}&category_id=${categories[(i * 7) % categories.length]}&page=${1 + (i % 3)}&limit=20`,
    token,
  }));
  server = await startServe(url, { RAYON_NOW: NOW });
  await load(server.url, requests.slice(0, WARM_UP), CONNECTIONS); // warm-up: JIT, pool, buffer cache
  const meter = await cpuMeter(server.pid);
  const mark = meter.start();
  const r = await load(server.url, requests, CONNECTIONS);
  const cpu = meter.perRequest(mark, requests.length);
  const sample = await (await fetch(`${server.url}/api/rewards/catalog?territory_id=RE&category_id=food`, { headers: { authorization: `Bearer ${token}` } })).json();
  await server.stop();
  server = undefined;
  await db.close();
  console.log(`bench:catalog-browse — ${REWARDS} rewards, ${REQUESTS} requests after ${WARM_UP} to warm up, ${CONNECTIONS} keep-alive connections, territory + category filters, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  console.log(`               ${fmt(r.rps, 0)} req/s   p50 ${fmt(r.p50, 2)} ms   p99 ${fmt(r.p99, 2)} ms   max ${fmt(r.max, 1)} ms   5xx ${r.fiveXx}   statuses ${JSON.stringify(r.statuses)}`);
  console.log(`CPU            per request: server ${fmt(cpu.server, 0)} µs · PostgreSQL ${fmt(cpu.postgres, 0)} µs · load generator ${fmt(cpu.load, 0)} µs`);
  console.log(`sample         RE + food: ${sample.total} rewards available now, ${sample.items?.length} on page 1`);
  console.log(`targets        ${r.p99 < 50 ? 'PASS' : 'FAIL'} p99 < 50 ms · ${r.fiveXx === 0 ? 'PASS' : 'FAIL'} 0 errors`);
  process.exitCode = r.p99 < 50 && r.fiveXx === 0 ? 0 : 1;
} finally {
  if (server) await server.stop();
  if (!process.env.RAYON_BENCH_KEEP) await drop(NAME);
}
