import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { assertBuilt, lines, rayon, ROOT } from '../helpers/rayon-cli.js';

/**
 * The embedded database (PGlite) with no DATABASE_URL at all: what a newcomer gets from
 * `npx rayon quickstart`. One data folder for the whole file (creating it takes seconds).
 */
// PGlite starts in seconds, much more on a loaded machine: generous timeouts.
vi.setConfig({ testTimeout: 300_000 });

let dataDir: string;
let env: Record<string, string>;
const holders: ResultPromise[] = [];

beforeAll(() => {
  assertBuilt();
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rayon-embedded-'));
  env = { RAYON_DATA_DIR: dataDir, RAYON_NOW: '2026-11-25T08:00:00Z' };
});
afterAll(() => {
  for (const h of holders) if (h.pid && h.exitCode === null) h.kill('SIGKILL');
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('rayon CLI on the embedded database (no DATABASE_URL)', () => {
  it('quickstart creates the database, applies the migrations, writes a demo and opens on the dashboard', async () => {
    // A smaller demo than the default 2,000 × 60 (timed by bench:quickstart): the same path, less CPU.
    const r = await rayon(['quickstart', '--users', '300', '--days', '30'], env, { timeout: 240_000 });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`embedded database in ${dataDir}`);
    expect(r.stderr).toMatch(/Applied \d+ migration\(s\)/);
    expect(r.stderr).toMatch(/Demo written: 300 users, \d+ ledger rows/);
    // The dashboard: every KPI of the spec's table with its mark, then the programme's figures.
    for (const kpi of ['activation rate', 'daily collection rate', 'average streak length', 'points usage rate', 'cost per user', 'conversion']) expect(r.stdout).toContain(kpi);
    expect(r.stdout).toMatch(/activation rate\s*│ \d+\.\d\d%/);
    expect(r.stdout).toMatch(/liability\s*│ \d+ pts/);
    // The HTML report beside the data folder, and an interesting demo user to look at next.
    const html = path.join(dataDir, 'kpi-report.html');
    expect(r.stderr).toContain(html);
    expect(fs.readFileSync(html, 'utf8')).toMatch(/^<!doctype html>/i);
    const showcase = /npx rayon user show (\S+)/.exec(r.stdout)?.[1];
    expect(showcase).toMatch(/^d1-[a-z]+-\d+$/);
    expect(fs.existsSync(path.join(dataDir, 'pg'))).toBe(true);
    expect(fs.existsSync(path.join(dataDir, 'rayon.lock'))).toBe(false); // released on exit

    // A second run finds the data: nothing written, the same dashboard and the same user to try.
    const again = await rayon(['quickstart'], env, { timeout: 120_000 });
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(/already holds 300 user\(s\): nothing written \(demo of seed 1, 300 users × 30 days\)/);
    expect(again.stderr).not.toMatch(/Demo written/);
    expect(again.stdout).toContain(`npx rayon user show ${showcase}`);
    expect(again.stdout.match(/activation rate\s*│ [^│]+/)?.[0]).toBe(r.stdout.match(/activation rate\s*│ [^│]+/)?.[0]);
  });

  it('migrate status, user import, points adjust and ledger verify all work', async () => {
    const st = await rayon(['migrate', 'status', '--check'], env);
    expect(st.code).toBe(0);
    expect(st.stdout).toMatch(/20261125000001_foundation\s*│ applied/);

    const csv = path.join(dataDir, 'emb-users.csv');
    fs.writeFileSync(csv, 'id,email,name,territory\nemb-0001,emb1@example.org,Emb One,RE\nemb-0002,EMB2@example.org,Emb Two,NC\n');
    const imp = await rayon(['user', 'import', csv, '--yes'], env);
    expect(imp.code).toBe(0);
    expect(imp.stderr).toMatch(/2 added, 0 updated, 0 unchanged/);

    const adj = await rayon(['--json', 'points', 'adjust', 'emb-0001', '120', '--reason', 'welcome'], env);
    expect(adj.code).toBe(0);
    expect(JSON.parse(adj.stdout)).toMatchObject({ user_id: 'emb-0001', applied: 120, balance: 120 });
    const neg = await rayon(['points', 'adjust', 'emb-0001', '-20', '--reason', 'duplicate'], env);
    expect(neg.code).toBe(0);
    expect(neg.stdout).toMatch(/-20 → balance 100\n$/);

    const v = await rayon(['ledger', 'verify'], env);
    expect(v.code).toBe(0);
    expect(v.stderr).toMatch(/Ledger verified: \d+ invariants hold over \d+ user\(s\)/);
  });

  it('a second process on the same data folder exits 1 naming the holder PID and DATABASE_URL', async () => {
    const connect = path.join(ROOT, 'dist/src/db/connect.js');
    const script = `
      const { openDb } = await import(${JSON.stringify(new URL(`file://${connect}`).href)});
      const db = await openDb({ dataDir: ${JSON.stringify(dataDir)} });
      process.stdout.write('ready\\n');
      setInterval(() => {}, 1000);
    `;
    const holder = execa('node', ['--input-type=module', '-e', script], { stdin: 'ignore', reject: false, buffer: false });
    holders.push(holder);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the holder did not open the database in time')), 60_000);
      holder.stdout!.on('data', (d: Buffer) => {
        if (d.toString().includes('ready')) {
          clearTimeout(timer);
          resolve();
        }
      });
      holder.on('exit', () => reject(new Error('the holder exited early')));
    });
    expect(fs.readFileSync(path.join(dataDir, 'rayon.lock'), 'utf8')).toBe(String(holder.pid));

    const second = await rayon(['ledger', 'verify'], env);
    expect(second.code).toBe(1);
    expect(second.stdout).toBe('');
    expect(lines(second.stderr)).toHaveLength(1);
    expect(second.stderr).toContain(`in use by process ${holder.pid}`);
    expect(second.stderr).toContain('DATABASE_URL');

    // The holder dies without cleaning up: its stale lock does not block the next run.
    holder.kill('SIGKILL');
    await holder;
    expect(fs.existsSync(path.join(dataDir, 'rayon.lock'))).toBe(true);
    const after = await rayon(['ledger', 'verify'], env);
    expect(after.code).toBe(0);
  });
});
