import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Knex } from 'knex';
import { createTestDb, type TestDb } from '../helpers/db.js';
import { EXPECTED, SCAN_NOW, WINDOW, publicRowCounts, seedFraudPatterns } from '../helpers/fraud-seed.js';
import { backtestFraud, defaultParams, listCases, loadParams, parseAssignment, RULE_NAMES, runRule, runRules, scanFraud } from '../../src/core/fraud/index.js';
import { verifyLedger } from '../../src/core/ledger/index.js';

// Seeding writes some 700 operations through the core functions: generous on a loaded machine.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 600_000 });

let t: TestDb;
let k: Knex;
beforeAll(async () => {
  t = await createTestDb();
  k = t.db.knex;
  await seedFraudPatterns(k);
});
afterAll(async () => {
  if (t) expect((await verifyLedger(k)).ok).toBe(true);
  await t?.destroy();
});

const usersOf = (findings: Array<{ user_id: string }>) => findings.map((f) => f.user_id).sort();

describe('each rule on its seeded pattern', () => {
  for (const rule of RULE_NAMES) {
    it(`${rule} flags exactly ${EXPECTED[rule].join(', ')}`, async () => {
      const findings = await runRule(k, rule, WINDOW, defaultParams()[rule]);
      expect(usersOf(findings)).toEqual([...EXPECTED[rule]].sort());
      for (const f of findings) {
        expect(f.score).toBeGreaterThanOrEqual(50);
        expect(f.score).toBeLessThanOrEqual(100);
        expect(f.latest_at.getTime()).toBeLessThanOrEqual(SCAN_NOW.getTime());
        expect(f.evidence).toMatch(/threshold/);
      }
    });
  }

  it('words the evidence with the figures and the thresholds, and scores by how far above', async () => {
    const params = defaultParams();
    const one = async (rule: (typeof RULE_NAMES)[number], user: string) => (await runRule(k, rule, WINDOW, params[rule])).find((f) => f.user_id === user)!;
    const burst = await one('earn_velocity', 'burst');
    expect(burst.evidence).toBe('23 earns in 1 h (threshold 20), from 2026-03-08T06:40:00Z to 2026-03-08T07:24:00Z');
    expect(burst.score).toBe(53); // 50 + 25 × 3/20
    expect(burst.latest_at.toISOString()).toBe('2026-03-08T07:24:00.000Z');
    expect((await one('refused_burst', 'refuser')).evidence).toBe('12 refused earns in the window (threshold 10): CAP_REACHED 12');
    const ring = await one('shared_reference', 'ring3');
    expect(ring.evidence).toBe('reference "café-42" (transaction_completed) credited to 5 users in 2 spelling(s) (threshold 3 users)');
    expect(ring.score).toBe(66);
    expect(ring.latest_at.toISOString()).toBe('2026-03-04T15:00:00.000Z'); // the ring's last credit, whoever made it
    expect((await one('redeem_burst', 'spree')).evidence).toBe('7 redemptions (threshold 5) for 700 points (threshold 5000) in the window');
    const newbie = await one('new_account_redeem', 'newbie');
    expect(newbie.evidence).toBe('account 2 days old redeemed 5000 points in 1 redemption (thresholds: younger than 7 days, more than 2000 points)');
    expect(newbie.score).toBe(87);
    expect((await one('lockstep_farm', 'farm04')).evidence).toBe(
      '10 accounts created between 2026-03-01T08:00:00Z and 2026-03-01T08:36:00Z collected on the same 6 days, 2026-03-04 to 2026-03-09 (thresholds 5 accounts within 1 h, 5 days)',
    );
    const op = await one('operator_adjustments', 'operator:mallory');
    expect(op.evidence).toBe('"mallory" credited 50000 points in 5 manual credits on 2026-03-06 (thresholds 20000 points, 50 rows)');
    expect(op.score).toBe(87); // 50 + 25 × 30000/20000, the rows (5 of 50) score less
  });

  it('flags nobody else: not the honest heavy user, the steady earner, the pair or the family — even over the whole history', async () => {
    const all = await runRules(k, { since: new Date('2025-01-01T00:00:00Z'), until: SCAN_NOW }, defaultParams());
    const expected = RULE_NAMES.flatMap((r) => EXPECTED[r].map((u) => `${r} ${u}`)).sort();
    expect(all.map((f) => `${f.rule} ${f.user_id}`).sort()).toEqual(expected);
    expect(all.map((f) => f.user_id)).not.toContain('heavy');
    expect(Number((await k('points_transactions').where({ user_id: 'heavy' }).count({ n: '*' }).first())!.n)).toBeGreaterThan(500);
  });

  it('looks only at the window: a scan ending before the patterns finds nothing', async () => {
    expect(await runRules(k, { since: new Date('2026-02-15T00:00:00Z'), until: new Date('2026-03-03T00:00:00Z') }, defaultParams())).toEqual([]);
  });
});

