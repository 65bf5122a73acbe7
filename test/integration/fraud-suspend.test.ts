import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Knex } from 'knex';
import { createTestDb, describeMultiConnection, type TestDb } from '../helpers/db.js';
import { makeUsers } from '../helpers/fixtures.js';
import { makeReward } from '../helpers/catalog-setup.js';
import { give, rejection, storedBalance } from '../helpers/ledger-setup.js';
import { call, startServer, token } from '../http/helpers.js';
import { liftUser, listSuspensions, suspendUser, upsertCases } from '../../src/core/fraud/index.js';
import { resolveUser } from '../../src/core/users/index.js';
import { collectDaily, earn } from '../../src/core/earning/index.js';
import { approveRedemption, redeem } from '../../src/core/redemption/index.js';
import { readBalance, verifyLedger } from '../../src/core/ledger/index.js';

/**
 * Suspensions (SPEC "Fraud and suspensions"): the void takes the whole balance first-expiring-
 * first and records its lots; the lift gives back exactly those lots under the re-credit expiry
 * rule (SPEC "Ledger"); collecting, earning and redeeming are refused at once; pending
 * redemptions are held. La Réunion is UTC+4: a lot credited on local date E expires at
 * 20:00 UTC on E + 365 days; a re-credit on local date R expires at least at 20:00 UTC on R + 30.
 */

let t: TestDb;
let k: Knex;
const at = (iso: string) => new Date(iso);
const SUSPEND_AT = at('2026-02-20T08:00:00Z');
const LIFT_AT = at('2026-03-10T08:00:00Z');

beforeAll(async () => {
  t = await createTestDb();
  k = t.db.knex;
  await makeUsers(k, ['vic', 'twin', 'hold', 'free', 'blocked', 'other'].map((id) => ({ id })));
});
afterAll(async () => t?.destroy());

const lotsOf = (user: string) =>
  k('points_lots as l')
    .join('points_transactions as t', function () {
      this.on('t.user_id', 'l.user_id').andOn('t.id', 'l.transaction_id');
    })
    .where('l.user_id', user)
    .orderBy('l.id')
    .select('l.id', 't.type', 'l.amount', 'l.remaining', 'l.expires_at', 'l.recredit');

