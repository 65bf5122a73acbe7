/** A row of `points_transactions`: insert-only, one per change of a balance (SPEC "Ledger"). */

export type TxType = 'daily' | 'earn' | 'adjustment' | 'redeem' | 'refund' | 'expire' | 'fraud_void' | 'fraud_restore' | 'revert';

export const EARNING_TYPES: readonly TxType[] = ['daily', 'earn', 'adjustment'];

export interface TxFields {
  action_type?: string | null;
  reference_id?: string | null;
  streak_day?: number | null;
  m100?: number | null;
  jokers_used?: number | null;
  bonus_pct?: number | null;
  scale_version?: number | null;
  batch_id?: string | null;
  reverses_id?: number | null;
  redemption_id?: number | null;
  actor?: string | null;
  reason?: string | null;
  ticket?: string | null;
}

export interface TxRow extends TxFields {
  id: number;
  user_id: string;
  type: TxType;
  amount: number;
  created_at: Date;
  local_date: string;
  territory_code: string;
  expires_at: Date | null;
  idempotency_key: string;
}

/** row_to_json gives timestamps as strings and ids as numbers; make rows uniform. */
export function normaliseTx(r: Record<string, unknown>): TxRow {
  return {
    ...(r as unknown as TxRow),
    id: Number(r.id),
    amount: Number(r.amount),
    created_at: r.created_at instanceof Date ? r.created_at : new Date(String(r.created_at)),
    expires_at: r.expires_at == null ? null : r.expires_at instanceof Date ? r.expires_at : new Date(String(r.expires_at)),
    local_date: String(r.local_date).slice(0, 10),
    reverses_id: r.reverses_id == null ? null : Number(r.reverses_id),
    redemption_id: r.redemption_id == null ? null : Number(r.redemption_id),
  };
}
