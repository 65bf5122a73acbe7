import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { assertBuilt, rayon } from '../helpers/rayon-cli.js';

/** `rayon demo` end to end on the embedded database: the built binary, as the quickstart runs it. */
vi.setConfig({ testTimeout: 300_000, hookTimeout: 300_000 });

let dir: string;
let env: Record<string, string>;
beforeAll(async () => {
  assertBuilt();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rayon-demo-cli-'));
  env = { RAYON_DATA_DIR: dir, RAYON_NOW: '2026-12-03T10:00:00Z' };
  const m = await rayon(['migrate', 'latest'], env);
  expect(m.code).toBe(0);
});
afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('rayon demo (embedded database)', () => {
  it('bad options exit 2 naming the option, before touching the database', async () => {
    const runs = await Promise.all([
      rayon(['demo', '--users', 'many'], env),
      rayon(['demo', '--days', '0'], env),
      rayon(['demo', '--seed', '-1'], env),
    ]);
    expect(runs.map((r) => r.code)).toEqual([2, 2, 2]);
    expect(runs.map((r) => r.stdout)).toEqual(['', '', '']);
    expect(runs[0].stderr).toMatch(/--users must be a whole number, got "many"/);
    expect(runs[1].stderr).toMatch(/--days must not be zero/);
    expect(runs[2].stderr).toMatch(/--seed must be at least 0, got -1/);
  });

  it('writes the demo (data on stdout with --json, nothing else there), and the ledger verifies', async () => {
    const r = await rayon(['demo', '--users', '150', '--days', '21', '--seed', '3', '--json'], env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ seed: 3, users: 150, days: 21, method: 'copy-blob', deferred_indexes: true });
    expect(out.territories).toEqual([{ code: 'RE', from: '2026-11-12', to: '2026-12-02' }]);
    expect(out.rows.users).toBe(150);
    expect(out.events).toBe(out.rows.transactions + out.rows.refused);
    expect(Object.keys(out.fraud_patterns)).toContain('lockstep_farm');

    const v = await rayon(['ledger', 'verify', '--json'], env);
    expect(v.code).toBe(0);
    const verified = JSON.parse(v.stdout);
    expect(verified.ok).toBe(true);
    expect(verified.checks.map((c: { problems: number }) => c.problems)).toEqual(verified.checks.map(() => 0));
  });

  it('refuses to run again on a database with users (exit 3, saying what to do)', async () => {
    const r = await rayon(['demo', '--users', '150', '--days', '21', '--seed', '4'], env);
    expect(r.code).toBe(3);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/already holds 150 user\(s\): rerun with --yes to add the demo beside them, or point RAYON_DATA_DIR or DATABASE_URL at an empty database \[INVALID_STATE\]/);
  });
});
