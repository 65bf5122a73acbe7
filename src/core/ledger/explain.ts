import type { Knex } from 'knex';
import { notFound } from '../errors.js';
import type { TxType } from './transaction.js';

/**
 * "Why is my balance X?" (SPEC "Support": `rayon user explain`): the balance rebuilt from the
 * ledger alone, one line per transaction with its running balance, the lot each credit opened and
 * the lots each debit or expiry consumed (from `lot_allocations`), and the comparison with what
 * is stored. With `asOf`, the account as it stood at that instant: the transactions up to it, and
 * each lot's remainder as the allocations up to it left it.
 */

export interface ConsumedLot {
  lot_id: string;
  points: number;
  /** The credit that opened the lot. */
  credit_transaction_id: string;
  credited_at: Date;
  expires_at: Date;
}

export interface ExplainedTransaction {
  id: string;
  created_at: Date;
  local_date: string;
  type: TxType;
  amount: number;
  /** Σ amounts of this row and every row before it (by time, then id). */
  running_balance: number;
  /** What the row says about itself: action and reference, reason, redemption, reverted row. */
  detail: string;
  /** The lot a credit opened (null for a debit). */
  opened_lot: { lot_id: string; expires_at: Date; recredit: boolean } | null;
  /** The lots a debit or expiry consumed, soonest-expiring first. */
  consumed: ConsumedLot[];
}

export interface OpenLotAt {
  lot_id: string;
  credit_transaction_id: string;
  amount: number;
  /** What was left of the lot at the as-of instant. */
  remaining: number;
  credited_at: Date;
  expires_at: Date;
  /** Past its expiry at the as-of instant and not yet expired by a row: never spendable, not shown. */
  due: boolean;
}

export interface BalanceExplanation {
  user_id: string;
  as_of: Date | null;
  transactions: ExplainedTransaction[];
  open_lots: OpenLotAt[];
  /** Σ of every transaction up to the as-of instant. */
  rebuilt_balance: number;
  /** Σ remaining of the open lots: stored now, or as the allocations up to the as-of instant left them. */
  lots_balance: number;
  /** The stored projection (`points_balance`); null with `asOf`, where no stored figure exists for the past. */
  stored_balance: number | null;
  /** The balance a reader sees: the rebuilt one without the lots past their expiry. */
  shown_balance: number;
  ok: boolean;
  differences: string[];
}

/** The comparison that ends an explanation: every figure that should agree, and what does not. */
export function compareBalances(rebuilt: number, lots: number, stored: number | null): { ok: boolean; differences: string[] } {
  const differences: string[] = [];
  if (lots !== rebuilt) differences.push(`open lots hold ${lots} points but the transactions add up to ${rebuilt}`);
  if (stored !== null && stored !== rebuilt) differences.push(`the stored balance is ${stored} but the transactions add up to ${rebuilt}`);
  return { ok: differences.length === 0, differences };
}

/** A one-line description of a transaction from its own columns. */
export function describeTransaction(t: {
  type: string;
  action_type?: string | null;
  reference_id?: string | null;
  streak_day?: number | null;
  jokers_used?: number | null;
  reason?: string | null;
  redemption_id?: string | number | null;
  reverses_id?: string | number | null;
  batch_id?: string | null;
  actor?: string | null;
}): string {
  const parts: string[] = [];
  if (t.type === 'daily') parts.push(`streak day ${t.streak_day}${t.jokers_used ? `, ${t.jokers_used} joker(s) used` : ''}`);
  if (t.action_type) parts.push(`${t.action_type} ${t.reference_id ?? ''}`.trim());
  if (t.redemption_id != null) parts.push(`redemption ${t.redemption_id}`);
  if (t.reverses_id != null) parts.push(`reverts ${t.reverses_id}`);
  if (t.batch_id) parts.push(t.batch_id);
  if (t.reason) parts.push(`"${t.reason}"`);
  if (t.actor && t.type !== 'daily' && t.type !== 'earn') parts.push(`by ${t.actor}`);
  return parts.join(', ');
}

const date = (v: unknown): Date => (v instanceof Date ? v : new Date(String(v)));

