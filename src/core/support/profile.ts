import type { Knex } from 'knex';
import { resolveUser } from '../users/index.js';
import { describeTransaction, expiringSoon, pointsHistory, readBalance, type ExpiringPoints, type HistoryItem } from '../ledger/index.js';
import { streakStatus } from '../earning/index.js';
import { scaleAt } from '../scale/index.js';
import { listRedemptions, maskVoucherCode } from '../redemption/index.js';
import { listCases, type FraudCase } from '../fraud/index.js';
import { localDate } from '../time.js';
import { localTime, nextStatus, type NextStatus } from './status.js';
import { inSnapshot } from './snapshot.js';

/**
 * One user at a glance (SPEC "Support"): everything `rayon user show` prints, read by one call.
 * Each part is one set-based read, and each rule it shows lives in its own room: the balance a
 * reader sees (ledger), "expiring soon" (ledger), the effective streak (earning), the status
 * ladder (scale). The CLI and any later HTTP face render this object; they compute nothing.
 */

export const PROFILE_TRANSACTIONS = 10;
export const PROFILE_REDEMPTIONS = 20;
export const PROFILE_AUDIT = 10;
/** Open lots listed in full; beyond that the profile gives their count and total. */
export const PROFILE_LOTS = 200;

export interface ProfileLot {
  lot_id: string;
  transaction_id: string;
  amount: number;
  remaining: number;
  credited_at: Date;
  expires_at: Date;
  recredit: boolean;
}

export interface ProfileSuspension {
  id: string;
  reason: string;
  actor: string;
  started_at: Date;
  lifted_at: Date | null;
  lifted_by: string | null;
  lift_reason: string | null;
  void_transaction_id: string | null;
  restore_transaction_id: string | null;
}

export interface ProfileAuditEntry {
  id: string;
  at: Date;
  business_at: Date | null;
  actor: string;
  action: string;
  target: string | null;
  details: Record<string, unknown>;
}

/**
 * The profile, flat where the earlier `user show --json` had a field of the same name (balance,
 * lifetime_points, status, territory, territory_state, streak, suspended, expiring_soon), so tools
 * reading those keep working.
 */
export interface UserProfile {
  id: string;
  email: string;
  name: string;
  beta: boolean;
  created_at: Date;
  /** Territory code. */
  territory: string;
  territory_name: string;
  territory_state: string;
  timezone: string;
  /** The territory's wall clock now (`YYYY-MM-DD HH:MM`) and its local date. */
  local_time: string;
  local_date: string;
  /** What the user sees: without lots already past their expiry. */
  balance: number;
  lifetime_points: number;
  status: string;
  next_status: NextStatus;
  /** Open lots, soonest expiry first (at most PROFILE_LOTS). */
  open_lots: ProfileLot[];
  open_lots_total: number;
  expiring_soon: ExpiringPoints[];
  /** The effective streak (0 once broken), as the app's streak route shows it. */
  streak: Awaited<ReturnType<typeof streakStatus>>;
  /** The last transactions, each with a one-line description (the same as `user explain` gives). */
  recent_transactions: Array<HistoryItem & { detail: string }>;
  transactions_total: number;
  redemptions: Array<{ id: number; sku: string; reward_name: string; status: string; points_spent: number; voucher: string | null; created_at: Date; decided_at: Date | null; decided_by: string | null; reason: string | null }>;
  redemptions_total: number;
  suspended: boolean;
  suspensions: ProfileSuspension[];
  open_cases: FraudCase[];
  audit: ProfileAuditEntry[];
}

export function userProfile(db: Knex, idOrEmail: string, now: Date): Promise<UserProfile> {
  return inSnapshot(db, (q) => readProfile(q, idOrEmail, now));
}

