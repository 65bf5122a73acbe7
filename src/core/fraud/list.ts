import type { Knex } from 'knex';
import { notFound } from '../errors.js';

/** `rayon fraud list`: suspensions with who, why, the case, and the points voided and restored. */

export interface Suspension {
  id: number;
  user_id: string;
  reason: string;
  actor: string;
  case_id: number | null;
  started_at: Date;
  lifted_at: Date | null;
  lifted_by: string | null;
  lift_reason: string | null;
  void_transaction_id: number | null;
  restore_transaction_id: number | null;
  points_voided: number;
  points_restored: number;
  active: boolean;
}

// The restore rows of a suspension are the `fraud_restore` rows that name its void (reverses_id);
// its case is named by its `user.suspend` audit row, written in the suspension's transaction.
const SELECT = `
  select s.id, s.user_id, s.reason, s.actor,
         (select (a.details->>'case_id')::bigint from audit_log a
           where a.target = s.user_id and a.action = 'user.suspend' and a.details->>'suspension_id' = s.id::text
           order by a.id limit 1) as case_id,
         s.started_at, s.lifted_at, s.lifted_by, s.lift_reason,
         s.void_transaction_id, s.restore_transaction_id,
         coalesce(-v.amount, 0)::int as points_voided, coalesce(r.points, 0)::int as points_restored,
         s.lifted_at is null as active
    from suspensions s
    left join points_transactions v on v.user_id = s.user_id and v.id = s.void_transaction_id
    left join lateral (
      select sum(t.amount) as points from points_transactions t
       where t.user_id = s.user_id and t.type = 'fraud_restore' and t.reverses_id = s.void_transaction_id
    ) r on true`;

function normalise(r: Record<string, unknown>): Suspension {
  const n = (v: unknown) => (v == null ? null : Number(v));
  return { ...(r as unknown as Suspension), id: Number(r.id), case_id: n(r.case_id), void_transaction_id: n(r.void_transaction_id), restore_transaction_id: n(r.restore_transaction_id) };
}

export async function listSuspensions(db: Knex, filter: { active?: boolean; userId?: string; limit?: number } = {}): Promise<Suspension[]> {
  const where: string[] = [];
  const bindings: unknown[] = [];
  if (filter.active) where.push('s.lifted_at is null');
  if (filter.userId) {
    where.push('s.user_id = ?');
    bindings.push(filter.userId);
  }
  const { rows } = await db.raw(
    `${SELECT} ${where.length ? `where ${where.join(' and ')}` : ''} order by s.started_at desc, s.id desc limit ?`,
    [...bindings, filter.limit ?? 1000] as Knex.RawBinding[],
  );
  return (rows as Array<Record<string, unknown>>).map(normalise);
}

export async function getSuspension(db: Knex, userId: string, id: number): Promise<Suspension> {
  const { rows } = await db.raw(`${SELECT} where s.user_id = ? and s.id = ?`, [userId, id]);
  if (!rows[0]) throw notFound('suspension', String(id));
  return normalise(rows[0]);
}
