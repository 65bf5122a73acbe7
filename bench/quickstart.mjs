#!/usr/bin/env node
// Quickstart benchmark (issue 15): `rayon quickstart` end to end on a fresh data folder, embedded
// database, no server — migrations, the 2,000-user × 60-day demo, the KPI dashboard and its HTML
// report — as a newcomer runs it after `npm ci`. Target: under 60 s on a 2-core machine.
//
//   node bench/quickstart.mjs            (npm run bench:quickstart builds first)
//
// Printed beside it, measured in the same run: the anchor `rayon quickstart --no-demo` on another
// fresh folder (starting the embedded database and migrating it, the fixed cost every first run
// pays), and the second run on the first folder (the data found, the dashboard shown again).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(root, 'bin', 'rayon.js');
const baseEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'DATABASE_URL' && !k.startsWith('RAYON_')));

function quickstart(dataDir, extra = []) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync('node', [bin, 'quickstart', ...extra], { env: { ...baseEnv, NO_COLOR: '1', RAYON_DATA_DIR: dataDir }, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) {
    process.stderr.write(r.stderr);
    throw new Error(`rayon quickstart ${extra.join(' ')} exited ${r.status}`);
  }
  return { s, stdout: r.stdout, stderr: r.stderr };
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rayon-bench-quickstart-'));
try {
  const anchor = quickstart(path.join(tmp, 'anchor'), ['--no-demo']);
  const first = quickstart(path.join(tmp, 'data'));
  const second = quickstart(path.join(tmp, 'data'));
  const demo = /Demo written: .*/.exec(first.stderr)?.[0] ?? '(no demo line)';
  console.log(`rayon quickstart, fresh data folder (2,000 users × 60 days): ${first.s.toFixed(1)} s  (target < 60 s: ${first.s < 60 ? 'met' : 'NOT met'})`);
  console.log(`  ${demo}`);
  console.log(`anchor, rayon quickstart --no-demo on a fresh folder (embedded start + migrations): ${anchor.s.toFixed(1)} s  (ratio ${(first.s / anchor.s).toFixed(1)}×)`);
  console.log(`second run on the same folder (data found, dashboard again): ${second.s.toFixed(1)} s`);
  console.log(`load average at the end: ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