describe('back-test', () => {
  it('reports the users a change adds and drops, per rule, and writes nothing at all', async () => {
    const before = await publicRowCounts(k);
    const casesBefore = await k('fraud_cases').orderBy('id').select();
    const r = await backtestFraud(k, {
      window: WINDOW,
      assignments: ['earn_velocity.max_per_hour=15', 'shared_reference.min_users=6', 'lockstep_farm.min_accounts=3'].map((s) => parseAssignment(s)),
    });
    const byRule = Object.fromEntries(r.rules.map((b) => [b.rule, b]));
    expect(byRule.earn_velocity).toMatchObject({ changes: [{ param: 'max_per_hour', now: 20, proposed: 15 }], flagged_now: ['burst'], flagged_proposed: ['burst', 'steady'], added: ['steady'], dropped: [] });
    expect(byRule.shared_reference).toMatchObject({ flagged_now: EXPECTED.shared_reference, flagged_proposed: [], added: [], dropped: EXPECTED.shared_reference });
    expect(byRule.lockstep_farm.added).toEqual(['fam1', 'fam2', 'fam3']);
    expect(byRule.redeem_burst).toMatchObject({ changes: [], flagged_now: ['spree'], flagged_proposed: ['spree'], added: [], dropped: [] });
    expect(await publicRowCounts(k)).toEqual(before);
    expect(await k('fraud_cases').orderBy('id').select()).toEqual(casesBefore);
  });

  it('runs in a read-only transaction: the database refuses a write there', async () => {
    await expect(k.transaction((trx) => trx('fraud_settings').update({ value: 1 }), { readOnly: true })).rejects.toThrow(/read-only transaction/);
    expect((await loadParams(k)).earn_velocity.max_per_hour).toBe(20);
  });

  it('refuses a --set outside the rules scanned, and a parameter set twice', async () => {
    await expect(backtestFraud(k, { window: WINDOW, rules: ['earn_velocity'], assignments: [parseAssignment('redeem_burst.max_count=9')] })).rejects.toMatchObject({ code: 'VALIDATION_ERROR' });
    await expect(backtestFraud(k, { window: WINDOW, assignments: [parseAssignment('redeem_burst.max_count=9'), parseAssignment('redeem_burst.max_count=8')] })).rejects.toThrow(/given twice/);
  });
});

describe('scan', () => {
  it('opens one case per user and rule in one go, audited, and refreshes them on the next scan', async () => {
    const first = await scanFraud(k, { window: WINDOW, actor: 'ops', now: SCAN_NOW });
    const total = RULE_NAMES.reduce((n, r) => n + EXPECTED[r].length, 0);
    expect(first.findings).toHaveLength(total);
    expect(first.cases).toMatchObject({ opened: total, refreshed: 0 });
    expect(first.findings.map((f) => f.score)).toEqual([...first.findings.map((f) => f.score)].sort((a, b) => b - a));
    const cases = await listCases(k, { status: 'open' });
    expect(cases).toHaveLength(total);
    expect(cases.find((c) => c.user_id === 'operator:mallory')).toMatchObject({ rule: 'operator_adjustments', figures: expect.objectContaining({ actor: 'mallory', points: 50000 }) });
    const again = await scanFraud(k, { window: WINDOW, actor: 'ops', now: new Date(SCAN_NOW.getTime() + 60_000) });
    expect(again.cases).toMatchObject({ opened: 0, refreshed: total });
    expect(await k('fraud_cases').count({ n: '*' }).first()).toMatchObject({ n: total });
    const audits = await k('audit_log').where({ action: 'fraud.scan' }).orderBy('id');
    expect(audits).toHaveLength(2);
    expect(audits[0]).toMatchObject({ actor: 'ops', details: expect.objectContaining({ findings: total, cases: expect.objectContaining({ opened: total }) }) });
  });

  it('--rule runs only that rule', async () => {
    const r = await scanFraud(k, { window: WINDOW, rules: ['redeem_burst'], actor: 'ops', now: SCAN_NOW });
    expect(r.findings.map((f) => [f.rule, f.user_id])).toEqual([['redeem_burst', 'spree']]);
  });
});
