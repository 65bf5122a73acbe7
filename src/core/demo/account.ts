import { allocateFifo, type OpenLot } from '../ledger/index.js';
import { raiseStatus, statusFor, type ScaleVersion } from '../scale/index.js';
import { NEW_STREAK, type StreakState } from '../earning/index.js';
import type { RowBuffer } from './writers.js';
import type { DemoTerritory, DemoWorld } from './world.js';

/**
 * One simulated account in memory: its open lots, balance, lifetime points, status and streak,
 * and the ledger rows it writes. Credits open a lot; debits take lots first-expiring-first with
 * the ledger's own `allocateFifo`; statuses rise with the scale's `raiseStatus`. The rows are the
 * ones the ledger's postings write (transaction, lot or allocations, idempotency key).
 */

export interface TxFields {
  action_type?: string;
  reference_id?: string;
  streak_day?: number;
  m100?: number;
  jokers_used?: number;
  bonus_pct?: number;
  scale_version?: number;
  batch_id?: string;
  redemption_id?: number;
  actor: string;
  reason?: string;
  ticket?: string;
}

export interface Lot extends OpenLot {
  transactionId: number;
  amount: number;
  creditedAt: string;
  recredit: boolean;
}

export interface Taken {
  lotId: number;
  points: number;
  expires_at: Date;
}

export class DemoAccount {
  balance = 0;
  lifetime = 0;
  status = 'bronze';
  streak: StreakState = NEW_STREAK;
  lastChange: Date;
  /** Open lots (remaining > 0), and every lot ever opened (written once their remainder is final). */
  private lots: Lot[] = [];
  private readonly allLots: Lot[] = [];
  private readonly lotsById = new Map<number, Lot>();

  constructor(
    private readonly world: DemoWorld,
    private readonly buf: RowBuffer,
    readonly userId: string,
    private readonly t: DemoTerritory,
    createdAt: Date,
  ) {
    this.lastChange = createdAt;
  }

  /** Open a lot: one transaction row, its lot and idempotency key. Returns the transaction id. */
  credit(spec: {
    type: 'daily' | 'earn' | 'adjustment' | 'refund';
    amount: number;
    at: Date;
    day: string;
    /** The day's index in the territory's period. */
    dayIndex: number;
    key: string;
    scale: ScaleVersion;
    earning: boolean;
    expiresAt?: Date;
    fields: TxFields;
  }): number {
    const id = this.world.ids.tx++;
    const lotId = this.world.ids.lot++;
    const expiresAt = spec.expiresAt ?? this.world.lotExpiryOn(this.t, spec.dayIndex, spec.scale.document.expiry_days);
    this.balance += spec.amount;
    if (spec.earning) {
      this.lifetime += spec.amount;
      // The scale's rule, asked only when the threshold reached differs from the status held.
      const statuses = spec.scale.document.statuses;
      if (statusFor(this.lifetime, statuses).code !== this.status) this.status = raiseStatus(this.status, this.lifetime, statuses);
    }
    const at = spec.at.toISOString();
    this.txRow(id, spec.type, spec.amount, at, spec.day, this.world.iso(expiresAt), spec.key, spec.fields);
    const lot = { id: lotId, remaining: spec.amount, expires_at: expiresAt, transactionId: id, amount: spec.amount, creditedAt: at, recredit: !spec.earning };
    this.lots.push(lot);
    this.allLots.push(lot);
    this.lotsById.set(lotId, lot);
    this.lastChange = spec.at;
    return id;
  }

  /** Take points first-expiring-first; the caller made sure they are there. */
  debit(spec: { type: 'redeem' | 'expire'; amount: number; at: Date; day: string; key: string; fields: TxFields; lots?: Lot[] }): { id: number; taken: Taken[] } {
    const { allocations, shortfall } = allocateFifo(spec.lots ?? this.lots, spec.amount);
    if (shortfall > 0) throw new Error(`demo: ${this.userId} cannot pay ${spec.amount} (${shortfall} short)`);
    const id = this.world.ids.tx++;
    const taken: Taken[] = [];
    for (const a of allocations) {
      const lot = this.lotsById.get(a.lotId)!;
      lot.remaining -= a.points;
      taken.push({ lotId: a.lotId, points: a.points, expires_at: lot.expires_at });
      this.buf.allocations.push([this.userId, id, a.lotId, a.points, lot.creditedAt]);
    }
    this.lots = this.lots.filter((l) => l.remaining > 0);
    this.balance -= spec.amount;
    this.txRow(id, spec.type, -spec.amount, spec.at.toISOString(), spec.day, null, spec.key, spec.fields);
    this.lastChange = spec.at;
    return { id, taken };
  }

  /** The nightly expiry on local day `day`: every remainder due at its first instant, in one row. */
  expireDue(at: Date, day: string, actor: string): { id: number; points: number } | null {
    if (this.lots.length === 0) return null;
    const due = this.lots.filter((l) => l.expires_at.getTime() <= at.getTime()).sort((a, b) => a.id - b.id);
    if (due.length === 0) return null;
    const total = due.reduce((s, l) => s + l.remaining, 0);
    const { id } = this.debit({ type: 'expire', amount: total, at, day, key: `expire:${this.userId}:${due[0].id}`, fields: { actor }, lots: due });
    return { id, points: total };
  }

  /** Write the lots with their final remainders (after the last day of the history). */
  writeLots(): void {
    for (const l of this.allLots) {
      this.buf.lots.push([this.userId, l.id, l.transactionId, l.amount, l.remaining, l.creditedAt, this.world.iso(l.expires_at), l.recredit]);
    }
  }

  private txRow(id: number, type: string, amount: number, at: string, day: string, expiresAt: string | null, key: string, f: TxFields): void {
    this.buf.transactions.push([
      this.userId, id, type, amount, at, day, this.t.code, expiresAt, f.action_type ?? null, f.reference_id ?? null,
      f.streak_day ?? null, f.m100 ?? null, f.jokers_used ?? null, f.bonus_pct ?? null, f.scale_version ?? null, f.batch_id ?? null,
      f.redemption_id ?? null, f.actor, f.reason ?? null, f.ticket ?? null, key,
    ]);
    this.buf.keys.push([this.userId, key, id, at]);
  }
}
