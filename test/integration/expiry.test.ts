import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, type TestDb } from '../helpers/db.js';
import { makeUsers } from '../helpers/fixtures.js';
import { auditedDebit, give, ledgerCounts, rejection, storedBalance } from '../helpers/ledger-setup.js';
import { expirePoints, expiringSoon, lockAccount, readBalance, verifyLedger } from '../../src/core/ledger/index.js';
import { listAudit } from '../../src/core/audit/index.js';

let t: TestDb;
const NOW = new Date('2026-11-25T08:00:00Z');

beforeAll(async () => {
  t = await createTestDb();
  const k = t.db.knex;
  await makeUsers(k, ['e1', 'e2', 'e3', 'e4', 'e5'].map((id) => ({ id })));
  // e1: a lot credited 2025-11-01 (RE) expires at 2026-11-01T20:00Z, fully due.
  await give(k, 'e1', 100, '2025-11-01T08:00:00Z');
  // e2: a due lot partly spent (30 of 80 left), and a fresh one.
  await give(k, 'e2', 80, '2025-11-10T08:00:00Z');
  await give(k, 'e2', -50, '2026-01-10T08:00:00Z');
  await give(k, 'e2', 40, '2026-06-01T08:00:00Z');
  // e3: nothing due yet.
  await give(k, 'e3', 60, '2026-01-01T08:00:00Z');
  // e4: a lot expiring at 2026-11-24T20:00Z (credited local 2025-11-24) and one not due.
  await give(k, 'e4', 25, '2025-11-24T08:00:00Z');
  await give(k, 'e4', 5, '2025-11-25T08:00:00Z'); // expires 2026-11-25T20:00Z: later than NOW
});
afterAll(async () => t?.destroy());

describe('reads hide due lots', () => {
  it('readBalance counts only lots not yet past their expiry instant', async () => {
    const k = t.db.knex;
    expect((await storedBalance(k, 'e1')).balance).toBe(100);
    expect((await readBalance(k, 'e1', NOW)).balance).toBe(0);
    expect((await readBalance(k, 'e1', new Date('2026-11-01T19:59:59.999Z'))).balance).toBe(100);
    expect((await readBalance(k, 'e1', new Date('2026-11-01T20:00:00Z'))).balance).toBe(0); // the expiry instant itself
    expect((await readBalance(k, 'e2', NOW)).balance).toBe(40);
    expect((await readBalance(k, 'e4', NOW)).balance).toBe(5);
    expect(await expiringSoon(k, 'e4', NOW)).toEqual([{ points: 5, expires_at: new Date('2026-11-25T20:00:00Z') }]);
    expect((await rejection(readBalance(k, 'nobody', NOW))).message).toMatch(/not found/);
  });
});

