import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Knex } from 'knex';
import { createTestDb, describeMultiConnection, type TestDb } from '../helpers/db.js';
import { makeUsers } from '../helpers/fixtures.js';
import { earn } from '../../src/core/earning/index.js';
import { RULES, RULE_NAMES, defaultParams, dismissCase, getCase, showRules, listCases, loadParams, markCasesActioned, parseAssignment, scanFraud, scanWindow, setRuleParam } from '../../src/core/fraud/index.js';
import { verifyLedger } from '../../src/core/ledger/index.js';

vi.setConfig({ testTimeout: 60_000 });

let t: TestDb;
let k: Knex;
beforeAll(async () => {
  t = await createTestDb();
  k = t.db.knex;
  await makeUsers(k, ['b1', 'b2', 'b3', 'b4'].map((id) => ({ id })), new Date('2026-01-01T00:00:00Z'));
});
afterAll(async () => {
  if (t) expect((await verifyLedger(k)).ok).toBe(true);
  await t?.destroy();
});

const POOL = [...Array(5).fill('listing_created'), ...Array(10).fill('transaction_completed'), ...Array(5).fill('review_posted'), ...Array(3).fill('referral_signup')];
/** `n` earns two minutes apart from `start` (at most 23: the daily caps of the default scale). */
async function burst(user: string, start: string, n: number, from = 0) {
  for (let i = from; i < from + n; i++) await earn(k, user, POOL[i], `${user}-${start}-${i}`, new Date(new Date(start).getTime() + i * 120_000), { actor: `user:${user}` });
}
const scan = (now: string, since = '24h') => scanFraud(k, { window: scanWindow(since, new Date(now)), rules: ['earn_velocity'], actor: 'ops', now: new Date(now) });
const caseOf = async (user: string) => (await listCases(k, { userId: user }))[0];

