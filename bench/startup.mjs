#!/usr/bin/env node
// Start-up benchmark (issue 13, STYLE 10 "start-up is a feature"). Spawns the built CLI (run
// `npm run build` first; `npm run bench:startup` does both) and compares it with a bare Node:
//
//   node bench/startup.mjs                  this tree: node -e 0, rayon --help, rayon points --help
//   node bench/startup.mjs --root DIR       the same against another checkout (built), e.g. an older commit
//   node bench/startup.mjs --rounds 20      more rounds (default 10)
//   node bench/startup.mjs --no-db          skip the database part
//
// Rounds are interleaved (each round runs every command once, in turn), so a busy machine slows
// them all alike; the figure is the median wall-clock time of a spawn. Target: ≤ 2× `node -e 0`.
//
// For the record it also times `rayon ledger verify` on an empty migrated PostgreSQL database
// against `psql -c 'select 1'`: a scratch database rayon_bench_startup_<pid> on
// BENCH_DATABASE_URL (else DATABASE_URL, else postgres://postgres@127.0.0.1:5432/test), created,
// migrated with the CLI under test, and dropped at the end.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const opt = (n, d) => (args.includes(n) ? args[args.indexOf(n) + 1] : d);
const root = path.resolve(opt('--root', path.join(path.dirname(fileURLToPath(import.meta.url)), '..')));
const rounds = Number(opt('--rounds', '10'));
const bin = path.join(root, 'bin', 'rayon.js');

// The CLI sees no DATABASE_URL or RAYON_* from the shell: only what a case gives it.
const baseEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'DATABASE_URL' && !k.startsWith('RAYON_')));

function run(cmd, argv, env = {}) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, argv, { env: { ...baseEnv, NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.error) throw r.error;
  return { ms, status: r.status, stderr: r.stderr };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Interleaved rounds of every case; each case must exit with its expected status. */
function measure(cases) {
  const times = cases.map(() => []);
  for (let round = 0; round < rounds; round++) {
    cases.forEach((c, i) => {
      const r = run(c.cmd, c.argv, c.env);
      if (r.status !== (c.status ?? 0)) throw new Error(`${c.label} exited ${r.status}: ${r.stderr.trim()}`);
      times[i].push(r.ms);
    });
  }
  return cases.map((c, i) => ({ label: c.label, median: median(times[i]), min: Math.min(...times[i]) }));
}

function print(title, rows, baseline) {
  process.stdout.write(`\n${title} (median of ${rounds}, interleaved)\n`);
  for (const r of rows) {
    const ratio = r.median / baseline.median;
    process.stdout.write(`  ${r.label.padEnd(34)} ${r.median.toFixed(0).padStart(6)} ms  (min ${r.min.toFixed(0).padStart(5)} ms)  ${ratio.toFixed(2)}× ${baseline.label}\n`);
  }
}

process.stdout.write(`rayon start-up — ${root} (node ${process.version})\n`);
const cli = [
  { label: 'node -e 0', cmd: process.execPath, argv: ['-e', '0'] },
  { label: 'rayon --help', cmd: process.execPath, argv: [bin, '--help'] },
  { label: 'rayon points --help', cmd: process.execPath, argv: [bin, 'points', '--help'] },
];
run(process.execPath, [bin, '--help']); // warm the file cache before the first round
const startup = measure(cli);
print('CLI start-up', startup, startup[0]);
const worst = Math.max(startup[1].median, startup[2].median) / startup[0].median;
process.stdout.write(`  target ≤ 2× node -e 0: ${worst <= 2 ? 'met' : 'NOT met'} (${worst.toFixed(2)}×)\n`);

if (!args.includes('--no-db')) {
  const base = new URL(process.env.BENCH_DATABASE_URL || process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test');
  const name = `rayon_bench_startup_${process.pid}`;
  const url = new URL(base);
  url.pathname = `/${name}`;
  const psql = (u, sql) => {
    const r = spawnSync('psql', [u.toString(), '-v', 'ON_ERROR_STOP=1', '-qAtc', sql], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`psql: ${r.stderr || r.error}`);
  };
  psql(base, `create database ${name}`);
  try {
    const migrate = run(process.execPath, [bin, 'migrate', 'latest'], { DATABASE_URL: url.toString() });
    if (migrate.status !== 0) throw new Error(`migrate latest: ${migrate.stderr}`);
    const db = measure([
      { label: "psql -c 'select 1'", cmd: 'psql', argv: [url.toString(), '-qAtc', 'select 1'] },
      { label: 'rayon ledger verify (empty db)', cmd: process.execPath, argv: [bin, 'ledger', 'verify'], env: { DATABASE_URL: url.toString() } },
    ]);
    print('Database round trip, for the record', db, db[0]);
  } finally {
    psql(base, `drop database if exists ${name} with (force)`);
  }
}
