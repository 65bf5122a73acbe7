import type { Knex } from 'knex';

export interface AuditEntry {
  actor: string;
  action: string;
  target?: string | null;
  details?: Record<string, unknown>;
  /** Business time of the change (differs from the wall clock under --now). */
  at?: Date;
}

/** Write one audit row; call it inside the transaction of the change it records. */
export async function audit(db: Knex, entry: AuditEntry): Promise<void> {
  await db('audit_log').insert({
    actor: entry.actor,
    action: entry.action,
    target: entry.target ?? null,
    details: JSON.stringify(entry.details ?? {}),
    business_at: entry.at ?? null,
  });
}

export interface AuditFilter {
  actor?: string;
  action?: string;
  target?: string;
  since?: Date;
  limit?: number;
}

export async function listAudit(db: Knex, f: AuditFilter = {}) {
  const q = db('audit_log').select('id', 'at', 'business_at', 'actor', 'action', 'target', 'details').orderBy('id', 'desc');
  if (f.actor) q.where('actor', f.actor);
  if (f.action) q.where((w) => w.where('action', f.action as string).orWhere('action', 'like', `${f.action}.%`));
  if (f.target) q.where('target', f.target);
  if (f.since) q.where('at', '>=', f.since);
  q.limit(f.limit ?? 100);
  const rows = await q;
  return rows.map((r) => ({ ...r, details: typeof r.details === 'string' ? JSON.parse(r.details) : r.details }));
}

/** The prefix of the actor of a user acting through their own user token (`user:<id>`). */
const SELF_PREFIX = 'user:';

/** `actor` is the user `userId` acting on their own account. */
export function actsOnOwnAccount(actor: string | null | undefined, userId: string): boolean {
  return actor === `${SELF_PREFIX}${userId}`;
}

/**
 * `actsOnOwnAccount` in SQL, for `ledger verify` (src/core/ledger/verify-audit.ts): a boolean
 * expression over the trusted column expressions `actor` and `user`; null when `actor` is null.
 * Pinned to the TypeScript rule by test/integration/rule-twins.test.ts.
 */
export function actsOnOwnAccountSql(actor: string, user: string): string {
  return `(${actor} = ('${SELF_PREFIX}' || ${user}))`;
}

/**
 * SPEC "Audit": mutations by a service or admin token (or any named operator) write an audit
 * row; a user acting on their own account (`user:<that id>`) is recorded by the ledger row's
 * actor and idempotency key. The one decision, used by every writer (collection, earn, redeem)
 * and, through `actsOnOwnAccountSql`, by `ledger verify`.
 */
export function auditable(actor: string | undefined, userId: string): boolean {
  return Boolean(actor) && !actsOnOwnAccount(actor, userId);
}