describe('review queue', () => {
  it('a dismissed case stays dismissed on the same evidence, and reopens on events after the dismissal', async () => {
    await burst('b1', '2026-04-01T06:00:00Z', 22);
    const first = await scan('2026-04-01T06:43:00Z');
    expect(first.findings.map((f) => [f.user_id, f.change])).toEqual([['b1', 'opened']]);
    const id = first.findings[0].case_id;

    // One more earn of the same burst after that scan (06:44), then the dismissal (07:00): the
    // dismissal covers it.
    await burst('b1', '2026-04-01T06:00:00Z', 1, 22);
    const d = await dismissCase(k, id, { reason: 'load test by the marketplace team', actor: 'alice', now: new Date('2026-04-01T07:00:00Z') });
    expect(d.changed).toBe(true);
    expect(d.case).toMatchObject({ status: 'dismissed', dismissed_by: 'alice', dismiss_reason: 'load test by the marketplace team' });

    const again = await scan('2026-04-01T08:00:00Z');
    expect(again.findings.map((f) => [f.user_id, f.status, f.change])).toEqual([['b1', 'dismissed', 'kept dismissed']]);
    expect(await listCases(k, { status: 'open' })).toEqual([]);
    expect((await getCase(k, id)).evidence).toMatch(/^22 earns in 1 h/); // the evidence that was dismissed, untouched

    // A new burst the next day: later than the dismissal.
    await burst('b1', '2026-04-02T06:00:00Z', 21);
    const reopened = await scan('2026-04-02T12:00:00Z');
    expect(reopened.findings.map((f) => [f.user_id, f.case_id, f.status, f.change])).toEqual([['b1', id, 'open', 'reopened']]);
    const c = await getCase(k, id);
    expect(c).toMatchObject({ status: 'open', dismissed_at: null, dismissed_by: null, dismiss_reason: null, score: 51 });
    expect(c.evidence).toBe('21 earns in 1 h (threshold 20), from 2026-04-02T06:00:00Z to 2026-04-02T06:40:00Z');
    expect(c.evidence_until.toISOString()).toBe('2026-04-02T06:40:00.000Z');
    expect(c.first_seen.toISOString()).toBe('2026-04-01T06:43:00.000Z');
    expect(c.last_seen.toISOString()).toBe('2026-04-02T12:00:00.000Z');

    const audit = await k('audit_log').where({ action: 'fraud.dismiss' });
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actor: 'alice', target: 'b1', details: expect.objectContaining({ case_id: id, rule: 'earn_velocity', reason: 'load test by the marketplace team' }) });
  });

  it('dismissing a dismissed case says so and writes nothing; an unknown case is NOT_FOUND; a reason is required', async () => {
    await burst('b2', '2026-04-03T06:00:00Z', 22);
    const id = (await scan('2026-04-03T12:00:00Z')).findings.find((f) => f.user_id === 'b2')!.case_id;
    const now = new Date('2026-04-03T13:00:00Z');
    expect((await dismissCase(k, id, { reason: 'ok', actor: 'alice', now })).changed).toBe(true);
    const audits = await k('audit_log').count({ n: '*' }).first();
    const second = await dismissCase(k, id, { reason: 'again', actor: 'bob', now });
    expect(second).toMatchObject({ changed: false, case: { dismissed_by: 'alice', dismiss_reason: 'ok' } });
    expect(await k('audit_log').count({ n: '*' }).first()).toEqual(audits);
    await expect(dismissCase(k, 987654, { reason: 'x', actor: 'alice', now })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(dismissCase(k, id, { reason: ' ', actor: 'alice', now })).rejects.toMatchObject({ code: 'VALIDATION_ERROR' });
  });

  it('markCasesActioned (the suspension seam) closes open cases; a later event reopens them; an actioned case cannot be dismissed', async () => {
    await burst('b3', '2026-04-05T06:00:00Z', 22);
    const id = (await scan('2026-04-05T12:00:00Z')).findings.find((f) => f.user_id === 'b3')!.case_id;
    expect(await markCasesActioned(k, 'b3', new Date('2026-04-05T13:00:00Z'))).toEqual([id]);
    expect(await markCasesActioned(k, 'b3', new Date('2026-04-05T13:05:00Z'))).toEqual([]);
    expect((await scan('2026-04-05T14:00:00Z')).findings.find((f) => f.user_id === 'b3')).toMatchObject({ status: 'actioned', change: 'kept actioned' });
    await expect(dismissCase(k, id, { reason: 'x', actor: 'alice', now: new Date('2026-04-05T14:00:00Z') })).rejects.toMatchObject({ code: 'INVALID_STATE' });
    await burst('b3', '2026-04-06T06:00:00Z', 21);
    expect((await scan('2026-04-06T12:00:00Z')).findings.find((f) => f.user_id === 'b3')).toMatchObject({ case_id: id, status: 'open', change: 'reopened' });
    expect(await getCase(k, id)).toMatchObject({ actioned_at: null });
  });

  it('the database keeps one case per user and rule, and a dismissal with its actor and reason', async () => {
    const row = { user_id: 'b4', rule: 'earn_velocity', first_seen: new Date(), last_seen: new Date(), score: 50, evidence: 'x', evidence_until: new Date() };
    await k('fraud_cases').insert(row);
    await expect(k('fraud_cases').insert(row)).rejects.toThrow(/fraud_cases_one_per_rule/);
    await expect(k('fraud_cases').where({ user_id: 'b4' }).update({ status: 'dismissed' })).rejects.toThrow(/fraud_cases_dismissed_fields/);
    await expect(k('fraud_cases').insert({ ...row, user_id: 'not a user!' })).rejects.toThrow(/fraud_cases_subject_check/);
  });
});

