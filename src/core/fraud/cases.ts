import type { Knex } from 'knex';
import { RayonError, notFound } from '../errors.js';
import { audit } from '../audit/index.js';
import type { Finding } from './finding.js';

/**
 * The review queue: one `fraud_cases` row per (user, rule). A scan opens or refreshes them; ops
 * dismiss false positives; a suspension marks a user's open cases actioned. A dismissed (or
 * actioned) case is not reopened by the same evidence: only a finding whose latest contributing
 * event is later than the dismissal (or the action) reopens it.
 */

export type CaseStatus = 'open' | 'dismissed' | 'actioned';
export const CASE_STATUSES: readonly CaseStatus[] = ['open', 'dismissed', 'actioned'];

/** What a scan did to a finding's case. */
export type CaseChange = 'opened' | 'refreshed' | 'reopened' | 'kept dismissed' | 'kept actioned';

export interface FraudCase {
  id: number;
  user_id: string;
  rule: string;
  status: CaseStatus;
  first_seen: Date;
  last_seen: Date;
  score: number;
  evidence: string;
  figures: Record<string, unknown>;
  evidence_until: Date;
  dismissed_at: Date | null;
  dismissed_by: string | null;
  dismiss_reason: string | null;
  actioned_at: Date | null;
}

export interface CaseOutcome {
  user_id: string;
  rule: string;
  case_id: number;
  status: CaseStatus;
  change: CaseChange;
}

// A case takes the new finding when it is open, or when the finding's latest event is later than
// the dismissal or the action that closed it.
// The statement's main query reads fraud_cases as it was before the upsert (one snapshot for the
// whole statement), so joining it by its unique key gives each case's previous status: an index
// probe per finding, where joining two CTEs (estimated at a few rows) made a nested loop of n².
const LIVE = `(c.status = 'open' or excluded.evidence_until > coalesce(c.dismissed_at, c.actioned_at))`;

/** Open or refresh the cases of these findings, in one statement (call it inside the scan's transaction). */
export async function upsertCases(db: Knex, findings: Finding[], now: Date): Promise<CaseOutcome[]> {
  if (findings.length === 0) return [];
  const input = findings.map((f) => ({ user_id: f.user_id, rule: f.rule, score: f.score, evidence: f.evidence, figures: f.figures, latest_at: f.latest_at.toISOString() }));
  const { rows } = await db.raw(
    `with f as (
       select * from jsonb_to_recordset(?::jsonb) as f(user_id text, rule text, score int, evidence text, figures jsonb, latest_at timestamptz)
     ), up as (
       insert into fraud_cases as c (user_id, rule, status, first_seen, last_seen, score, evidence, figures, evidence_until)
       select f.user_id, f.rule, 'open', ?, ?, f.score, f.evidence, f.figures, f.latest_at from f
       on conflict (user_id, rule) do update set
         status = case when ${LIVE} then 'open' else c.status end,
         score = case when ${LIVE} then excluded.score else c.score end,
         evidence = case when ${LIVE} then excluded.evidence else c.evidence end,
         figures = case when ${LIVE} then excluded.figures else c.figures end,
         evidence_until = case when ${LIVE} then excluded.evidence_until else c.evidence_until end,
         dismissed_at = case when ${LIVE} then null else c.dismissed_at end,
         dismissed_by = case when ${LIVE} then null else c.dismissed_by end,
         dismiss_reason = case when ${LIVE} then null else c.dismiss_reason end,
         actioned_at = case when ${LIVE} then null else c.actioned_at end,
         last_seen = greatest(c.last_seen, excluded.last_seen)
       returning c.id, c.user_id, c.rule, c.status
     )
     select up.id, up.user_id, up.rule, up.status, old.status as previous
       from up left join fraud_cases old on old.user_id = up.user_id and old.rule = up.rule`,
    [JSON.stringify(input), now, now],
  );
  return (rows as Array<{ id: number; user_id: string; rule: string; status: CaseStatus; previous: CaseStatus | null }>).map((r) => ({
    user_id: r.user_id,
    rule: r.rule,
    case_id: Number(r.id),
    status: r.status,
    change: changeOf(r.previous, r.status),
  }));
}

function changeOf(previous: CaseStatus | null, status: CaseStatus): CaseChange {
  if (previous === null) return 'opened';
  if (status === 'open') return previous === 'open' ? 'refreshed' : 'reopened';
  return status === 'dismissed' ? 'kept dismissed' : 'kept actioned';
}

export async function listCases(db: Knex, filter: { status?: CaseStatus; userId?: string; limit?: number } = {}): Promise<FraudCase[]> {
  const q = db('fraud_cases').select('*').orderBy([{ column: 'last_seen', order: 'desc' }, { column: 'id', order: 'desc' }]).limit(filter.limit ?? 1000);
  if (filter.status) q.where('status', filter.status);
  if (filter.userId) q.where('user_id', filter.userId);
  return ((await q) as Array<Record<string, unknown>>).map(normaliseCase);
}

export async function getCase(db: Knex, caseId: number): Promise<FraudCase> {
  const row = await db('fraud_cases').where({ id: caseId }).first();
  if (!row) throw notFound('fraud case', String(caseId));
  return normaliseCase(row);
}

export interface DismissResult {
  case: FraudCase;
  /** False when the case was already dismissed: nothing was written. */
  changed: boolean;
}

/** Record a false positive (audited `fraud.dismiss`). Dismissing a dismissed case changes nothing. */
export async function dismissCase(db: Knex, caseId: number, opts: { reason: string; actor: string; now: Date }): Promise<DismissResult> {
  if (!opts.reason?.trim()) throw new RayonError('VALIDATION_ERROR', '--reason is required', { details: [{ where: '--reason', message: 'required' }] });
  return db.transaction(async (trx) => {
    // The guarded update is the arbiter: of two operators dismissing at once, one writes.
    const { rows } = await trx.raw(
      `update fraud_cases set status = 'dismissed', dismissed_at = ?, dismissed_by = ?, dismiss_reason = ?
        where id = ? and status = 'open' returning *`,
      [opts.now, opts.actor, opts.reason, caseId],
    );
    if (rows[0]) {
      const c = normaliseCase(rows[0]);
      await audit(trx, {
        actor: opts.actor, action: 'fraud.dismiss', target: c.user_id, at: opts.now,
        details: { case_id: c.id, rule: c.rule, reason: opts.reason, score: c.score, evidence: c.evidence, evidence_until: c.evidence_until },
      });
      return { case: c, changed: true };
    }
    const c = await getCase(trx, caseId);
    if (c.status === 'actioned') {
      throw new RayonError('INVALID_STATE', `fraud case ${caseId} was actioned (the user was suspended): it cannot be dismissed`);
    }
    return { case: c, changed: false };
  });
}

/**
 * Mark a user's open cases actioned (the seam a suspension calls, in its own transaction);
 * returns the ids of the cases it marked.
 */
export async function markCasesActioned(db: Knex, userId: string, now: Date): Promise<number[]> {
  const rows: Array<{ id: number }> = await db('fraud_cases').where({ user_id: userId, status: 'open' }).update({ status: 'actioned', actioned_at: now }, ['id']);
  return rows.map((r) => Number(r.id)).sort((a, b) => a - b);
}

function normaliseCase(r: Record<string, unknown>): FraudCase {
  return { ...(r as unknown as FraudCase), id: Number(r.id), figures: typeof r.figures === 'string' ? JSON.parse(r.figures) : (r.figures as Record<string, unknown>) };
}