describe('suspend with --void-points, then lift with --restore-points', () => {
  it('voids every lot first-expiring-first, and restores each lot with the re-credit expiry rule', async () => {
    // Four lots: one already due at the suspension, one due between the suspension and the lift.
    await give(k, 'vic', 30, '2025-01-10T08:00:00Z'); // expires 2026-01-10T20:00Z: due before the suspension
    await give(k, 'vic', 100, '2025-03-01T08:00:00Z'); // expires 2026-03-01T20:00Z: due before the lift
    await give(k, 'vic', 200, '2025-09-01T08:00:00Z'); // expires 2026-09-01T20:00Z
    await give(k, 'vic', 50, '2026-01-10T08:00:00Z'); // expires 2027-01-10T20:00Z
    const [z, a, b, c] = (await lotsOf('vic')).map((l) => Number(l.id));
    const [caseRow] = await upsertCases(k, [{ user_id: 'vic', rule: 'redeem_burst', score: 80, evidence: '7 redemptions in the window (threshold 5)', figures: {}, latest_at: at('2026-02-19T08:00:00Z') }], at('2026-02-19T09:00:00Z'));

    const s = await suspendUser(k, { userId: 'vic', reason: 'redeem burst, SUP-1', actor: 'ops:ana', caseId: caseRow.case_id, voidPoints: true, now: SUSPEND_AT });
    expect(s.noop).toBe(false);
    expect(s.cases_actioned).toEqual([caseRow.case_id]);
    expect(await k('fraud_cases').where({ id: caseRow.case_id }).first('status')).toEqual({ status: 'actioned' });
    // The due lot was expired first (by the void's own inline expiry), then the void took the rest.
    expect(s.voided).toEqual({
      transaction_id: expect.any(Number),
      points: 350,
      lots: [
        { lot_id: a, points: 100, expires_at: at('2026-03-01T20:00:00Z') },
        { lot_id: b, points: 200, expires_at: at('2026-09-01T20:00:00Z') },
        { lot_id: c, points: 50, expires_at: at('2027-01-10T20:00:00Z') },
      ],
    });
    const voidTx = await k('points_transactions').where({ user_id: 'vic', id: s.voided!.transaction_id }).first('type', 'amount', 'actor');
    expect(voidTx).toEqual({ type: 'fraud_void', amount: -350, actor: 'ops:ana' });
    expect(await k('lot_allocations').where({ user_id: 'vic', transaction_id: s.voided!.transaction_id }).orderBy('lot_id').select('lot_id', 'points'))
      .toEqual([{ lot_id: a, points: 100 }, { lot_id: b, points: 200 }, { lot_id: c, points: 50 }]);
    expect(await k('points_transactions').where({ user_id: 'vic', type: 'expire' }).select('amount', 'actor')).toEqual([{ amount: -30, actor: 'system:expiry' }]);
    expect(await storedBalance(k, 'vic')).toEqual({ balance: 0, lifetime_points: 380, status: 'bronze' });
    expect(s.suspension).toMatchObject({ user_id: 'vic', case_id: caseRow.case_id, void_transaction_id: s.voided!.transaction_id, points_voided: 350, points_restored: 0, active: true });
    const suspendAudit = await k('audit_log').where({ action: 'user.suspend', target: 'vic' }).select('actor', 'details');
    expect(suspendAudit).toEqual([{ actor: 'ops:ana', details: expect.objectContaining({ transaction_id: s.voided!.transaction_id, points_voided: 350, case_id: caseRow.case_id, cases_actioned: [caseRow.case_id] }) }]);
    expect((await verifyLedger(k)).discrepancies).toEqual([]);

    const l = await liftUser(k, { userId: 'vic', reason: 'investigated: honest', actor: 'ops:ben', restorePoints: true, now: LIFT_AT });
    expect(l.noop).toBe(false);
    // Lot a expired on 2026-03-01, before the lift: its re-credit runs to the end of the local day
    // 30 days after the lift (2026-04-09, local); b and c keep their later expiries.
    expect(l.restored.map((r) => [r.lot_id, r.points, r.new_expires_at.toISOString()])).toEqual([
      [a, 100, '2026-04-09T20:00:00.000Z'],
      [b, 200, '2026-09-01T20:00:00.000Z'],
      [c, 50, '2027-01-10T20:00:00.000Z'],
    ]);
    expect(l.points_restored).toBe(350);
    expect(l.points_left_voided).toBe(0);
    const restores = await k('points_transactions').where({ user_id: 'vic', type: 'fraud_restore' }).orderBy('id').select('id', 'amount', 'reverses_id', 'actor', 'expires_at');
    expect(restores.map((r) => [r.amount, Number(r.reverses_id), r.actor, r.expires_at.toISOString()])).toEqual([
      [100, s.voided!.transaction_id, 'ops:ben', '2026-04-09T20:00:00.000Z'],
      [200, s.voided!.transaction_id, 'ops:ben', '2026-09-01T20:00:00.000Z'],
      [50, s.voided!.transaction_id, 'ops:ben', '2027-01-10T20:00:00.000Z'],
    ]);
    const lots = await lotsOf('vic');
    expect(lots.filter((x) => x.type === 'fraud_restore').map((x) => [x.amount, x.remaining, x.expires_at.toISOString(), x.recredit])).toEqual([
      [100, 100, '2026-04-09T20:00:00.000Z', true],
      [200, 200, '2026-09-01T20:00:00.000Z', true],
      [50, 50, '2027-01-10T20:00:00.000Z', true],
    ]);
    expect(lots.filter((x) => [z, a, b, c].includes(Number(x.id))).map((x) => x.remaining)).toEqual([0, 0, 0, 0]);
    // Restored points are not lifetime points.
    expect(await storedBalance(k, 'vic')).toEqual({ balance: 350, lifetime_points: 380, status: 'bronze' });
    expect((await readBalance(k, 'vic', LIFT_AT)).balance).toBe(350);
    // 30 days later the restored lot a is due, b and c are not.
    expect((await readBalance(k, 'vic', at('2026-04-09T20:00:00Z'))).balance).toBe(250);

    const [row] = await listSuspensions(k, { userId: 'vic' });
    expect(row).toMatchObject({
      actor: 'ops:ana', reason: 'redeem burst, SUP-1', case_id: caseRow.case_id, lifted_by: 'ops:ben', lift_reason: 'investigated: honest',
      points_voided: 350, points_restored: 350, restore_transaction_id: Number(restores[0].id), active: false,
    });
    expect(await listSuspensions(k, { active: true, userId: 'vic' })).toEqual([]);
    const liftAudit = await k('audit_log').where({ action: 'user.lift', target: 'vic' }).first('actor', 'details');
    expect(liftAudit).toMatchObject({ actor: 'ops:ben', details: { transaction_ids: restores.map((r) => Number(r.id)), points_restored: 350, void_transaction: s.voided!.transaction_id } });

    const v = await verifyLedger(k);
    expect(v.discrepancies).toEqual([]);
    const by = Object.fromEntries(v.audit.map((x) => [x.type, x]));
    expect(by.fraud_void).toMatchObject({ rows: 1, audited: 1, missing: 0 });
    expect(by.fraud_restore).toMatchObject({ rows: 3, audited: 3, missing: 0 });
  });

  it('a lift without --restore-points leaves the void in place and says how much', async () => {
    await give(k, 'other', 70, '2026-02-01T08:00:00Z');
    await suspendUser(k, { userId: 'other', reason: 'farm', actor: 'ops', voidPoints: true, now: SUSPEND_AT });
    const l = await liftUser(k, { userId: 'other', reason: 'appeal', actor: 'ops', now: LIFT_AT });
    expect(l).toMatchObject({ noop: false, restored: [], points_restored: 0, points_left_voided: 70 });
    expect((await storedBalance(k, 'other')).balance).toBe(0);
    expect((await verifyLedger(k, { userId: 'other' })).discrepancies).toEqual([]);
  });
});

