import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTestDb, describePostgresOnly, onPostgres, type TestDb } from '../helpers/db.js';
import { buildKpiFixture, FIXTURE_AS_OF, FIXTURE_NOW, FIXTURE_PERIOD } from '../helpers/kpi-fixture.js';
import { assertBuilt, rayon } from '../helpers/rayon-cli.js';

/** `rayon kpi report` end to end: the built binary, its output formats and files, exit codes. */
vi.setConfig({ testTimeout: 300_000 });

let tmp: string;
beforeAll(() => {
  assertBuilt();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rayon-kpi-cli-'));
});
afterAll(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe('kpi report on an empty database', () => {
  let t: TestDb | undefined;
  let env: Record<string, string>;
  beforeAll(async () => {
    if (onPostgres()) {
      t = await createTestDb();
      env = { DATABASE_URL: t.url as string };
    } else {
      env = { RAYON_DATA_DIR: path.join(tmp, 'embedded') };
      expect((await rayon(['migrate', 'latest'], env)).code).toBe(0);
    }
  });
  afterAll(async () => {
    await t?.destroy();
  });

  it('says "no data" for every figure it cannot compute, n/a for external ones, and exits 0', async () => {
    const r = await rayon(['kpi', 'report'], env);
    expect(r.code).toBe(0);
    for (const name of ['activation rate', 'daily collection rate', 'average streak length', 'points usage rate', 'average redemption delay', 'retention', 'frequency', 'response time', 'error rate', 'cost per user']) {
      expect(r.stdout).toMatch(new RegExp(`│ ${name}\\s+│ no data`));
    }
    for (const name of ['conversion', 'availability', 'ROI, share of revenue']) expect(r.stdout).toMatch(new RegExp(`│ ${name}\\s+│ n/a \\(external data\\)`));
    expect(r.stdout).toMatch(/│ liability\s+│ no data/);
    expect(r.stdout).not.toMatch(/│ 0(\.00)?%/);
    expect(r.stderr).toContain('0 target(s) met, 0 not met, 13 n/a');
    const j = await rayon(['kpi', 'report', '--json'], env);
    expect(j.code).toBe(0);
    const report = JSON.parse(j.stdout);
    expect(report.figures.filter((f: { value: unknown }) => f.value !== null)).toEqual([]);
    expect(report.manifest.high_water_mark).toEqual({ last_transaction_id: null, last_transaction_at: null, rows: 0, sum: 0 });
  });

  it('refuses bad parameters with exit 2, naming them', async () => {
    const bad = await rayon(['kpi', 'report', '--from', '2026-02-30'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--from must be a date');
    const both = await rayon(['kpi', 'report', '--json', '--format', 'html'], env);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('--format');
    const asOf = await rayon(['kpi', 'report', '--as-of', 'yesterday'], env);
    expect(asOf.code).toBe(2);
    expect(asOf.stderr).toContain('--as-of');
  });
});

describePostgresOnly('kpi report on the fixture', 'the CLI and the test share the database: needs PostgreSQL', () => {
  let t: TestDb;
  let env: Record<string, string>;
  const args = ['kpi', 'report', '--from', FIXTURE_PERIOD.from, '--to', FIXTURE_PERIOD.to, '--as-of', FIXTURE_AS_OF.toISOString()];
  beforeAll(async () => {
    t = await createTestDb();
    await buildKpiFixture(t.db.knex);
    env = { DATABASE_URL: t.url as string, RAYON_NOW: FIXTURE_NOW.toISOString() };
  });
  afterAll(async () => {
    await t?.destroy();
  });

  it('table: the dashboard with its marks, liability and the manifest on stdout', async () => {
    const r = await rayon(args, env);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/│ activation rate\s+│ 75\.00%\s+│\s+│ 70%\s+│ met/);
    expect(r.stdout).toMatch(/│ retention\s+│ 50\.00%\s+│ -50\.00 pts \(baseline 100\.00%\)\s+│ \+10 pts vs baseline\s+│ not met/);
    expect(r.stdout).toMatch(/│ cost per user\s+│ 0\.13 €/);
    expect(r.stdout).toMatch(/│ liability\s+│ 197 pts \(1\.97 €\)/);
    expect(r.stdout).toContain('24 rows, sum 197');
    process.stderr.write(`${r.stdout}\n`);
  });

  it('csv --excel --out: a French spreadsheet file; an existing file is replaced only with --force', async () => {
    const file = path.join(tmp, 'kpi.csv');
    const r = await rayon([...args, '--excel', '--out', file], env);
    expect(r.code).toBe(0);
    const text = fs.readFileSync(file, 'utf8');
    expect(text.startsWith('\ufeffsection;id;name;value;')).toBe(true);
    expect(text).toContain('kpi;cost_per_user;cost per user;0,13;');
    const again = await rayon([...args, '--excel', '--out', file], env);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('--force');
    const forced = await rayon([...args, '--format', 'html', '--out', file, '--force'], env);
    expect(forced.code).toBe(0);
    expect(fs.readFileSync(file, 'utf8')).toMatch(/^<!doctype html>/);
  });

  it('json: identical for two runs with the same parameters and as-of', async () => {
    const a = await rayon([...args, '--json'], env);
    const b = await rayon([...args, '--format', 'json'], env);
    expect(a.code).toBe(0);
    expect(b.stdout).toBe(a.stdout);
    const report = JSON.parse(a.stdout);
    expect(report.figures.find((f: { id: string }) => f.id === 'daily_collection_rate')).toMatchObject({ unit: 'percent', target_text: '25%', mark: 'met', definition: expect.stringContaining("mean over the period's days") });
  });

  it('RAYON_REPORT_DATABASE_URL: the report reads that database, not DATABASE_URL', async () => {
    const r = await rayon([...args, '--json'], { ...env, DATABASE_URL: 'postgres://nobody@127.0.0.1:1/nowhere', RAYON_REPORT_DATABASE_URL: t.url as string });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).liability.points).toBe(197);
    const bad = await rayon([...args], { ...env, RAYON_REPORT_DATABASE_URL: 'mysql://x' });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('RAYON_REPORT_DATABASE_URL');
  });
});
