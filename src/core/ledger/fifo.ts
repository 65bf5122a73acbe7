/** First-expiring-first consumption of lots: pure, so it can be tested on its own. */
export interface OpenLot {
  id: number;
  remaining: number;
  expires_at: Date;
}

export interface Allocation {
  lotId: number;
  points: number;
}

/**
 * Take `amount` points from the lots, soonest expiry first, ties by lot id.
 * Returns what was taken from each lot and how much could not be covered.
 */
export function allocateFifo(lots: OpenLot[], amount: number): { allocations: Allocation[]; shortfall: number } {
  if (!Number.isInteger(amount) || amount < 0) throw new Error(`amount must be a non-negative integer, got ${amount}`);
  const ordered = [...lots].sort((a, b) => a.expires_at.getTime() - b.expires_at.getTime() || a.id - b.id);
  const allocations: Allocation[] = [];
  let left = amount;
  for (const lot of ordered) {
    if (left === 0) break;
    if (lot.remaining <= 0) continue;
    const take = Math.min(lot.remaining, left);
    allocations.push({ lotId: lot.id, points: take });
    left -= take;
  }
  return { allocations, shortfall: left };
}
