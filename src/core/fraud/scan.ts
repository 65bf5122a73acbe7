import type { Knex } from 'knex';
import { RayonError } from '../errors.js';
import { audit } from '../audit/index.js';
import { iso, type Finding, type ScanWindow } from './finding.js';
import { RULE_NAMES, loadParams, withAssignments, type ParamAssignment, type RuleName, type RuleParams } from './params.js';
import { runRule, runRules } from './rules.js';
import { upsertCases, type CaseOutcome } from './cases.js';

/** `rayon fraud scan`: run the rules over the window and open or refresh the review queue. */

export interface ScanOptions {
  window: ScanWindow;
  /** Only these rules (all by default). */
  rules?: RuleName[];
  actor: string;
  now: Date;
}

export type ScannedFinding = Finding & Omit<CaseOutcome, 'user_id' | 'rule'>;

export interface ScanResult {
  window: ScanWindow;
  rules: RuleName[];
  params: RuleParams;
  findings: ScannedFinding[];
  cases: Record<CaseOutcome['change'], number>;
}

export async function scanFraud(db: Knex, opts: ScanOptions): Promise<ScanResult> {
  const rules = opts.rules?.length ? opts.rules : [...RULE_NAMES];
  const params = await loadParams(db);
  const findings = await runRules(db, opts.window, params, rules);
  const outcomes = await db.transaction(async (trx) => {
    const out = await upsertCases(trx, findings, opts.now);
    if (out.length) {
      await audit(trx, {
        actor: opts.actor, action: 'fraud.scan', target: null, at: opts.now,
        details: { since: iso(opts.window.since), until: iso(opts.window.until), rules, findings: out.length, cases: tally(out) },
      });
    }
    return out;
  });
  const byKey = new Map(outcomes.map((o) => [`${o.rule}\u0000${o.user_id}`, o]));
  return {
    window: opts.window,
    rules,
    params,
    findings: findings.map((f) => {
      const o = byKey.get(`${f.rule}\u0000${f.user_id}`) as CaseOutcome;
      return { ...f, case_id: o.case_id, status: o.status, change: o.change };
    }),
    cases: tally(outcomes),
  };
}

function tally(outcomes: CaseOutcome[]): ScanResult['cases'] {
  const t: ScanResult['cases'] = { opened: 0, refreshed: 0, reopened: 0, 'kept dismissed': 0, 'kept actioned': 0 };
  for (const o of outcomes) t[o.change] += 1;
  return t;
}

/** One rule's back-test: who it flags with today's parameters and with the proposed ones. */
export interface BacktestRule {
  rule: RuleName;
  changes: Array<{ param: string; now: number; proposed: number }>;
  flagged_now: string[];
  flagged_proposed: string[];
  added: string[];
  dropped: string[];
}

export interface BacktestResult {
  window: ScanWindow;
  rules: BacktestRule[];
}

/**
 * `rayon fraud scan --set RULE.PARAM=V…`: the scan with changed parameters, beside today's,
 * inside a READ ONLY transaction — the database itself refuses any write.
 */
export async function backtestFraud(db: Knex, opts: { window: ScanWindow; rules?: RuleName[]; assignments: ParamAssignment[] }): Promise<BacktestResult> {
  if (opts.assignments.length === 0) throw new RayonError('VALIDATION_ERROR', 'a back-test needs at least one --set RULE.PARAM=VALUE');
  const rules = opts.rules?.length ? opts.rules : [...RULE_NAMES];
  const outside = opts.assignments.find((a) => !rules.includes(a.rule));
  if (outside) {
    throw new RayonError('VALIDATION_ERROR', `--set ${outside.rule}.${outside.param}: rule ${outside.rule} is not in this scan (--rule ${rules.join(', ')})`, {
      details: [{ where: '--set', message: `rule ${outside.rule} not scanned` }],
    });
  }
  return db.transaction(
    async (trx) => {
      const today = await loadParams(trx);
      const proposed = withAssignments(today, opts.assignments);
      const out: BacktestRule[] = [];
      for (const rule of rules) {
        const now = users(await runRule(trx, rule, opts.window, today[rule]));
        const changes = opts.assignments.filter((a) => a.rule === rule).map((a) => ({ param: a.param, now: today[rule][a.param], proposed: a.value }));
        const then = changes.length ? users(await runRule(trx, rule, opts.window, proposed[rule])) : now;
        const nowSet = new Set(now);
        const thenSet = new Set(then);
        out.push({
          rule, changes, flagged_now: now, flagged_proposed: then,
          added: then.filter((u) => !nowSet.has(u)), dropped: now.filter((u) => !thenSet.has(u)),
        });
      }
      return { window: opts.window, rules: out };
    },
    { readOnly: true },
  );
}

const users = (findings: Finding[]) => findings.map((f) => f.user_id).sort();