describe('no-ops and bad input', () => {
  it('suspending a suspended user and lifting a free one write nothing', async () => {
    const first = await suspendUser(k, { userId: 'free', reason: 'check', actor: 'ops', now: SUSPEND_AT });
    const audits = Number((await k('audit_log').count({ n: '*' }).first())!.n);
    const again = await suspendUser(k, { userId: 'free', reason: 'again', actor: 'ops2', voidPoints: true, now: LIFT_AT });
    expect(again).toMatchObject({ noop: true, voided: null, suspension: { id: first.suspension.id, actor: 'ops', reason: 'check' } });
    await liftUser(k, { userId: 'free', reason: 'ok', actor: 'ops', now: LIFT_AT });
    const audits2 = Number((await k('audit_log').count({ n: '*' }).first())!.n);
    expect(audits2).toBe(audits + 1);
    expect(await liftUser(k, { userId: 'free', reason: 'ok', actor: 'ops', now: LIFT_AT })).toMatchObject({ noop: true, suspension: null });
    expect(Number((await k('audit_log').count({ n: '*' }).first())!.n)).toBe(audits2);
  });

  it('unknown user or case → NOT_FOUND; a case about someone else or no reason → VALIDATION_ERROR', async () => {
    expect(await rejection(suspendUser(k, { userId: 'ghost', reason: 'x', actor: 'ops', now: SUSPEND_AT }))).toMatchObject({ code: 'NOT_FOUND' });
    expect(await rejection(resolveUser(k, 'ghost@example.org'))).toMatchObject({ code: 'NOT_FOUND' });
    expect(await rejection(suspendUser(k, { userId: 'twin', reason: 'x', actor: 'ops', caseId: 999_999, now: SUSPEND_AT }))).toMatchObject({ code: 'NOT_FOUND', message: expect.stringContaining('999999') });
    const vicCase = Number((await k('fraud_cases').where({ user_id: 'vic' }).first('id')).id);
    expect(await rejection(suspendUser(k, { userId: 'twin', reason: 'x', actor: 'ops', caseId: vicCase, now: SUSPEND_AT }))).toMatchObject({ code: 'VALIDATION_ERROR', message: expect.stringContaining('about vic') });
    expect(await rejection(suspendUser(k, { userId: 'twin', reason: '  ', actor: 'ops', now: SUSPEND_AT }))).toMatchObject({ code: 'VALIDATION_ERROR', message: '--reason is required' });
    expect(await rejection(liftUser(k, { userId: 'twin', reason: '', actor: 'ops', now: SUSPEND_AT }))).toMatchObject({ code: 'VALIDATION_ERROR' });
    expect(await k('suspensions').where({ user_id: 'twin' })).toEqual([]);
  });

  it('resolveUser takes an id, or an email in any case', async () => {
    expect(await resolveUser(k, 'twin')).toMatchObject({ id: 'twin', email: 'twin@example.org' });
    expect(await resolveUser(k, 'TWIN@Example.ORG')).toMatchObject({ id: 'twin', email: 'twin@example.org' });
  });
});

