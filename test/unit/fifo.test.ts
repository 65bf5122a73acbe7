import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { allocateFifo, type OpenLot } from '../../src/core/ledger/index.js';

const lot = (id: number, remaining: number, iso: string): OpenLot => ({ id, remaining, expires_at: new Date(iso) });

describe('allocateFifo', () => {
  it('takes the soonest-expiring lot first, ties by lot id', () => {
    const lots = [lot(3, 10, '2027-01-02T00:00:00Z'), lot(2, 10, '2027-01-01T00:00:00Z'), lot(1, 10, '2027-01-02T00:00:00Z')];
    expect(allocateFifo(lots, 25)).toEqual({
      allocations: [
        { lotId: 2, points: 10 },
        { lotId: 1, points: 10 },
        { lotId: 3, points: 5 },
      ],
      shortfall: 0,
    });
  });

  it('reports what it could not cover and skips empty lots', () => {
    const lots = [lot(1, 0, '2026-12-01T00:00:00Z'), lot(2, 7, '2027-01-01T00:00:00Z')];
    expect(allocateFifo(lots, 10)).toEqual({ allocations: [{ lotId: 2, points: 7 }], shortfall: 3 });
    expect(allocateFifo([], 4)).toEqual({ allocations: [], shortfall: 4 });
    expect(allocateFifo(lots, 0)).toEqual({ allocations: [], shortfall: 0 });
  });

  it('does not reorder the caller’s array', () => {
    const lots = [lot(2, 1, '2027-01-02T00:00:00Z'), lot(1, 1, '2027-01-01T00:00:00Z')];
    allocateFifo(lots, 2);
    expect(lots.map((l) => l.id)).toEqual([2, 1]);
  });

  it('refuses a negative or fractional amount', () => {
    expect(() => allocateFifo([], -1)).toThrow(/non-negative integer/);
    expect(() => allocateFifo([], 1.5)).toThrow(/non-negative integer/);
  });

  const lotsArb = fc
    .uniqueArray(
      fc.record({
        id: fc.integer({ min: 1, max: 10_000 }),
        remaining: fc.integer({ min: 0, max: 500 }),
        // Few distinct instants, so ties on expiry are common.
        day: fc.integer({ min: 0, max: 5 }),
      }),
      { selector: (l) => l.id, maxLength: 25 },
    )
    .map((ls) => ls.map((l) => ({ id: l.id, remaining: l.remaining, expires_at: new Date(Date.UTC(2027, 0, 1 + l.day)) })));

  it('property: never more than asked nor than a lot holds; Σ taken + shortfall = amount', () => {
    fc.assert(
      fc.property(lotsArb, fc.integer({ min: 0, max: 20_000 }), (lots, amount) => {
        const { allocations, shortfall } = allocateFifo(lots, amount);
        const byId = new Map(lots.map((l) => [l.id, l]));
        const taken = allocations.reduce((s, a) => s + a.points, 0);
        expect(taken + shortfall).toBe(amount);
        expect(taken).toBeLessThanOrEqual(amount);
        expect(shortfall).toBeGreaterThanOrEqual(0);
        const total = lots.reduce((s, l) => s + l.remaining, 0);
        expect(shortfall).toBe(Math.max(0, amount - total));
        expect(new Set(allocations.map((a) => a.lotId)).size).toBe(allocations.length);
        for (const a of allocations) {
          expect(a.points).toBeGreaterThan(0);
          expect(a.points).toBeLessThanOrEqual(byId.get(a.lotId)!.remaining);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('property: soonest expiry first, ties by id, and only the last lot taken is partial', () => {
    fc.assert(
      fc.property(lotsArb, fc.integer({ min: 1, max: 20_000 }), (lots, amount) => {
        const { allocations } = allocateFifo(lots, amount);
        const byId = new Map(lots.map((l) => [l.id, l]));
        const key = (id: number) => [byId.get(id)!.expires_at.getTime(), id] as const;
        for (let i = 1; i < allocations.length; i++) {
          const [ea, ia] = key(allocations[i - 1].lotId);
          const [eb, ib] = key(allocations[i].lotId);
          expect(ea < eb || (ea === eb && ia < ib)).toBe(true);
        }
        // Every lot before the last one taken was emptied; a non-empty lot ordered before the
        // last taken lot is never skipped.
        allocations.slice(0, -1).forEach((a) => expect(a.points).toBe(byId.get(a.lotId)!.remaining));
        if (allocations.length) {
          const last = key(allocations[allocations.length - 1].lotId);
          const used = new Set(allocations.map((a) => a.lotId));
          for (const l of lots) {
            const k = key(l.id);
            const before = k[0] < last[0] || (k[0] === last[0] && k[1] < last[1]);
            if (before && l.remaining > 0) expect(used.has(l.id)).toBe(true);
          }
        }
      }),
      { numRuns: 500 },
    );
  });
});
