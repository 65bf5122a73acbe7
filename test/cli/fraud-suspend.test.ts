import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { createTestDb, describeMultiConnection, type TestDb } from '../helpers/db.js';
import { assertBuilt, rayon } from '../helpers/rayon-cli.js';
import { makeUsers } from '../helpers/fixtures.js';
import { makeReward } from '../helpers/catalog-setup.js';
import { give } from '../helpers/ledger-setup.js';
import { publicRowCounts } from '../helpers/fraud-seed.js';
import { upsertCases } from '../../src/core/fraud/index.js';
import { redeem } from '../../src/core/redemption/index.js';

/**
 * `rayon fraud suspend | lift | list` and `rayon redemption approve --force`, end to end: the
 * built CLI against this file's PostgreSQL database. La Réunion is UTC+4.
 */
vi.setConfig({ testTimeout: 300_000, hookTimeout: 300_000 });

const SUSPEND_AT = '2026-02-20T08:00:00Z';
const LIFT_AT = '2026-03-10T08:00:00Z';
let t: TestDb;
let env: Record<string, string>;
let caseId: number;
let pending: number;
beforeAll(async () => {
  assertBuilt();
  t = await createTestDb();
  env = { DATABASE_URL: t.url ?? '', RAYON_NOW: SUSPEND_AT, RAYON_ACTOR: 'ops-cli' };
  if (!t.url) return;
  const k = t.db.knex;
  await makeUsers(k, [{ id: 'mallo', email: 'Mallo.Ry@Example.org' }, { id: 'calm' }]);
  await give(k, 'mallo', 100, '2025-03-01T08:00:00Z'); // expires 2026-03-01T20:00Z, before the lift
  await give(k, 'mallo', 300, '2026-01-15T08:00:00Z'); // expires 2027-01-15T20:00Z
  const manual = await makeReward(k, 'CLI-SUSP-MANUAL', { cost: 50, stock: 3, fulfilment: 'manual' });
  pending = (await redeem(k, 'mallo', manual, new Date('2026-02-10T08:00:00Z'), { actor: 'user:mallo' })).redemption.id;
  [{ case_id: caseId }] = await upsertCases(k, [{ user_id: 'mallo', rule: 'shared_reference', score: 70, evidence: 'one reference on 4 users (threshold 3)', figures: {}, latest_at: new Date('2026-02-19T08:00:00Z') }], new Date('2026-02-19T09:00:00Z'));
});
afterAll(async () => t?.destroy());