describe('expirePoints', () => {
  it('refuses --as-of later than now', async () => {
    const e = await rejection(expirePoints(t.db.knex, { asOf: new Date('2026-11-26T00:00:00Z'), now: NOW, actor: 'ops' }));
    expect(e.code).toBe('VALIDATION_ERROR');
    expect(e.message).toMatch(/later than now/);
  });

  it('dry run counts what is due and writes nothing', async () => {
    const k = t.db.knex;
    const before = await ledgerCounts(k);
    const r = await expirePoints(k, { asOf: NOW, now: NOW, actor: 'ops', dryRun: true });
    expect(r).toMatchObject({ dryRun: true, users: 3, lots: 3, points: 100 + 30 + 25 });
    expect(await ledgerCounts(k)).toEqual(before);
  });

  it('an --as-of in the past expires only what was due then', async () => {
    const k = t.db.knex;
    const r = await expirePoints(k, { asOf: new Date('2026-11-05T00:00:00Z'), now: NOW, actor: 'ops', dryRun: true });
    expect(r).toMatchObject({ users: 1, points: 100 });
  });

  it('expires exactly the due remainders, in small batches, then finds nothing the second time', async () => {
    const k = t.db.knex;
    const progress: number[] = [];
    const r = await expirePoints(k, { asOf: NOW, now: NOW, actor: 'ops-cron', batchSize: 1, onProgress: (p) => progress.push(p.points) });
    expect(r).toMatchObject({ dryRun: false, users: 3, lots: 3, points: 155, batches: 3 });
    expect(progress).toEqual([100, 130, 155]);
    expect(await storedBalance(k, 'e1')).toMatchObject({ balance: 0, lifetime_points: 100 });
    expect((await storedBalance(k, 'e2')).balance).toBe(40);
    expect((await storedBalance(k, 'e3')).balance).toBe(60);
    expect((await storedBalance(k, 'e4')).balance).toBe(5);
    const rows = await k('points_transactions').where({ type: 'expire' }).orderBy('user_id').select('user_id', 'amount', 'created_at');
    expect(rows.map((x) => [x.user_id, x.amount])).toEqual([
      ['e1', -100],
      ['e2', -30],
      ['e4', -25],
    ]);
    expect(rows.every((x) => new Date(x.created_at).getTime() === NOW.getTime())).toBe(true);
    const audit = await listAudit(k, { action: 'points.expire' });
    expect(audit.map((a) => a.details.points).sort()).toEqual([100, 25, 30].sort());
    expect(audit[0].actor).toBe('ops-cron');
    // The run's rows carry its actor, and its audit rows name each of them.
    const expired = await k('points_transactions').where({ type: 'expire' }).orderBy('id').select('id', 'actor');
    expect(expired.map((x) => x.actor)).toEqual(['ops-cron', 'ops-cron', 'ops-cron']);
    expect(audit.flatMap((a) => a.details.transaction_ids).sort()).toEqual(expired.map((x) => Number(x.id)).sort());

    const before = await ledgerCounts(k);
    const again = await expirePoints(k, { asOf: NOW, now: NOW, actor: 'ops' });
    expect(again).toMatchObject({ users: 0, points: 0, lots: 0, batches: 0 });
    expect(await ledgerCounts(k)).toEqual(before);
    expect((await verifyLedger(k)).ok).toBe(true);
  });

  it('a debit after the expiry instant cannot spend expired points: it expires them first', async () => {
    const k = t.db.knex;
    // e5: 70 points credited local 2025-11-20 (expire 2026-11-20T20:00Z), 10 fresh ones.
    await give(k, 'e5', 70, '2025-11-20T08:00:00Z');
    await give(k, 'e5', 10, '2026-11-01T08:00:00Z');
    expect((await storedBalance(k, 'e5')).balance).toBe(80);
    const before = await ledgerCounts(k);
    const e = await rejection(
      k.transaction(async (trx) => auditedDebit(trx, await lockAccount(trx, 'e5'), { type: 'adjustment', amount: 50, now: NOW, key: 'test:e5:1' })),
    );
    expect(e.code).toBe('INSUFFICIENT_BALANCE');
    expect(e.message).toMatch(/has 10 points available, 50 needed/);
    expect(await ledgerCounts(k)).toEqual(before); // the refused debit rolled its expiry back too

    const d = await k.transaction(async (trx) => auditedDebit(trx, await lockAccount(trx, 'e5'), { type: 'adjustment', amount: 10, now: NOW, key: 'test:e5:2' }));
    expect(d?.balance).toBe(0);
    const types = await k('points_transactions').where({ user_id: 'e5' }).orderBy('id').select('type', 'amount');
    expect(types.slice(-2)).toEqual([
      { type: 'expire', amount: -70 },
      { type: 'adjustment', amount: -10 },
    ]);
    // The expiry the debit wrote first is attributed to the expiry rule on the row itself, with no
    // audit row of its own; ledger verify counts it as expected.
    const inline = await k('points_transactions').where({ user_id: 'e5', type: 'expire' }).first('id', 'actor');
    expect(inline.actor).toBe('system:expiry');
    expect(await k('audit_log').whereRaw("details->>'transaction_id' = ?", [String(inline.id)]).first()).toBeUndefined();
    const v = await verifyLedger(k);
    expect(v.ok).toBe(true);
    expect(v.audit.find((a) => a.type === 'expire')).toMatchObject({ rows: 4, audited: 3, inline_expiry: 1, missing: 0 });
  });
});