describe('blocked at once, pending redemptions held', () => {
  it('collect, earn and redeem are ACCOUNT_SUSPENDED in core, and over HTTP with a token issued before', async () => {
    await give(k, 'blocked', 1000, '2026-02-01T08:00:00Z');
    const reward = await makeReward(k, 'SUSP-INSTANT', { cost: 100, stock: null });
    const now = at('2026-02-21T08:00:00Z');
    const userToken = await token('blocked');
    const svc = await token('checkout', 'service');
    await suspendUser(k, { userId: 'blocked', reason: 'farm', actor: 'ops', now: SUSPEND_AT });
    expect(await rejection(collectDaily(k, 'blocked', now, { actor: 'user:blocked' }))).toMatchObject({ code: 'ACCOUNT_SUSPENDED' });
    expect(await rejection(earn(k, 'blocked', 'review_posted', 'rev-1', now, { actor: 'service:market' }))).toMatchObject({ code: 'ACCOUNT_SUSPENDED' });
    expect(await rejection(redeem(k, 'blocked', reward, now, { actor: 'user:blocked' }))).toMatchObject({ code: 'ACCOUNT_SUSPENDED' });
    const s = await startServer(t.db, { now: now.toISOString() });
    try {
      const collect = await call(s.url, 'POST', '/api/points/collect-daily', { token: userToken });
      const redeemed = await call(s.url, 'POST', '/api/rewards/redeem', { token: userToken, body: { reward_id: reward } });
      const earned = await call(s.url, 'POST', '/api/points/earn', { token: svc, body: { user_id: 'blocked', action_type: 'review_posted', reference_id: 'rev-2' } });
      for (const a of [collect, redeemed, earned]) expect([a.status, a.body.error.code]).toEqual([403, 'ACCOUNT_SUSPENDED']);
      expect((await call(s.url, 'GET', '/api/points/balance', { token: userToken })).body.balance).toBe(1000);
    } finally {
      await s.close();
    }
    await liftUser(k, { userId: 'blocked', reason: 'cleared', actor: 'ops', now: LIFT_AT });
    expect(await redeem(k, 'blocked', reward, LIFT_AT, { actor: 'user:blocked' })).toMatchObject({ redemption: { status: 'fulfilled' } });
  });

  it('redemption approve refuses a suspended user\'s pending redemption unless forced, and audits the force', async () => {
    await give(k, 'hold', 500, '2026-02-01T08:00:00Z');
    const manual = await makeReward(k, 'SUSP-MANUAL', { cost: 100, stock: 5, fulfilment: 'manual' });
    const r1 = await redeem(k, 'hold', manual, at('2026-02-10T08:00:00Z'), { actor: 'user:hold' });
    const r2 = await redeem(k, 'hold', manual, at('2026-02-10T09:00:00Z'), { actor: 'user:hold' });
    await suspendUser(k, { userId: 'hold', reason: 'check', actor: 'ops', now: SUSPEND_AT });
    const e = await rejection(approveRedemption(k, r1.redemption.id, { actor: 'ops:zoe', now: SUSPEND_AT }));
    expect(e).toMatchObject({ code: 'ACCOUNT_SUSPENDED', message: expect.stringContaining('--force') });
    expect(await k('reward_redemptions').where({ id: r1.redemption.id }).first('status')).toEqual({ status: 'pending' });
    expect(await approveRedemption(k, r1.redemption.id, { actor: 'ops:zoe', now: SUSPEND_AT, force: true })).toMatchObject({ status: 'fulfilled', forced: true });
    expect(await k('audit_log').where({ action: 'redemption.approve', target: `redemption:${r1.redemption.id}` }).first('details')).toMatchObject({ details: { forced: true, user_suspended: true } });
    await liftUser(k, { userId: 'hold', reason: 'cleared', actor: 'ops', now: LIFT_AT });
    expect(await approveRedemption(k, r2.redemption.id, { actor: 'ops:zoe', now: LIFT_AT })).toMatchObject({ status: 'fulfilled', forced: false });
  });
});

