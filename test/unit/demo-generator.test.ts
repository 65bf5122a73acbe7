import { describe, expect, it } from 'vitest';
import { planUser } from '../../src/core/demo/plan.js';
import { emptyLog, simulateUser } from '../../src/core/demo/simulate.js';
import { emptyBuffer, TABLES, type Row, type RowBuffer } from '../../src/core/demo/writers.js';
import { DemoWorld, territoryPeriod, type DemoTerritory } from '../../src/core/demo/world.js';
import { NEW_STREAK, streakTransition } from '../../src/core/earning/index.js';
import { DEFAULT } from '../helpers/scale-doc.js';
import { statusFor, type ScaleDocument, type ScaleVersion } from '../../src/core/scale/index.js';

/** The generator without a database: same seed, same rows; each account's rows add up as the ledger's invariants say. */

/** The default scale with a short expiry, so the generated history has expiries. */
const DOC: ScaleDocument = { ...DEFAULT, expiry_days: 20 };
const VERSION: ScaleVersion = { version: 1, effective_from: '2000-01-01', document: DOC, actor: 't', reason: 't', created_at: new Date(0) };

function generate(seed: number, users: number): RowBuffer {
  const world = new DemoWorld(seed, `d${seed}-`, [VERSION], { tx: 1, lot: 1, redemption: 1, batch: 1 });
  const t: DemoTerritory = territoryPeriod('RE', 'Indian/Reunion', '2026-09-01', '2026-11-29', false);
  t.rewards = [
    { id: 1, sku: 'A', cost: 100, fulfilment: 'instant', stock: null },
    { id: 2, sku: 'B', cost: 800, fulfilment: 'manual', stock: null },
    { id: 3, sku: 'C', cost: 2500, fulfilment: 'manual', stock: 3 },
  ];
  const buf = emptyBuffer();
  const log = emptyLog();
  for (let i = 0; i < users; i++) simulateUser(world, planUser(world, i, [t]), buf, log);
  return buf;
}

const col = (table: keyof typeof TABLES, name: string) => TABLES[table].cols.findIndex((c) => c[0] === name);
const byUser = (rows: Row[], table: keyof typeof TABLES) => {
  const m = new Map<string, Row[]>();
  for (const r of rows) {
    const u = r[col(table, 'user_id') === -1 ? 0 : col(table, 'user_id')] as string;
    m.set(u, [...(m.get(u) ?? []), r]);
  }
  return m;
};

describe('demo generator', () => {
  const buf = generate(5, 300);

  it('gives the same rows for the same seed, and others for another seed', () => {
    expect(generate(5, 300)).toEqual(buf);
    expect(generate(6, 300).transactions).not.toEqual(buf.transactions);
  });

  it('keeps every account consistent: balance = Σ transactions = Σ lot remainders; debits = their allocations', () => {
    const tx = byUser(buf.transactions, 'transactions');
    const lots = byUser(buf.lots, 'lots');
    const [amount, type, id, created] = ['amount', 'type', 'id', 'created_at'].map((c) => col('transactions', c));
    const allocations = new Map<number, number>();
    for (const a of buf.allocations) allocations.set(a[1] as number, (allocations.get(a[1] as number) ?? 0) + (a[3] as number));
    const lotExpiry = new Map(buf.lots.map((l) => [l[1] as number, l[6] as string]));
    expect(buf.balances).toHaveLength(300);
    for (const [user, balance, lifetime, status] of buf.balances) {
      const rows = tx.get(user as string) ?? [];
      expect(rows.reduce((s, r) => s + (r[amount] as number), 0)).toBe(balance);
      expect((lots.get(user as string) ?? []).reduce((s, l) => s + (l[4] as number), 0)).toBe(balance);
      const earned = rows.filter((r) => ['daily', 'earn', 'adjustment'].includes(r[type] as string)).reduce((s, r) => s + (r[amount] as number), 0);
      expect(lifetime).toBe(earned);
      expect(status).toBe(statusFor(earned, DOC.statuses).code);
      for (const r of rows.filter((x) => (x[amount] as number) < 0)) expect(allocations.get(r[id] as number)).toBe(-(r[amount] as number));
    }
    // No debit but an expiry takes from a lot at or after its expiry instant.
    for (const a of buf.allocations) {
      const debit = buf.transactions.find((r) => r[id] === a[1])!;
      if (debit[type] !== 'expire') expect(Date.parse(debit[created] as string)).toBeLessThan(Date.parse(lotExpiry.get(a[2] as number)!));
    }
    expect(new Set(buf.keys.map((k) => `${k[0]} ${k[1]}`)).size).toBe(buf.keys.length);
  });

  it('has daily rows that replay through the streak rule, jokers included', () => {
    const [type, day, streakDay, jokers] = ['type', 'local_date', 'streak_day', 'jokers_used'].map((c) => col('transactions', c));
    let bridged = 0;
    for (const rows of byUser(buf.transactions, 'transactions').values()) {
      let state = NEW_STREAK;
      for (const r of rows.filter((x) => x[type] === 'daily')) {
        const t = streakTransition(state, r[day] as string, DOC.daily);
        if (t.kind !== 'collected') throw new Error('a day collected twice');
        expect([r[streakDay], r[jokers]]).toEqual([t.streakDay, t.jokersUsed]);
        bridged += t.jokersUsed > 0 ? 1 : 0;
        state = t.next;
      }
    }
    expect(bridged).toBeGreaterThan(0);
  });

  it('spreads users over profiles: some never act, some redeem, some reach a cap', () => {
    const acting = new Set(buf.transactions.map((r) => r[0]));
    expect(acting.size).toBeGreaterThan(150);
    expect(acting.size).toBeLessThan(300);
    expect(buf.redemptions.length).toBeGreaterThan(10);
    // A stocked reward: units not given back by a rejection never exceed its stock.
    expect(buf.redemptions.filter((r) => r[2] === 3 && r[4] !== 'rejected').length).toBeLessThanOrEqual(3);
    expect(buf.transactions.some((r) => r[2] === 'expire')).toBe(true);
  });
});