describe('rules settings', () => {
  it('the migration seeds exactly the parameters the rules know, at their documented defaults', async () => {
    const rows: Array<{ rule: string; param: string; value: number }> = await k('fraud_settings').orderBy(['rule', 'param']).select('rule', 'param', 'value');
    const expected = Object.entries(defaultParams()).flatMap(([rule, ps]) => Object.entries(ps).map(([param, value]) => ({ rule, param, value })));
    const order = (a: { rule: string; param: string }, b: { rule: string; param: string }) => (`${a.rule}.${a.param}` < `${b.rule}.${b.param}` ? -1 : 1);
    expect(rows.sort(order)).toEqual(expected.sort(order));
  });

  it('rules set changes a parameter the next scan uses, audited with old and new values; the same value writes nothing', async () => {
    const r = await setRuleParam(k, parseAssignment('earn_velocity.max_per_hour=21'), { reason: 'promo week', actor: 'carol', now: new Date('2026-04-10T08:00:00Z') });
    expect(r).toMatchObject({ previous: 20, value: 21, changed: true });
    expect((await loadParams(k)).earn_velocity.max_per_hour).toBe(21);
    const audit = await k('audit_log').where({ action: 'fraud.rules' });
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actor: 'carol', target: 'earn_velocity.max_per_hour', details: { rule: 'earn_velocity', param: 'max_per_hour', old: 20, new: 21, reason: 'promo week' } });
    expect(await k('fraud_settings').where({ rule: 'earn_velocity' }).first()).toMatchObject({ value: 21, updated_by: 'carol' });
    const s = await scanFraud(k, { window: { since: new Date('2026-04-01T00:00:00Z'), until: new Date('2026-04-07T00:00:00Z') }, rules: ['earn_velocity'], actor: 'ops', now: new Date('2026-04-10T09:00:00Z') });
    expect(s.findings.find((f) => f.user_id === 'b1')!.evidence).toMatch(/\(threshold 21\)/);
    expect((await setRuleParam(k, parseAssignment('earn_velocity.max_per_hour=21'), { reason: 'same', actor: 'carol', now: new Date() })).changed).toBe(false);
    expect(await k('audit_log').where({ action: 'fraud.rules' })).toHaveLength(1);
    await expect(setRuleParam(k, parseAssignment('earn_velocity.max_per_hour=22'), { reason: '', actor: 'carol', now: new Date() })).rejects.toMatchObject({ code: 'VALIDATION_ERROR' });
    await setRuleParam(k, parseAssignment('earn_velocity.max_per_hour=20'), { reason: 'promo over', actor: 'carol', now: new Date('2026-04-11T08:00:00Z') });
  });

  it('rules show lists every parameter with its value, default, meaning and who changed it last', async () => {
    const rows = await showRules(k);
    expect(rows.map((r) => `${r.rule}.${r.param}`)).toEqual(RULE_NAMES.flatMap((rule) => RULES[rule].params.map((p) => `${rule}.${p.name}`)));
    expect(rows.find((r) => r.rule === 'earn_velocity')).toMatchObject({ value: 20, default: 20, updated_by: 'carol', meaning: expect.stringMatching(/60 minutes/) });
    expect(rows.find((r) => r.rule === 'lockstep_farm' && r.param === 'min_days')).toMatchObject({ value: 5, updated_by: 'system', finds: expect.stringMatching(/same set/) });
  });
});

describeMultiConnection('review queue under concurrency', () => {
  it('two scans at once make one case per user and rule; two dismissals at once write one', async () => {
    const [p1, p2] = [await t.open(4), await t.open(4)];
    await makeUsers(k, [{ id: 'c1' }]);
    await burst('c1', '2026-04-20T06:00:00Z', 22);
    const now = new Date('2026-04-20T12:00:00Z');
    const window = scanWindow('24h', now);
    const both = await Promise.all([p1, p2].map((p) => scanFraud(p.knex, { window, rules: ['earn_velocity'], actor: 'ops', now })));
    const ids = both.map((r) => r.findings.find((f) => f.user_id === 'c1')!.case_id);
    expect(ids[0]).toBe(ids[1]);
    expect(await k('fraud_cases').where({ user_id: 'c1' })).toHaveLength(1);
    const dismissed = await Promise.all([p1, p2].map((p, i) => dismissCase(p.knex, ids[0], { reason: `r${i}`, actor: `op${i}`, now })));
    expect(dismissed.map((d) => d.changed).sort()).toEqual([false, true]);
    expect(await k('audit_log').where({ action: 'fraud.dismiss' }).whereRaw("details->>'case_id' = ?", [String(ids[0])])).toHaveLength(1);
  });
});
