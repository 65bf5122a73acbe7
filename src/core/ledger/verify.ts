import type { Knex } from 'knex';
import { auditCoverage, classifiedLedgerSql, type AuditCoverage } from './verify-audit.js';

/**
 * `rayon ledger verify`: every invariant of the ledger, checked in SQL against the stored rows.
 * Each check returns the offending rows (at most `limit` per check); an empty list means it holds.
 */

export interface Discrepancy {
  check: string;
  user_id: string | null;
  detail: Record<string, unknown>;
}

export interface VerifyResult {
  checks: Array<{ name: string; description: string; problems: number }>;
  discrepancies: Discrepancy[];
  users: number;
  /** Ledger rows by type and audit record (see verify-audit.ts for the rule). */
  audit: AuditCoverage[];
  ok: boolean;
}

interface Check {
  name: string;
  description: string;
  /** SQL returning rows with a user_id column (or null) and details; `:user` filters by user. */
  sql: (userFilter: string) => string;
}

const CHECKS: Check[] = [
  {
    name: 'balance_equals_transactions',
    description: 'balance = Σ transactions',
    sql: (f) => `select b.user_id, b.balance, coalesce(t.total, 0) as transactions
      from points_balance b
      left join (select user_id, sum(amount)::bigint as total from points_transactions group by user_id) t on t.user_id = b.user_id
      where b.balance <> coalesce(t.total, 0) ${f.replace(/\?user/g, 'b.user_id')}`,
  },
  {
    name: 'balance_equals_open_lots',
    description: 'balance = Σ remaining of lots',
    sql: (f) => `select b.user_id, b.balance, coalesce(l.remaining, 0) as lots_remaining
      from points_balance b
      left join (select user_id, sum(remaining)::bigint as remaining from points_lots group by user_id) l on l.user_id = b.user_id
      where b.balance <> coalesce(l.remaining, 0) ${f.replace(/\?user/g, 'b.user_id')}`,
  },
  {
    name: 'balance_not_negative',
    description: 'balance ≥ 0',
    sql: (f) => `select user_id, balance from points_balance where balance < 0 ${f.replace(/\?user/g, 'user_id')}`,
  },
  {
    name: 'lifetime_equals_earning_credits',
    description: 'lifetime = Σ earning credits (daily, earn, positive adjustment) − Σ reverted earning credits',
    sql: (f) => `select b.user_id, b.lifetime_points, coalesce(e.earned, 0) - coalesce(r.reverted, 0) as expected
      from points_balance b
      left join (select user_id, sum(amount)::bigint as earned from points_transactions
                  where type in ('daily', 'earn') or (type = 'adjustment' and amount > 0) group by user_id) e on e.user_id = b.user_id
      left join (select user_id, sum(lifetime_delta)::bigint as reverted from transaction_reversals group by user_id) r on r.user_id = b.user_id
      where b.lifetime_points <> coalesce(e.earned, 0) - coalesce(r.reverted, 0) ${f.replace(/\?user/g, 'b.user_id')}`,
  },
  {
    name: 'lot_remaining_matches_allocations',
    description: 'each lot: remaining = amount − Σ allocations taken from it',
    sql: (f) => `select l.user_id, l.id as lot_id, l.amount, l.remaining, coalesce(a.taken, 0) as allocated
      from points_lots l
      left join (select user_id, lot_id, sum(points)::bigint as taken from lot_allocations group by user_id, lot_id) a
        on a.user_id = l.user_id and a.lot_id = l.id
      where l.remaining <> l.amount - coalesce(a.taken, 0) ${f.replace(/\?user/g, 'l.user_id')}`,
  },
  {
    name: 'credit_has_its_lot',
    description: 'each credit opened exactly one lot of its amount',
    sql: (f) => `select t.user_id, t.id as transaction_id, t.amount, l.amount as lot_amount
      from points_transactions t
      left join points_lots l on l.user_id = t.user_id and l.transaction_id = t.id
      where t.amount > 0 and (l.id is null or l.amount <> t.amount) ${f.replace(/\?user/g, 't.user_id')}`,
  },
  {
    name: 'debit_matches_allocations',
    description: 'each debit took exactly its amount from lots',
    sql: (f) => `select t.user_id, t.id as transaction_id, t.amount, coalesce(a.taken, 0) as allocated
      from points_transactions t
      left join (select user_id, transaction_id, sum(points)::bigint as taken from lot_allocations group by user_id, transaction_id) a
        on a.user_id = t.user_id and a.transaction_id = t.id
      where t.amount < 0 and -t.amount <> coalesce(a.taken, 0) ${f.replace(/\?user/g, 't.user_id')}`,
  },
  {
    name: 'no_spend_from_expired_lot',
    description: 'no debit other than expiry took points from a lot after its expiry',
    sql: (f) => `select t.user_id, t.id as transaction_id, l.id as lot_id, l.expires_at, t.created_at
      from lot_allocations a
      join points_transactions t on t.user_id = a.user_id and t.id = a.transaction_id
      join points_lots l on l.user_id = a.user_id and l.id = a.lot_id
      where t.type <> 'expire' and t.created_at >= l.expires_at ${f.replace(/\?user/g, 't.user_id')}`,
  },
  {
    name: 'idempotency_key_points_to_transaction',
    description: 'each idempotency key names a transaction of the same user',
    sql: (f) => `select k.user_id, k.key, k.transaction_id
      from idempotency_keys k
      left join points_transactions t on t.user_id = k.user_id and t.id = k.transaction_id
      where t.id is null ${f.replace(/\?user/g, 'k.user_id')}`,
  },
  {
    name: 'ledger_rows_audited',
    description: 'each ledger row has an audit row, or is one the audit rule exempts (a user on their own account, inline expiry)',
    sql: (f) => `${classifiedLedgerSql(f.replace(/\?user/g, 't.user_id'))}
      select user_id, transaction_id, type, actor from classified where audit = 'missing'`,
  },
  {
    name: 'user_has_balance_row',
    description: 'each user has a balance row',
    sql: (f) => `select u.id as user_id from users u left join points_balance b on b.user_id = u.id where b.user_id is null ${f.replace(/\?user/g, 'u.id')}`,
  },
  {
    name: 'reward_units_match_redemptions',
    description: 'each reward: units taken = redemptions not rejected, and ≤ stock',
    sql: (f) => `select null as user_id, r.sku, r.stock, r.units_taken, coalesce(x.n, 0) as active_redemptions
      from rewards r
      left join (select reward_id, count(*)::int as n from reward_redemptions where status <> 'rejected' group by reward_id) x on x.reward_id = r.id
      where (r.units_taken <> coalesce(x.n, 0) or (r.stock is not null and r.units_taken > r.stock)) ${f ? 'and false' : ''}`,
  },
];