describeMultiConnection('two operators at once', () => {
  it('concurrent suspends of one user on separate connections end with one suspension and one void', async () => {
    await give(k, 'twin', 400, '2026-02-01T08:00:00Z');
    const pools = await Promise.all([t.open(2), t.open(2), t.open(2), t.open(2)]);
    const results = await Promise.all(pools.map((p, i) => suspendUser(p.knex, { userId: 'twin', reason: `op ${i}`, actor: `ops:${i}`, voidPoints: true, now: SUSPEND_AT })));
    expect(results.filter((r) => !r.noop)).toHaveLength(1);
    expect(new Set(results.map((r) => r.suspension.id)).size).toBe(1);
    expect(await k('suspensions').where({ user_id: 'twin' }).count({ n: '*' }).first()).toEqual({ n: 1 });
    expect(await k('points_transactions').where({ user_id: 'twin', type: 'fraud_void' }).select('amount')).toEqual([{ amount: -400 }]);
    expect(await k('audit_log').where({ action: 'user.suspend', target: 'twin' }).count({ n: '*' }).first()).toEqual({ n: 1 });
    expect((await verifyLedger(k, { userId: 'twin' })).discrepancies).toEqual([]);
  });

  it('a suspension written without the lock still leaves one active row: the other yields as a no-op', async () => {
    await makeUsers(k, [{ id: 'race' }]);
    const [a, b] = await Promise.all([t.open(1), t.open(1)]);
    // The first holds its insert uncommitted; the second's insert waits on the unique index, then yields.
    const trx = await a.knex.transaction();
    await trx('suspensions').insert({ user_id: 'race', reason: 'direct', actor: 'ops', started_at: SUSPEND_AT });
    const second = suspendUser(b.knex, { userId: 'race', reason: 'core', actor: 'ops', now: SUSPEND_AT });
    await new Promise((r) => setTimeout(r, 300));
    await trx.commit();
    expect(await second).toMatchObject({ noop: true, suspension: { reason: 'direct' } });
    expect(await k('suspensions').where({ user_id: 'race' }).count({ n: '*' }).first()).toEqual({ n: 1 });
  });
});
