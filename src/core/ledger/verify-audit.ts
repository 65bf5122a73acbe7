import type { Knex } from 'knex';
import { actsOnOwnAccountSql } from '../audit/index.js';
import { INLINE_EXPIRY_ACTOR } from './post.js';

/**
 * Which ledger rows have an audit row, and which are expected not to (SPEC "Audit"). The rule:
 * every ledger row is attributed (its `actor`), and a row written by an operator (the CLI), a
 * service or an admin token has an audit row written in the same transaction. Rows that carry
 * their record themselves and have no audit row:
 * - `self`: a `daily`, `earn` or `redeem` row of a user acting on their own account through a
 *   user token (actor `user:<that user>`): the ledger row, with its actor and idempotency key, is
 *   the record (and the redemption row, for a redeem);
 * - `inline_expiry`: an `expire` row a debit wrote when it first expired the user's due lots
 *   (actor `system:expiry`); the debit itself follows the rule;
 * - `legacy_expiry`: an `expire` row without an actor, written before expiry rows were attributed
 *   (databases older than migration 20261203000080).
 * Any other row without an audit row is `missing`: `ledger verify` fails on it.
 *
 * An audit row names the ledger rows it records through its details (`transaction_id`,
 * `transaction_ids`, `refund_transactions`, `revert_transaction_id`), a correction batch
 * (`points.correct` targets the batch; `points.revert` of a batch names `revert_batch_id`), or a
 * redemption (`redemption.redeem` targets `redemption:<id>`). A new writer of ledger rows names
 * them the same way.
 */

export type AuditClass = 'audited' | 'self' | 'inline_expiry' | 'legacy_expiry' | 'missing';

/** The classes that need no audit row, with the reason `ledger verify` prints. */
export const EXPECTED_WITHOUT_AUDIT: Record<Exclude<AuditClass, 'audited' | 'missing'>, string> = {
  self: 'a user acting on their own account (actor user:<id>): the ledger row and its idempotency key are the record',
  inline_expiry: `due lots expired by a debit first (actor ${INLINE_EXPIRY_ACTOR}): the debit carries the record`,
  legacy_expiry: 'expiry written before expiry rows were attributed (no actor)',
};

// Transaction ids named in audit details: a number, or an array of numbers (anything else is ignored).
const ids = (key: string) => `
    select x::bigint from audit_log a
     cross join lateral jsonb_array_elements_text(
       case when jsonb_typeof(a.details->'${key}') = 'array' then a.details->'${key}' else '[]'::jsonb end) x
     where x ~ '^[0-9]{1,18}$'`;
const id = (key: string) => `
    select (a.details->>'${key}')::bigint from audit_log a
     where jsonb_typeof(a.details->'${key}') = 'number' and a.details->>'${key}' ~ '^[0-9]{1,18}$'`;

/**
 * Every ledger row (optionally filtered: `filter` is an `and …` clause on `t`) with its class,
 * as `classified(user_id, transaction_id, type, actor, audit)`. One pass over each table.
 */
export function classifiedLedgerSql(filter: string): string {
  return `with audited(id) as (
    ${id('transaction_id')}
    union ${id('revert_transaction_id')}
    union ${ids('transaction_ids')}
    union ${ids('refund_transactions')}
    union
    select t.id from audit_log a join points_transactions t on t.batch_id = a.target where a.action = 'points.correct'
    union
    select t.id from audit_log a join points_transactions t on t.batch_id = a.details->>'revert_batch_id' where a.action = 'points.revert'
    union
    select t.id from audit_log a join points_transactions t
        on t.type = 'redeem'
       and t.redemption_id = case when a.target ~ '^redemption:[0-9]{1,18}$' then substr(a.target, 12)::bigint end
     where a.action = 'redemption.redeem'
  ), classified as (
    select t.user_id, t.id as transaction_id, t.type, t.actor,
           case when au.id is not null then 'audited'
                when t.type in ('daily', 'earn', 'redeem') and ${actsOnOwnAccountSql('t.actor', 't.user_id')} then 'self'
                when t.type = 'expire' and t.actor = '${INLINE_EXPIRY_ACTOR}' then 'inline_expiry'
                when t.type = 'expire' and t.actor is null then 'legacy_expiry'
                else 'missing' end as audit
      from points_transactions t left join audited au on au.id = t.id
     where true ${filter}
  )`;
}

export interface AuditCoverage {
  type: string;
  rows: number;
  audited: number;
  self: number;
  inline_expiry: number;
  legacy_expiry: number;
  /** Rows that should have an audit row and have none. */
  missing: number;
}

/** Ledger rows by type: how many have an audit row, how many are expected without one, how many miss one. */
export async function auditCoverage(db: Knex, userId?: string): Promise<AuditCoverage[]> {
  const { rows } = await db.raw(
    `${classifiedLedgerSql(userId ? 'and t.user_id = ?' : '')}
     select type, count(*)::int as rows,
            count(*) filter (where audit = 'audited')::int as audited,
            count(*) filter (where audit = 'self')::int as self,
            count(*) filter (where audit = 'inline_expiry')::int as inline_expiry,
            count(*) filter (where audit = 'legacy_expiry')::int as legacy_expiry,
            count(*) filter (where audit = 'missing')::int as missing
       from classified group by type order by type`,
    userId ? [userId] : [],
  );
  return rows as AuditCoverage[];
}
