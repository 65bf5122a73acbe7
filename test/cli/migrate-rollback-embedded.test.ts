import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { assertBuilt, rayon } from '../helpers/rayon-cli.js';

/**
 * The rollback guard on the embedded database (no DATABASE_URL): its one connection runs the
 * probe transaction, the row counts and the real rollback one after the other.
 */
vi.setConfig({ testTimeout: 300_000 });

let dataDir: string;
let env: Record<string, string>;

beforeAll(() => {
  assertBuilt();
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rayon-rollback-'));
  env = { RAYON_DATA_DIR: dataDir, RAYON_NOW: '2026-11-25T08:00:00Z' };
});
afterAll(() => {
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

/** The migrations of this checkout, in order: the counts below follow the folder, not a literal. */
const MIGRATIONS = fs.readdirSync(new URL('../../migrations/', import.meta.url)).filter((f) => /\.ts$/.test(f) && !f.endsWith('.d.ts')).map((f) => f.replace(/\.ts$/, '')).sort();
const N = MIGRATIONS.length;

const statusLines = (stdout: string) => stdout.split('\n').filter((l) => /│ (applied|pending)/.test(l)).map((l) => l.replace(/[│\s]+/g, ' ').trim());

describe('rayon migrate rollback on the embedded database', () => {
  it('a user with points: `rollback --all --yes` is refused (exit 3) naming tables and counts, nothing is rolled back; `rollback --yes` undoes one migration', async () => {
    const latest = await rayon(['migrate', 'latest'], env, { timeout: 200_000 });
    expect(latest.code).toBe(0);
    const add = await rayon(['user', 'add', '--id', 'emb-0001', '--email', 'emb@example.org', '--name', 'Emb One', '--territory', 'RE'], env);
    const points = await rayon(['points', 'adjust', 'emb-0001', '120', '--reason', 'welcome'], env);
    expect([add.code, points.code]).toEqual([0, 0]);

    const refused = await rayon(['migrate', 'rollback', '--all', '--yes'], env);
    expect([refused.code, refused.stdout]).toEqual([3, '']);
    expect(refused.stderr).toMatch(new RegExp(`^error: rolling back ${N} migrations .* would drop or empty \\d+ table\\(s\\) holding rows: nothing was rolled back\\. .* \\[INVALID_STATE\\]\\n`));
    expect(refused.stderr).toContain('\n  users: 1 row, dropped by 20261125000001_foundation\n');
    expect(refused.stderr).toContain('\n  points_transactions: 1 row, dropped by 20261125000001_foundation\n');
    expect(refused.stderr).toContain('\n  points_balance: 1 row, dropped by 20261125000001_foundation\n');
    const noName = await rayon(['migrate', 'rollback', '--all', '--drop-data', '--yes'], env);
    expect(noName.code).toBe(2);
    expect(noName.stderr).toContain(`pass --confirm-database ${JSON.stringify(dataDir)}`);

    const after = await rayon(['migrate', 'status'], env);
    const applied = statusLines(after.stdout);
    expect(applied).toEqual(MIGRATIONS.map((m) => `${m} applied`));
    expect(applied.every((l) => l.endsWith(' applied'))).toBe(true);
    const show = await rayon(['--json', 'user', 'show', 'emb-0001'], env);
    expect(show.code).toBe(0);
    expect(show.stdout).toMatch(/"balance": 120/);

    // The fraud migration drops the settings it seeded (rows): it and the migrations after it go
    // with --drop-data and the confirmation.
    const S = MIGRATIONS.indexOf('20261203000100_fraud');
    expect(S).toBeGreaterThan(0);
    const seeded = await rayon(['migrate', 'rollback', '--step', String(N - S), '--drop-data', '--confirm-database', dataDir], env);
    expect(seeded.code).toBe(0);
    expect(seeded.stderr).toContain('\n  fraud_settings: 11 rows, dropped by 20261203000100_fraud\n');
    expect(seeded.stderr).toMatch(new RegExp(`✔ Rolled back ${N - S} migration\\(s\\): ${MIGRATIONS.slice(S).reverse().join(', ')} \\(rows dropped from fraud_settings\\)\\n$`));
    const one = await rayon(['migrate', 'rollback', '--yes'], env);
    expect([one.code, one.stderr]).toEqual([0, `✔ Rolled back 1 migration(s): ${MIGRATIONS[S - 1]}\n`]);
    const status = await rayon(['migrate', 'status'], env);
    expect(statusLines(status.stdout)).toEqual([...applied.slice(0, S - 1), ...MIGRATIONS.slice(S - 1).map((m) => `${m} pending`)]);
  });
});