export async function verifyLedger(db: Knex, opts: { userId?: string; limit?: number } = {}): Promise<VerifyResult> {
  const limit = opts.limit ?? 100;
  const filter = opts.userId ? 'and ?user = :user' : '';
  const checks: VerifyResult['checks'] = [];
  const discrepancies: Discrepancy[] = [];
  for (const c of CHECKS) {
    const sql = `select * from (${c.sql(filter)}) x limit ${limit + 1}`;
    // Some checks are not per user (rewards): they take no binding.
    const { rows } = await db.raw(sql.replace(':user', '?'), opts.userId && sql.includes(':user') ? [opts.userId] : []);
    checks.push({ name: c.name, description: c.description, problems: rows.length > limit ? limit : rows.length });
    for (const r of (rows as Array<Record<string, unknown>>).slice(0, limit)) {
      const { user_id, ...detail } = r;
      discrepancies.push({ check: c.name, user_id: (user_id as string | null) ?? null, detail });
    }
  }
  const users = opts.userId
    ? Number((await db('users').where({ id: opts.userId }).count({ n: '*' }).first())?.n ?? 0)
    : Number((await db('users').count({ n: '*' }).first())?.n ?? 0);
  const audit = await auditCoverage(db, opts.userId);
  return { checks, discrepancies, users, audit, ok: discrepancies.length === 0 };
}
