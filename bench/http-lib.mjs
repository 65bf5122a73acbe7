// Shared pieces of the HTTP benchmarks (bench/http.mjs, bench/catalog-browse.mjs): scratch
// databases, a `rayon serve` child process, and a keep-alive load generator with latencies.
import { spawn, spawnSync } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

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
 */
export async function load(baseUrl, requests, connections) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections, maxFreeSockets: connections });
  const latencies = new Float64Array(requests.length);
  const statuses = new Map();
  let next = 0;
  const one = (r) =>
    new Promise((resolve, reject) => {
      const data = r.body === undefined ? undefined : JSON.stringify(r.body);
      const headers = { authorization: `Bearer ${r.token}` };
      if (data !== undefined) {
        headers['content-type'] = 'application/json';
        headers['content-length'] = Buffer.byteLength(data);
      }
      const req = http.request(baseUrl + r.path, { method: r.method, agent, headers }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode));
      });
      req.on('error', reject);
      req.end(data);
    });
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
  agent.destroy();
  const sorted = Array.from(latencies).sort((a, b) => a - b);
  const pct = (p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
  const fiveXx = [...statuses].filter(([s]) => typeof s !== 'number' || s >= 500).reduce((n, [, c]) => n + c, 0);
  return { wallMs, rps: requests.length / (wallMs / 1000), p50: pct(50), p99: pct(99), max: sorted[sorted.length - 1], statuses: Object.fromEntries(statuses), fiveXx };
}

/** pgbench -N (16 clients, 15 s) on its own scratch database: the machine's small-write limit. */
export async function pgbenchN({ clients = 16, seconds = 15 } = {}) {
  const name = 'rayon_bench_pgbench';
  const url = await recreate(name);
  try {
    const init = spawnSync('pgbench', ['-i', '-q', '-s', '10', url], { encoding: 'utf8' });
    if (init.status !== 0) throw new Error(`pgbench -i failed: ${init.stderr}`);
    const run = spawnSync('pgbench', ['-N', '-c', String(clients), '-j', '2', '-T', String(seconds), url], { encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`pgbench failed: ${run.stderr}`);
    const tps = Number(/tps = ([\d.]+) \(without initial connection time\)/.exec(run.stdout)?.[1]);
    const lat = Number(/latency average = ([\d.]+) ms/.exec(run.stdout)?.[1]);
    return { tps, latencyAvgMs: lat };
  } finally {
    await drop(name);
  }
}

export const fmt = (n, d = 1) => (typeof n === 'number' ? n.toFixed(d) : String(n));
