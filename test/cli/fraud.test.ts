import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { createTestDb, describeMultiConnection, type TestDb } from '../helpers/db.js';
import { assertBuilt, rayon } from '../helpers/rayon-cli.js';
import { EXPECTED, SCAN_NOW, publicRowCounts, seedFraudPatterns } from '../helpers/fraud-seed.js';
import { RULE_NAMES } from '../../src/core/fraud/index.js';

/** `rayon fraud …` end to end: the built CLI against this file's PostgreSQL database, seeded with every pattern. */
vi.setConfig({ testTimeout: 300_000, hookTimeout: 600_000 });

let t: TestDb;
let env: Record<string, string>;
beforeAll(async () => {
  assertBuilt();
  t = await createTestDb();
  env = { DATABASE_URL: t.url ?? '', RAYON_NOW: SCAN_NOW.toISOString(), RAYON_ACTOR: 'ops-cli' };
  if (t.url) await seedFraudPatterns(t.db.knex);
});
afterAll(async () => t?.destroy());

const total = RULE_NAMES.reduce((n, r) => n + EXPECTED[r].length, 0);

describeMultiConnection('rayon fraud (CLI)', () => {
  it('bad input exits 2 naming what is wrong, and writes nothing', async () => {
    const before = await publicRowCounts(t.db.knex);
    const runs = await Promise.all([
      rayon(['fraud', 'scan', '--since', 'yesterday'], env),
      rayon(['fraud', 'scan', '--set', 'nope.max=1'], env),
      rayon(['fraud', 'scan', '--set', 'earn_velocity.nope=1'], env),
      rayon(['fraud', 'scan', '--set', 'earn_velocity.max_per_hour=1.5'], env),
      rayon(['fraud', 'scan', '--set', 'earn_velocity.max_per_hour=-3'], env),
      rayon(['fraud', 'scan', '--rule', 'nope'], env),
      rayon(['fraud', 'rules', 'set', 'earn_velocity.max_per_hour=25'], env),
      rayon(['fraud', 'dismiss', '1'], env),
      rayon(['fraud', 'cases', '--status', 'closed'], env),
    ]);
    expect(runs.map((r) => r.code)).toEqual(Array(runs.length).fill(2));
    expect(runs.map((r) => r.stdout)).toEqual(Array(runs.length).fill(''));
    const [since, rule, param, fraction, negative, onlyRule, noReason, noReason2, status] = runs.map((r) => r.stderr);
    expect(since).toMatch(/--since cannot be read: "yesterday": expected .*\(24h, 7d\), an ISO date .* or an ISO instant/);
    expect(rule).toMatch(/unknown rule "nope" \(rules: earn_velocity, refused_burst/);
    expect(param).toMatch(/unknown parameter "earn_velocity.nope" \(earn_velocity has: max_per_hour\)/);
    expect(fraction).toMatch(/earn_velocity.max_per_hour must be a whole number ≥ 0, got "1.5"/);
    expect(negative).toMatch(/earn_velocity.max_per_hour must be a whole number ≥ 0, got "-3"/);
    expect(onlyRule).toMatch(/--rule: unknown rule "nope"/);
    expect(noReason).toMatch(/required option '--reason <text>'/);
    expect(noReason2).toMatch(/required option '--reason <text>'/);
    expect(status).toMatch(/--status.*closed.*open, dismissed, actioned/s);
    expect(await publicRowCounts(t.db.knex)).toEqual(before);
  });

  it('back-test: prints per rule who is flagged today and with the change, added and dropped, and writes nothing', async () => {
    const before = await publicRowCounts(t.db.knex);
    const r = await rayon(['fraud', 'scan', '--since', '7d', '--set', 'earn_velocity.max_per_hour=15', '--set', 'shared_reference.min_users=6', '--set', 'lockstep_farm.min_accounts=3'], env);
    expect([r.code, r.stderr]).toEqual([0, 'Back-test from 2026-03-03T12:00:00.000Z to 2026-03-10T12:00:00.000Z: nothing was written.\n']);
    expect(r.stdout).toMatch(/│ earn_velocity\s+│ max_per_hour 20 → 15\s+│ 1\s+│ 2\s+│ 1\s+│ 0\s+│/);
    expect(r.stdout).toMatch(/│ redeem_burst\s+│ —\s+│ 1\s+│ 1\s+│ 0\s+│ 0\s+│/);
    expect(r.stdout).toContain('earn_velocity (max_per_hour 20 → 15)\n  flagged now (1): burst\n  flagged with the change (2): burst, steady\n  added (1): steady\n  dropped (0): —\n');
    expect(r.stdout).toContain('shared_reference (min_users 3 → 6)\n  flagged now (5): ring1, ring2, ring3, ring4, ring5\n  flagged with the change (0): —\n  added (0): —\n  dropped (5): ring1, ring2, ring3, ring4, ring5\n');
    expect(r.stdout).toContain('  added (3): fam1, fam2, fam3\n');
    expect(await publicRowCounts(t.db.knex)).toEqual(before);
  });

  it('scan prints one row per finding and opens the cases; --fail-on-findings exits 5; --json for tools', async () => {
    const table = await rayon(['fraud', 'scan', '--since', '7d'], env);
    expect(table.code).toBe(0);
    expect(table.stderr).toBe(`${total} finding(s) from 2026-03-03T12:00:00.000Z to 2026-03-10T12:00:00.000Z (7 rule(s)): ${total} case(s) opened, 0 refreshed, 0 reopened, 0 kept dismissed, 0 kept actioned.\n`);
    expect(table.stdout).toMatch(/│ burst\s+│ earn_velocity\s+│ 53\s+│ 23 earns in 1 h \(threshold 20\), from 2026-03-08T06:40:00Z to 2026-03-08T07:24:00Z\s+│ open \(opened\) │$/m);
    for (const rule of RULE_NAMES) for (const user of EXPECTED[rule]) expect(table.stdout).toMatch(new RegExp(`│ ${user}\\s+│ ${rule}\\s+│`));
    expect(table.stdout).not.toMatch(/heavy|steady|pair|fam/);

    const json = await rayon(['--json', 'fraud', 'scan', '--since', '7d', '--fail-on-findings'], env);
    expect(json.code).toBe(5);
    const body = JSON.parse(json.stdout);
    expect(body.findings).toHaveLength(total);
    expect(body.cases).toMatchObject({ opened: 0, refreshed: total });
    expect(body.findings.find((f: { user_id: string }) => f.user_id === 'newbie')).toMatchObject({
      rule: 'new_account_redeem', score: 87, case_status: 'open', case_change: 'refreshed', latest_event_at: '2026-03-09T10:00:00.000Z',
      figures: { age_days: 2, points: 5000, redemptions: 1, min_age_days: 7, max_points: 2000 },
    });
    const quiet = await rayon(['fraud', 'scan', '--since', '2026-01-01T00:00:00Z', '--rule', 'redeem_burst', '--fail-on-findings'], { ...env, RAYON_NOW: '2026-02-01T00:00:00Z' });
    expect([quiet.code, quiet.stdout, quiet.stderr]).toEqual([0, '', '0 finding(s) from 2026-01-01T00:00:00.000Z to 2026-02-01T00:00:00.000Z (1 rule(s)).\n']);
  });

  it('cases, dismiss (twice, unknown), rules set and show, all audited', async () => {
    const cases = await rayon(['--json', 'fraud', 'cases', '--status', 'open'], env);
    const open = JSON.parse(cases.stdout) as Array<{ id: number; user_id: string; rule: string }>;
    expect(open).toHaveLength(total);
    const id = open.find((c) => c.user_id === 'spree')!.id;

    const d1 = await rayon(['fraud', 'dismiss', String(id), '--reason', 'gift cards for the team, checked (SUP-12)'], env);
    expect([d1.code, d1.stderr]).toEqual([0, `✔ Case ${id} (spree, redeem_burst) dismissed.\n`]);
    const d2 = await rayon(['fraud', 'dismiss', String(id), '--reason', 'again'], env);
    expect(d2.code).toBe(0);
    expect(d2.stderr).toMatch(new RegExp(`^Case ${id} is already dismissed \\(by ops-cli at 2026-03-10T12:00:00.000Z: gift cards for the team, checked \\(SUP-12\\)\\); nothing changed.\\n$`));
    const unknown = await rayon(['fraud', 'dismiss', '987654', '--reason', 'x'], env);
    expect([unknown.code, unknown.stderr]).toEqual([4, 'error: fraud case "987654" not found [NOT_FOUND]\n']);
    const dismissed = await rayon(['fraud', 'cases', '--status', 'dismissed'], env);
    expect(dismissed.stdout).toMatch(new RegExp(`│ ${id}\\s+│ spree\\s+│ redeem_burst\\s+│ dismissed`));
    const rescan = await rayon(['--json', 'fraud', 'scan', '--since', '7d', '--rule', 'redeem_burst'], env);
    expect(JSON.parse(rescan.stdout).findings.map((f: { case_status: string; case_change: string }) => [f.case_status, f.case_change])).toEqual([['dismissed', 'kept dismissed']]);

    const set = await rayon(['fraud', 'rules', 'set', 'redeem_burst.max_count=8', '--reason', 'back-tested on 30 days'], env);
    expect([set.code, set.stderr]).toEqual([0, '✔ redeem_burst.max_count: 5 → 8.\n']);
    const same = await rayon(['fraud', 'rules', 'set', 'redeem_burst.max_count=8', '--reason', 'again'], env);
    expect([same.code, same.stderr]).toEqual([0, 'redeem_burst.max_count is already 8: nothing to change.\n']);
    const show = await rayon(['--json', 'fraud', 'rules', 'show'], env);
    expect(JSON.parse(show.stdout).find((r: { rule: string; param: string }) => r.rule === 'redeem_burst' && r.param === 'max_count')).toMatchObject({ value: 8, default: 5, updated_by: 'ops-cli' });
    const audit = await t.db.knex('audit_log').whereIn('action', ['fraud.rules', 'fraud.dismiss']).orderBy('id').select('action', 'actor', 'target', 'details');
    expect(audit).toEqual([
      { action: 'fraud.dismiss', actor: 'ops-cli', target: 'spree', details: expect.objectContaining({ case_id: id, reason: 'gift cards for the team, checked (SUP-12)' }) },
      { action: 'fraud.rules', actor: 'ops-cli', target: 'redeem_burst.max_count', details: { rule: 'redeem_burst', param: 'max_count', old: 5, new: 8, reason: 'back-tested on 30 days' } },
    ]);
  });
});
