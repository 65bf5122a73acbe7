import type { Knex } from 'knex';

/**
 * What the app role may write, table by table (see roles.ts). Every table of the schema is
 * readable; nothing here is deleted, truncated or altered. Found from every INSERT, UPDATE and
 * ON CONFLICT … DO UPDATE of src/core and src/http on the paths `rayon serve` and the scheduled
 * and ledger jobs take (collections, earns, redemptions and their decisions, corrections,
 * reverts, the expiry run, users pushed by the accounts system, request statistics) — and the
 * triggers they fire, which run with the role's privileges (a reward selling out flips its
 * catalog offers' `sold_out`). Catalog and partner imports, scale changes, territory launches
 * and migrations are the owner's. The scheduled fraud scan opens and refreshes review cases, and
 * suspensions (with their void and restore) run on the same grants, so an on-call operator holding
 * the app role can act on a case within the hour; fraud rule settings stay the owner's.
 */
export const APP_WRITES: Record<string, { insert?: boolean; update?: readonly string[] }> = {
  // Insert-only: the ledger, its allocations and keys, the audit log, the records of corrections.
  points_transactions: { insert: true },
  lot_allocations: { insert: true },
  idempotency_keys: { insert: true },
  audit_log: { insert: true },
  correction_batches: { insert: true },
  transaction_reversals: { insert: true },
  refused_earns: { insert: true },
  // Projections and counters the hot paths keep in step with the ledger.
  points_lots: { insert: true, update: ['remaining'] },
  points_balance: { insert: true, update: ['balance', 'lifetime_points', 'status', 'updated_at'] },
  streaks: { insert: true, update: ['current_streak', 'max_streak', 'last_check_in', 'jokers_available', 'updated_at'] },
  users: { insert: true, update: ['email', 'name', 'territory_code', 'beta', 'created_at', 'updated_at'] },
  reward_redemptions: { insert: true, update: ['status', 'decided_at', 'decided_by', 'reason', 'refund_transaction_id'] },
  rewards: { update: ['units_taken'] },
  catalog_offers: { update: ['sold_out'] },
  request_idempotency: { insert: true, update: ['fingerprint', 'created_at', 'expires_at', 'status_code', 'response'] },
  http_request_stats: { insert: true, update: ['requests', 'duration_us_sum', 'bucket_counts'] },
  // The fraud scan's cases (and dismissals, and a suspension marking them actioned); suspensions.
  fraud_cases: { insert: true, update: ['status', 'score', 'evidence', 'figures', 'evidence_until', 'last_seen', 'dismissed_at', 'dismissed_by', 'dismiss_reason', 'actioned_at'] },
  suspensions: { insert: true, update: ['lifted_at', 'lifted_by', 'lift_reason', 'void_transaction_id', 'restore_transaction_id'] },
};

export interface Grant {
  /** `table points_lots`, `sequence reward_redemptions_id_seq`, `schema public`, `database rayon`. */
  object: string;
  /** `SELECT`, `INSERT`, `UPDATE(remaining)`, `USAGE`, `CONNECT`, … */
  privileges: string[];
}

const ORDER = ['CONNECT', 'TEMPORARY', 'CREATE', 'USAGE', 'SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER', 'EXECUTE'];

/**
 * The privileges granted to the role itself, read from the catalog (aclexplode of the ACLs):
 * on the schema's tables (whole-table and per column), sequences and functions, the schema,
 * and the current database when `database` is given.
 */
export async function readGrants(db: Knex, role: string, schema: string, database: string | null): Promise<Grant[]> {
  const { rows } = await db.raw(
    `with r as (select oid from pg_roles where rolname = :role), s as (select oid from pg_namespace where nspname = :schema)
     select case c.relkind when 'S' then 'sequence ' else 'table ' end || c.relname as object, a.privilege_type as priv, null::text as col
       from pg_class c cross join lateral aclexplode(c.relacl) a
      where c.relnamespace = (select oid from s) and a.grantee = (select oid from r)
     union all
     select 'table ' || c.relname, a.privilege_type, att.attname::text
       from pg_class c join pg_attribute att on att.attrelid = c.oid and att.attnum > 0 and not att.attisdropped
      cross join lateral aclexplode(att.attacl) a
      where c.relnamespace = (select oid from s) and a.grantee = (select oid from r)
     union all
     select 'function ' || p.proname, a.privilege_type, null from pg_proc p cross join lateral aclexplode(p.proacl) a
      where p.pronamespace = (select oid from s) and a.grantee = (select oid from r)
     union all
     select 'schema ' || n.nspname, a.privilege_type, null from pg_namespace n cross join lateral aclexplode(n.nspacl) a
      where n.oid = (select oid from s) and a.grantee = (select oid from r)
     union all
     select 'database ' || d.datname, a.privilege_type, null from pg_database d cross join lateral aclexplode(d.datacl) a
      where d.datname = :database and a.grantee = (select oid from r)`,
    { role, schema, database: database ?? '' },
  );
  const byObject = new Map<string, { whole: Set<string>; columns: Map<string, string[]> }>();
  for (const r of rows as Array<{ object: string; priv: string; col: string | null }>) {
    let o = byObject.get(r.object);
    if (!o) byObject.set(r.object, (o = { whole: new Set(), columns: new Map() }));
    if (r.col === null) o.whole.add(r.priv);
    else o.columns.set(r.priv, [...(o.columns.get(r.priv) ?? []), r.col]);
  }
  const rank = (p: string) => ORDER.indexOf(p.replace(/\(.*$/, ''));
  return [...byObject.entries()]
    .sort(([a], [b]) => kindRank(a) - kindRank(b) || (a < b ? -1 : a > b ? 1 : 0))
    .map(([object, o]) => ({
      object,
      privileges: [
        ...o.whole,
        ...[...o.columns].filter(([p]) => !o.whole.has(p)).map(([p, cols]) => `${p}(${cols.sort().join(', ')})`),
      ].sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : 1)),
    }));
}

const kindRank = (object: string) => ['database', 'schema', 'table', 'sequence', 'function'].indexOf(object.split(' ')[0]);

/** The grants of `before` that `after` no longer holds, one line per object. */
export function lostGrants(before: Grant[], after: Grant[]): string[] {
  const now = new Map(after.map((g) => [g.object, new Set(g.privileges)]));
  return before.flatMap((g) => {
    const gone = g.privileges.filter((p) => !now.get(g.object)?.has(p));
    return gone.length ? [`${g.object}: ${gone.join(', ')}`] : [];
  });
}