async function readProfile(db: Knex, idOrEmail: string, now: Date): Promise<UserProfile> {
  const user = await resolveUser(db, idOrEmail);
  const id = user.id;
  const territory = await db('territories').where({ code: user.territory_code }).first('code', 'name', 'timezone', 'state');
  const today = localDate(now, territory.timezone);
  // One after the other: the snapshot is one connection, which runs one statement at a time.
  const balance = await readBalance(db, id, now);
  const scale = await scaleAt(db, today);
  const lots = await openLots(db, id, now);
  const soon = await expiringSoon(db, id, now);
  const streak = await streakStatus(db, id, now);
  const history = await pointsHistory(db, id, { page: 1, limit: PROFILE_TRANSACTIONS });
  const redemptions = await listRedemptions(db, { userId: id, page: 1, limit: PROFILE_REDEMPTIONS });
  const suspensions = await userSuspensions(db, id);
  const cases = await listCases(db, { status: 'open', userId: id });
  const audit = await auditAbout(db, id, PROFILE_AUDIT);
  return {
    id,
    email: user.email,
    name: user.name,
    beta: user.beta,
    created_at: new Date(user.created_at),
    territory: territory.code,
    territory_name: territory.name,
    territory_state: territory.state,
    timezone: territory.timezone,
    local_time: localTime(now, territory.timezone),
    local_date: today,
    balance: balance.balance,
    lifetime_points: balance.lifetime_points,
    status: balance.status,
    next_status: nextStatus(balance.status, balance.lifetime_points, scale.document.statuses),
    open_lots: lots.lots,
    open_lots_total: lots.total,
    expiring_soon: soon,
    streak,
    recent_transactions: history.items.map((x) => ({ ...x, detail: describeTransaction(x) })),
    transactions_total: history.total,
    redemptions: redemptions.items.map((r) => ({
      id: r.id, sku: r.sku, reward_name: r.reward_name, status: r.status, points_spent: r.points_spent,
      voucher: r.voucher_code ? maskVoucherCode(r.voucher_code) : null,
      created_at: r.created_at, decided_at: r.decided_at, decided_by: r.decided_by, reason: r.reason,
    })),
    redemptions_total: redemptions.total,
    suspended: suspensions.some((s) => s.lifted_at === null),
    suspensions,
    open_cases: cases,
    audit,
  };
}

/** The lots a reader may still spend: something left and not past the expiry instant, soonest first. */
async function openLots(db: Knex, userId: string, now: Date): Promise<{ lots: ProfileLot[]; total: number }> {
  const rows: Array<Record<string, unknown>> = await db('points_lots')
    .select('id', 'transaction_id', 'amount', 'remaining', 'credited_at', 'expires_at', 'recredit', db.raw('count(*) over ()::int as total'))
    .where({ user_id: userId })
    .andWhere('remaining', '>', 0)
    .andWhere('expires_at', '>', now)
    .orderBy([{ column: 'expires_at' }, { column: 'id' }])
    .limit(PROFILE_LOTS);
  return {
    total: rows.length ? Number(rows[0].total) : 0,
    lots: rows.map((r) => ({
      lot_id: String(r.id), transaction_id: String(r.transaction_id), amount: Number(r.amount), remaining: Number(r.remaining),
      credited_at: new Date(r.credited_at as string), expires_at: new Date(r.expires_at as string), recredit: Boolean(r.recredit),
    })),
  };
}

async function userSuspensions(db: Knex, userId: string): Promise<ProfileSuspension[]> {
  const rows: Array<Record<string, unknown>> = await db('suspensions')
    .select('id', 'reason', 'actor', 'started_at', 'lifted_at', 'lifted_by', 'lift_reason', 'void_transaction_id', 'restore_transaction_id')
    .where({ user_id: userId })
    .orderBy([{ column: 'started_at', order: 'desc' }, { column: 'id', order: 'desc' }]);
  const opt = (v: unknown) => (v == null ? null : String(v));
  return rows.map((r) => ({
    id: String(r.id), reason: r.reason as string, actor: r.actor as string, started_at: new Date(r.started_at as string),
    lifted_at: r.lifted_at ? new Date(r.lifted_at as string) : null, lifted_by: opt(r.lifted_by), lift_reason: opt(r.lift_reason),
    void_transaction_id: opt(r.void_transaction_id), restore_transaction_id: opt(r.restore_transaction_id),
  }));
}

/**
 * The last audit entries about a user: rows targeting the user, one of their redemptions, one of
 * their transactions (a revert) or a correction batch that touched them. Each branch is a lookup
 * on the audit log's target index, so the log's size does not matter.
 */
export async function auditAbout(db: Knex, userId: string, limit: number): Promise<ProfileAuditEntry[]> {
  const { rows } = await db.raw(
    `with keys as (
       select :user::text as k
       union all select 'redemption:' || r.id from reward_redemptions r where r.user_id = :user
       union all select t.id::text from points_transactions t where t.user_id = :user and t.type in ('daily', 'earn', 'adjustment')
       union select t.batch_id from points_transactions t where t.user_id = :user and t.batch_id is not null
     )
     select distinct a.id::text as id, a.id as n, a.at, a.business_at, a.actor, a.action, a.target, a.details
       from keys join audit_log a on a.target = keys.k
      order by a.id desc
      limit :limit`,
    { user: userId, limit },
  );
  return (rows as Array<Record<string, unknown>>).map((r) => ({
    id: r.id as string,
    at: new Date(r.at as string),
    business_at: r.business_at ? new Date(r.business_at as string) : null,
    actor: r.actor as string,
    action: r.action as string,
    target: (r.target as string | null) ?? null,
    details: typeof r.details === 'string' ? JSON.parse(r.details) : (r.details as Record<string, unknown>),
  }));
}
