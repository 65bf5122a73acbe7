import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, type TestDb } from '../helpers/db.js';
import { makeUsers } from '../helpers/fixtures.js';
import { correctionsFile, give, ledgerCounts, rejection, storedBalance } from '../helpers/ledger-setup.js';
import { adjustPoints, applyCorrections } from '../../src/core/corrections/index.js';
import { verifyLedger } from '../../src/core/ledger/index.js';
import { listAudit } from '../../src/core/audit/index.js';

let t: TestDb;
const NOW = new Date('2026-11-25T08:00:00Z');
const opts = { now: NOW, actor: 'ops-anne' };

beforeAll(async () => {
  t = await createTestDb();
  await makeUsers(t.db.knex, ['c1', 'c2', 'c3', 'c4', 'c5', 'c6', 'c7', 'c8', 'c9'].map((id) => ({ id })));
});
afterAll(async () => t?.destroy());

describe('bulk corrections', () => {
  it('the same file applied twice: the second run changes nothing and says so', async () => {
    const k = t.db.knex;
    await give(k, 'c3', 40, NOW);
    const file = correctionsFile(['c1,100,missed award,SUP-1,r1', 'c2,50,missed award,SUP-2,r2', 'c3,-10,duplicate,SUP-3,r3']);
    const first = await applyCorrections(k, file, opts);
    expect(first.batchId).toMatch(/^batch_[0-9a-f]{16}$/);
    expect(first.applied.map((a) => [a.userId, a.applied, a.balance])).toEqual([
      ['c1', 100, 100],
      ['c2', 50, 50],
      ['c3', -10, 30],
    ]);
    const batch = await k('correction_batches').where({ id: first.batchId }).first();
    expect(batch).toMatchObject({ kind: 'file', actor: 'ops-anne', file_name: 'corrections.csv', file_sha256: file.sha256, rows_total: 3, rows_applied: 3 });
    const txs = await k('points_transactions').where({ batch_id: first.batchId }).orderBy('id');
    expect(txs.map((x) => [x.user_id, x.amount, x.idempotency_key, x.reason, x.ticket, x.actor])).toEqual([
      ['c1', 100, 'correct:c1:r1', 'missed award', 'SUP-1', 'ops-anne'],
      ['c2', 50, 'correct:c2:r2', 'missed award', 'SUP-2', 'ops-anne'],
      ['c3', -10, 'correct:c3:r3', 'duplicate', 'SUP-3', 'ops-anne'],
    ]);
    const audit = await listAudit(k, { action: 'points.correct', target: first.batchId! });
    expect(audit).toHaveLength(1);
    expect(audit[0].details).toMatchObject({ rows: 3, applied: 3, skipped: 0, points: 140 });

    const before = await ledgerCounts(k);
    const second = await applyCorrections(k, file, opts);
    expect(second).toEqual({ batchId: null, applied: [], skipped: expect.any(Array), total: 3, dryRun: false });
    expect(second.skipped.map((s) => s.ref)).toEqual(['r1', 'r2', 'r3']);
    expect(await ledgerCounts(k)).toEqual(before);
    expect((await verifyLedger(k)).ok).toBe(true);
  });

  it('the file re-sent with one line fixed applies only that line', async () => {
    const k = t.db.knex;
    const v1 = correctionsFile(['c4,10,goodwill,,a1', 'c5,20,goodwill,,a2', 'c6,30,goodwill,,a3']);
    await applyCorrections(k, v1, opts);
    // a3 should have been 300: ops add the fixing line under its own ref and send the file again.
    const v2 = correctionsFile(['c4,10,goodwill,,a1', 'c5,20,goodwill,,a2', 'c6,30,goodwill,,a3', 'c6,270,goodwill (fix of a3),,a3-fix']);
    const r = await applyCorrections(k, v2, opts);
    expect(r.applied.map((a) => [a.userId, a.ref, a.applied])).toEqual([['c6', 'a3-fix', 270]]);
    expect(r.skipped.map((s) => s.ref)).toEqual(['a1', 'a2', 'a3']);
    expect(await k('correction_batches').where({ id: r.batchId }).first('rows_total', 'rows_applied')).toEqual({ rows_total: 4, rows_applied: 1 });
    expect((await storedBalance(k, 'c4')).balance).toBe(10);
    expect((await storedBalance(k, 'c5')).balance).toBe(20);
    expect((await storedBalance(k, 'c6')).balance).toBe(300);
  });

  it('a file naming an unknown user writes nothing and names the line', async () => {
    const k = t.db.knex;
    const before = await ledgerCounts(k);
    const file = correctionsFile(['c7,10,ok,,u1', 'ghost-user,5,ok,,u2', 'c8,10,ok,,u3']);
    const e = await rejection(applyCorrections(k, file, opts));
    expect(e.code).toBe('VALIDATION_ERROR');
    expect(e.details).toEqual([{ where: 'line 3, column user_id', message: 'unknown user "ghost-user"' }]);
    expect(await ledgerCounts(k)).toEqual(before);
  });

  it('a debit beyond the balance refuses the whole file (INSUFFICIENT_BALANCE, nothing written)', async () => {
    const k = t.db.knex;
    await give(k, 'c8', 100, NOW);
    const before = await ledgerCounts(k);
    // c7's credit sorts before c8's debit: it must be rolled back too.
    const file = correctionsFile(['c8,-150,clawback,,d1', 'c7,25,goodwill,,d2']);
    const e = await rejection(applyCorrections(k, file, opts));
    expect(e.code).toBe('INSUFFICIENT_BALANCE');
    expect(e.message).toMatch(/^line 2: user c8 has 100 points available, 150 needed \(use --clamp/);
    expect(await ledgerCounts(k)).toEqual(before);

    const clamped = await applyCorrections(k, file, { ...opts, clamp: true });
    const c8 = clamped.applied.find((a) => a.userId === 'c8')!;
    expect([c8.requested, c8.applied, c8.shortfall, c8.balance]).toEqual([-150, -100, 50, 0]);
    expect((await storedBalance(k, 'c7')).balance).toBe(25);
    const audit = await listAudit(k, { target: clamped.batchId! });
    expect(audit[0].details).toMatchObject({ shortfall: 50, points: -75 });
    expect((await verifyLedger(k)).ok).toBe(true);
  });

  it('dry run reports what would change and writes nothing', async () => {
    const k = t.db.knex;
    const before = await ledgerCounts(k);
    const r = await applyCorrections(k, correctionsFile(['c9,42,goodwill,,dry1']), { ...opts, dryRun: true });
    expect(r.dryRun).toBe(true);
    expect(r.applied.map((a) => [a.userId, a.applied, a.balance])).toEqual([['c9', 42, 42]]);
    expect(await ledgerCounts(k)).toEqual(before);
    // and the real run still applies it
    const real = await applyCorrections(k, correctionsFile(['c9,42,goodwill,,dry1']), opts);
    expect(real.applied).toHaveLength(1);
  });
});

describe('manual adjustments', () => {
  it('credits and debits as their own batch, with an audit row', async () => {
    const k = t.db.knex;
    await makeUsers(k, [{ id: 'm1' }]);
    const r = await adjustPoints(k, { userId: 'm1', amount: 150, reason: 'missed award', ticket: 'SUP-9' }, opts);
    expect([r.applied, r.balance, r.shortfall]).toEqual([150, 150, 0]);
    const d = await adjustPoints(k, { userId: 'm1', amount: -50, reason: 'duplicate' }, opts);
    expect([d.applied, d.balance]).toEqual([-50, 100]);
    const batches = await k('correction_batches').whereIn('id', [r.batchId, d.batchId]).select('kind', 'reason', 'ticket').orderBy('created_at');
    expect(batches.map((b) => b.kind)).toEqual(['manual', 'manual']);
    const audit = await listAudit(k, { action: 'points.adjust', target: 'm1' });
    expect(audit.map((a) => a.details.amount)).toEqual([-50, 150]);
    expect(audit[0].actor).toBe('ops-anne');
  });

  it('a debit beyond the balance is refused, nothing written; --clamp takes what is left', async () => {
    const k = t.db.knex;
    await makeUsers(k, [{ id: 'm2' }]);
    await give(k, 'm2', 30, NOW);
    const before = await ledgerCounts(k);
    const e = await rejection(adjustPoints(k, { userId: 'm2', amount: -50, reason: 'clawback' }, opts));
    expect(e.code).toBe('INSUFFICIENT_BALANCE');
    expect(await ledgerCounts(k)).toEqual(before);
    const c = await adjustPoints(k, { userId: 'm2', amount: -50, reason: 'clawback', clamp: true }, opts);
    expect([c.requested, c.applied, c.shortfall, c.balance]).toEqual([-50, -30, 20, 0]);
    // Nothing left: even with clamp there is nothing to take.
    const e2 = await rejection(adjustPoints(k, { userId: 'm2', amount: -5, reason: 'clawback', clamp: true }, opts));
    expect(e2.code).toBe('INSUFFICIENT_BALANCE');
  });

  it('bad input: zero, fractional, no reason, unknown user', async () => {
    const k = t.db.knex;
    expect((await rejection(adjustPoints(k, { userId: 'm1', amount: 0, reason: 'x' }, opts))).code).toBe('VALIDATION_ERROR');
    expect((await rejection(adjustPoints(k, { userId: 'm1', amount: 1.5, reason: 'x' }, opts))).code).toBe('VALIDATION_ERROR');
    expect((await rejection(adjustPoints(k, { userId: 'm1', amount: 5, reason: '  ' }, opts))).code).toBe('VALIDATION_ERROR');
    expect((await rejection(adjustPoints(k, { userId: 'nobody', amount: 5, reason: 'x' }, opts))).code).toBe('NOT_FOUND');
  });
});