describeMultiConnection('rayon fraud suspend / lift / list (CLI)', () => {
  it('bad input: missing reason (2), unknown user (4), unknown case (4), case of another user (2), --void-points without --yes (2); nothing written', async () => {
    const before = await publicRowCounts(t.db.knex);
    const runs = await Promise.all([
      rayon(['fraud', 'suspend', 'mallo'], env),
      rayon(['fraud', 'lift', 'mallo'], env),
      rayon(['fraud', 'suspend', 'ghost', '--reason', 'x'], env),
      rayon(['fraud', 'suspend', 'ghost@example.org', '--reason', 'x'], env),
      rayon(['fraud', 'suspend', 'mallo', '--reason', 'x', '--case', '424242'], env),
      rayon(['fraud', 'suspend', 'calm', '--reason', 'x', '--case', String(caseId)], env),
      rayon(['fraud', 'suspend', 'mallo', '--reason', 'x', '--void-points'], env),
    ]);
    expect(runs.map((r) => r.code)).toEqual([2, 2, 4, 4, 4, 2, 2]);
    expect(runs.map((r) => r.stdout)).toEqual(Array(runs.length).fill(''));
    const [noReason, noReason2, ghost, ghostMail, noCase, otherCase, noYes] = runs.map((r) => r.stderr);
    expect(noReason).toMatch(/required option '--reason <text>'/);
    expect(noReason2).toMatch(/required option '--reason <text>'/);
    expect(ghost).toMatch(/user "ghost" not found/);
    expect(ghostMail).toMatch(/user "ghost@example.org" not found/);
    expect(noCase).toMatch(/fraud case "424242" not found/);
    expect(otherCase).toMatch(new RegExp(`fraud case ${caseId} is about mallo, not calm`));
    expect(noYes).toMatch(/confirmation needed: run again with --yes/);
    expect(await publicRowCounts(t.db.knex)).toEqual(before);
  });

  it('suspend by email with --void-points --yes, hold the pending redemption, lift with --restore-points, list, verify', async () => {
    const s = await rayon(['fraud', 'suspend', 'MALLO.RY@example.ORG', '--reason', 'shared reference ring', '--case', String(caseId), '--void-points', '--yes'], env);
    expect(s.code).toBe(0);
    expect(s.stderr).toMatch(/mallo suspended \(suspension \d+, case \d+\)/);
    expect(s.stderr).toContain(`Open case(s) marked actioned: ${caseId}.`);
    expect(s.stderr).toMatch(/350 point\(s\) voided by transaction \d+\./);
    expect(s.stdout).toContain('2026-03-01T20:00:00.000Z');

    const again = await rayon(['fraud', 'suspend', 'mallo', '--reason', 'again'], env);
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(/mallo is already suspended \(suspension \d+ by ops-cli since 2026-02-20T08:00:00.000Z: shared reference ring\); nothing changed\./);

    const held = await rayon(['redemption', 'approve', String(pending)], env);
    expect(held.code).toBe(3);
    expect(held.stderr).toMatch(/user mallo is suspended: redemption \d+ is held \(approve it anyway with --force\) \[ACCOUNT_SUSPENDED\]/);
    const forced = await rayon(['--json', 'redemption', 'approve', String(pending), '--force'], env);
    expect(forced.code).toBe(0);
    expect(JSON.parse(forced.stdout)).toMatchObject({ id: pending, status: 'fulfilled', forced: true });

    const active = await rayon(['--json', 'fraud', 'list', '--active'], env);
    expect(JSON.parse(active.stdout)).toEqual([expect.objectContaining({ user_id: 'mallo', actor: 'ops-cli', reason: 'shared reference ring', case_id: caseId, points_voided: 350, points_restored: 0, active: true })]);

    const lift = await rayon(['--json', 'fraud', 'lift', 'mallo', '--reason', 'appeal upheld', '--restore-points'], { ...env, RAYON_NOW: LIFT_AT });
    expect(lift.code).toBe(0);
    const body = JSON.parse(lift.stdout);
    expect(body.restored.map((r: { points: number; expires_at: string; new_expires_at: string }) => [r.points, r.expires_at, r.new_expires_at])).toEqual([
      [50, '2026-03-01T20:00:00.000Z', '2026-04-09T20:00:00.000Z'], // the 50 the redemption left; due before the lift: 30 days from the lift
      [300, '2027-01-15T20:00:00.000Z', '2027-01-15T20:00:00.000Z'],
    ]);
    expect(body).toMatchObject({ noop: false, points_restored: 350, points_left_voided: 0 });

    const free = await rayon(['fraud', 'lift', 'mallo', '--reason', 'again'], { ...env, RAYON_NOW: LIFT_AT });
    expect(free.code).toBe(0);
    expect(free.stderr).toContain('mallo is not suspended; nothing changed.');

    const all = await rayon(['fraud', 'list'], env);
    expect(all.code).toBe(0);
    expect(all.stdout).toMatch(/mallo.*ops-cli.*shared reference ring.*350.*350/);
    expect(all.stderr).toContain('1 suspension(s).');
    expect((await rayon(['--json', 'fraud', 'list', '--active'], env)).stdout.trim()).toBe('[]');

    const verify = await rayon(['ledger', 'verify'], { ...env, RAYON_NOW: LIFT_AT });
    expect(verify.code).toBe(0);
  });
});
