// Shared pieces of the HTTP benchmarks (bench/http.mjs, bench/catalog-browse.mjs): scratch
// databases, a `rayon serve` child process, and a keep-alive load generator with latencies.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { Pool } from 'undici';

const here = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.join(here, '..');
export const dist = (p) => path.join(ROOT, 'dist', 'src', p);
export const BASE_URL = process.env.BENCH_DATABASE_URL || process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
export const SECRET = 'bench-secret-for-rayon-http-mode-0123456789';

export function dbUrl(name) {
  const u = new URL(BASE_URL);
  u.pathname = `/${name}`;
  return u.toString();
}

export async function admin(sql) {
  const c = new pg.Client({ connectionString: BASE_URL });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

export async function recreate(name) {
  if (!/^rayon_bench_[a-z0-9_]+$/.test(name)) throw new Error(`scratch databases are rayon_bench_*: ${name}`);
  await admin(`drop database if exists ${name} with (force)`);
  await admin(`create database ${name}`);
  return dbUrl(name);
}

export const drop = (name) => admin(`drop database if exists ${name} with (force)`);

/** Start the built CLI's `rayon serve` on a free port; resolves once it listens. */
export function startServe(databaseUrl, env = {}) {
  // BENCH_SERVE_NODE_ARGS passes node flags to the server (e.g. --cpu-prof to profile it).
  const nodeArgs = (process.env.BENCH_SERVE_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const proc = spawn(process.execPath, [...nodeArgs, path.join(ROOT, 'bin', 'rayon.js'), 'serve', '--port', '0'], {
    env: { ...process.env, DATABASE_URL: databaseUrl, RAYON_JWT_SECRET: SECRET, RAYON_RATE_LIMITS: 'off', RAYON_LOG_LEVEL: 'error', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`rayon serve did not start: ${err}`)), 20_000);
    proc.stderr.on('data', (d) => {
      err += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(err);
      if (m && timer) {
        clearTimeout(timer);
        resolve({
          url: m[1],
          pid: proc.pid,
          stop: () =>
            new Promise((res) => {
              proc.once('exit', (code) => res(code));
              proc.kill('SIGTERM');
            }),
        });
      }
    });
    proc.once('exit', (code) => reject(new Error(`rayon serve exited ${code}: ${err}`)));
  });
}

/**
 * Send `requests` (objects {method, path, token, body}) over `connections` keep-alive sockets,
 * one in flight per socket. Returns wall time, statuses and sorted latencies (ms).
 * The client is undici's Pool (the HTTP client behind Node's fetch): the load generator shares
 * the machine's two cores with the server and PostgreSQL, and it needs about half the CPU per
 * request of node:http's client.
 */
export async function load(baseUrl, requests, connections) {
  const pool = new Pool(baseUrl, { connections, pipelining: 1, keepAliveTimeout: 60_000 });
  const latencies = new Float64Array(requests.length);
  const statuses = new Map();
  let next = 0;
  const one = async (r) => {
    const headers = { authorization: `Bearer ${r.token}` };
    let body;
    if (r.body !== undefined) {
      body = JSON.stringify(r.body);
      headers['content-type'] = 'application/json';
    }
    const res = await pool.request({ method: r.method, path: r.path, headers, body });
    await res.body.dump();
    return res.statusCode;
  };
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: connections }, async () => {
      for (let i = next++; i < requests.length; i = next++) {
        const s = performance.now();
        let status;
        try {
          status = await one(requests[i]);
        } catch {
          status = 'socket error';
        }
        latencies[i] = performance.now() - s;
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      }
    }),
  );
  const wallMs = performance.now() - t0;
  await pool.close();
  const sorted = Array.from(latencies).sort((a, b) => a - b);
  const pct = (p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
  const fiveXx = [...statuses].filter(([s]) => typeof s !== 'number' || s >= 500).reduce((n, [, c]) => n + c, 0);
  return { wallMs, rps: requests.length / (wallMs / 1000), p50: pct(50), p99: pct(99), max: sorted[sorted.length - 1], statuses: Object.fromEntries(statuses), fiveXx };
}

/** pgbench -N (16 clients, 15 s) on its own scratch database: the machine's small-write limit. */
export async function pgbenchN({ clients = 16, seconds = 15, meter = null } = {}) {
  const name = 'rayon_bench_pgbench';
  const url = await recreate(name);
  try {
    const init = spawnSync('pgbench', ['-i', '-q', '-s', '10', url], { encoding: 'utf8' });
    if (init.status !== 0) throw new Error(`pgbench -i failed: ${init.stderr}`);
    const mark = meter?.start();
    const run = spawnSync('pgbench', ['-N', '-c', String(clients), '-j', '2', '-T', String(seconds), url], { encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`pgbench failed: ${run.stderr}`);
    const tps = Number(/tps = ([\d.]+) \(without initial connection time\)/.exec(run.stdout)?.[1]);
    const lat = Number(/latency average = ([\d.]+) ms/.exec(run.stdout)?.[1]);
    const done = Number(/number of transactions actually processed: (\d+)/.exec(run.stdout)?.[1]);
    const cpu = meter ? meter.perRequest(mark, done) : null;
    return { tps, latencyAvgMs: lat, postgresCpuUs: cpu?.postgres ?? null };
  } finally {
    await drop(name);
  }
}

/**
 * CPU seconds used so far by a process (Linux /proc), by PostgreSQL (its postmaster, the
 * backends it has reaped and those alive), and by this process: where each request's CPU goes.
 * Null where it cannot be read (another OS, a remote server).
 */
export async function cpuMeter(serverPid) {
  const tick = 100; // USER_HZ on Linux
  const stat = (pid) => {
    try {
      const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
      return f; // f[11] utime, f[12] stime, f[13] cutime, f[14] cstime (fields 14-17 of stat)
    } catch {
      return null;
    }
  };
  let postmaster = null;
  try {
    const c = new pg.Client({ connectionString: BASE_URL });
    await c.connect();
    const dir = (await c.query('show data_directory')).rows[0].data_directory;
    await c.end();
    postmaster = Number(fs.readFileSync(path.join(dir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  } catch {
    postmaster = null;
  }
  const pgCpu = () => {
    if (!postmaster) return null;
    const f = stat(postmaster);
    if (!f) return null;
    let t = Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
    for (const d of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(d)) continue;
      const g = stat(d);
      if (g && Number(g[1]) === postmaster) t += Number(g[11]) + Number(g[12]);
    }
    return t / tick;
  };
  const procCpu = (pid) => {
    const f = stat(pid);
    return f ? (Number(f[11]) + Number(f[12])) / tick : null;
  };
  const self = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
  };
  const procSys = (pid) => {
    const f = stat(pid);
    return f ? Number(f[12]) / tick : null;
  };
  const take = () => ({ server: procCpu(serverPid), serverSys: procSys(serverPid), postgres: pgCpu(), load: self() });
  return {
    start: take,
    /** Microseconds of CPU per request since `from`, per party. */
    perRequest(from, requests) {
      const to = take();
      const us = (k) => (from[k] === null || to[k] === null ? null : ((to[k] - from[k]) * 1e6) / requests);
      return { server: us('server'), serverSys: us('serverSys'), postgres: us('postgres'), load: us('load') };
    },
  };
}

export const fmt = (n, d = 1) => (typeof n === 'number' ? n.toFixed(d) : String(n));
