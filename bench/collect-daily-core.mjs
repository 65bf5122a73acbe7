#!/usr/bin/env node
// collectDaily throughput in-process, without HTTP: N fresh users collecting once each, C in
// flight. Compare with `pgbench -N -c C` on the same server. Needs `npm run build` and
// DATABASE_URL pointing at a migrated scratch database (users are created: never production).
//   DATABASE_URL=postgres://postgres@127.0.0.1:5432/scratch N=10000 C=16 node bench/collect-daily-core.mjs
import { openDb } from '../dist/src/db/connect.js';
import { upsertUsers } from '../dist/src/core/users/index.js';
import { collectDaily } from '../dist/src/core/earning/index.js';

const url = process.env.DATABASE_URL;
if (!url) throw new Error('set DATABASE_URL to a migrated scratch database');
const N = Number(process.env.N ?? 10000);
const C = Number(process.env.C ?? 16);
const run = Date.now().toString(36);
const db = await openDb({ databaseUrl: url, dataDir: '', poolMax: C });
try {
  const users = Array.from({ length: N }, (_, i) => ({ id: `bench-${run}-${i}`, email: `bench-${run}-${i}@example.org`, name: 'bench', territory: 'RE' }));
  await db.knex.transaction((trx) => upsertUsers(trx, users, new Date()));
  const now = new Date();
  const latencies = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: C }, async () => {
      while (next < N) {
        const id = users[next++].id;
        const s = performance.now();
        await collectDaily(db.knex, id, now);
        latencies.push(performance.now() - s);
      }
    }),
  );
  const secs = (performance.now() - t0) / 1000;
  latencies.sort((a, b) => a - b);
  const q = (p) => latencies[Math.min(N - 1, Math.floor(N * p))].toFixed(1);
  console.log(JSON.stringify({ users: N, concurrency: C, tps: Math.round(N / secs), p50_ms: q(0.5), p99_ms: q(0.99) }));
} finally {
  await db.close();
}