export async function explainBalance(db: Knex, userId: string, opts: { asOf?: Date; now: Date }): Promise<BalanceExplanation> {
  const asOf = opts.asOf ?? null;
  const stored = await db('points_balance').where({ user_id: userId }).first('balance');
  if (!stored) throw notFound('user', userId);
  // Without as-of, every row and lot counts: the bound is then simply left out.
  const upTo = (col: string) => (asOf ? `${col} <= ?` : 'true');
  const at = asOf ? [asOf] : [];

  // One statement for the lines: running balance by window, the lot a credit opened and the
  // lots a debit consumed aggregated per row.
  const { rows } = await db.raw(
    `select t.id::text as id, t.created_at, t.local_date::text as local_date, t.type, t.amount,
            t.action_type, t.reference_id, t.streak_day, t.jokers_used, t.reason, t.redemption_id::text as redemption_id,
            t.reverses_id::text as reverses_id, t.batch_id, t.actor,
            sum(t.amount) over (order by t.created_at, t.id)::bigint as running_balance,
            (select json_build_object('lot_id', l.id::text, 'expires_at', l.expires_at, 'recredit', l.recredit)
               from points_lots l where l.user_id = t.user_id and l.transaction_id = t.id limit 1) as opened_lot,
            coalesce((select json_agg(json_build_object(
                        'lot_id', a.lot_id::text, 'points', a.points, 'credit_transaction_id', l.transaction_id::text,
                        'credited_at', l.credited_at, 'expires_at', l.expires_at) order by l.expires_at, l.id)
                        from lot_allocations a join points_lots l on l.user_id = a.user_id and l.id = a.lot_id
                       where a.user_id = t.user_id and a.transaction_id = t.id), '[]'::json) as consumed
       from points_transactions t
      where t.user_id = ? and ${upTo('t.created_at')}
      order by t.created_at, t.id`,
    [userId, ...at],
  );

  // Each lot credited by then with what was left of it: at an as-of instant, what the allocations
  // made by then left; now, the stored remainder (so a lot edited by hand shows as a difference).
  const left = asOf ? 'l.amount - coalesce(sum(a.points) filter (where t.created_at <= ?), 0)' : 'l.remaining';
  const { rows: lotRows } = await db.raw(
    `select l.id::text as lot_id, l.transaction_id::text as credit_transaction_id, l.amount, l.credited_at, l.expires_at,
            (${left})::int as remaining
       from points_lots l
       left join lot_allocations a on a.user_id = l.user_id and a.lot_id = l.id
       left join points_transactions t on t.user_id = a.user_id and t.id = a.transaction_id
      where l.user_id = ? and ${upTo('l.credited_at')}
      group by l.id, l.transaction_id, l.amount, l.remaining, l.credited_at, l.expires_at
      having ${left} > 0
      order by l.expires_at, l.id`,
    [...at, userId, ...at, ...at],
  );

  const pointIn = asOf ?? opts.now;
  const transactions: ExplainedTransaction[] = rows.map((r: Record<string, unknown>) => ({
    id: r.id as string,
    created_at: date(r.created_at),
    local_date: r.local_date as string,
    type: r.type as TxType,
    amount: Number(r.amount),
    running_balance: Number(r.running_balance),
    detail: describeTransaction(r as Parameters<typeof describeTransaction>[0]),
    opened_lot: r.opened_lot ? { ...(r.opened_lot as { lot_id: string; recredit: boolean }), expires_at: date((r.opened_lot as { expires_at: unknown }).expires_at) } : null,
    consumed: (r.consumed as Array<Record<string, unknown>>).map((c) => ({
      lot_id: c.lot_id as string,
      points: Number(c.points),
      credit_transaction_id: c.credit_transaction_id as string,
      credited_at: date(c.credited_at),
      expires_at: date(c.expires_at),
    })),
  }));
  const open_lots: OpenLotAt[] = lotRows.map((l: Record<string, unknown>) => ({
    lot_id: l.lot_id as string,
    credit_transaction_id: l.credit_transaction_id as string,
    amount: Number(l.amount),
    remaining: Number(l.remaining),
    credited_at: date(l.credited_at),
    expires_at: date(l.expires_at),
    due: date(l.expires_at).getTime() <= pointIn.getTime(),
  }));
  const rebuilt = transactions.reduce((s, t) => s + t.amount, 0);
  const lots = open_lots.reduce((s, l) => s + l.remaining, 0);
  const due = open_lots.filter((l) => l.due).reduce((s, l) => s + l.remaining, 0);
  const storedBalance = asOf ? null : Number(stored.balance);
  return {
    user_id: userId,
    as_of: asOf,
    transactions,
    open_lots,
    rebuilt_balance: rebuilt,
    lots_balance: lots,
    stored_balance: storedBalance,
    shown_balance: rebuilt - due,
    ...compareBalances(rebuilt, lots, storedBalance),
  };
}
