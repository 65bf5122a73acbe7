import type { Knex } from 'knex';
import { isPostgres } from '../../db/handle.js';
import { inLanes, parallelism } from '../../db/lanes.js';
import type { Finding, RuleDef, RuleRow, ScanWindow } from './finding.js';
import { RULE_NAMES, type RuleName, type RuleParams } from './params.js';
import { earnVelocity, refusedBurst, sharedReference } from './rules-earning.js';
import { newAccountRedeem, redeemBurst } from './rules-redeem.js';
import { lockstepFarm } from './rules-farm.js';
import { operatorAdjustments } from './rules-operator.js';

export const RULE_DEFS: Record<RuleName, RuleDef> = {
  earn_velocity: earnVelocity,
  refused_burst: refusedBurst,
  shared_reference: sharedReference,
  redeem_burst: redeemBurst,
  new_account_redeem: newAccountRedeem,
  lockstep_farm: lockstepFarm,
  operator_adjustments: operatorAdjustments,
};

/** Run one rule: its one statement over the window, each row worded as a finding. */
export async function runRule(db: Knex, rule: RuleName, window: ScanWindow, params: Record<string, number>): Promise<Finding[]> {
  const def = RULE_DEFS[rule];
  const { rows } = await db.raw(def.sql, { since: window.since, until: window.until, ...params });
  return (rows as RuleRow[]).map((row) => ({ user_id: row.user_id, rule, ...def.describe(row, params), latest_at: new Date(row.latest_at) }));
}

/** Connections reading at once on PostgreSQL (bounded by the pool): the rules run side by side. */
const SCAN_LANES = 2;
/** The rules' statements, longest first on the demo's ledger, so that parallel lanes finish together. */
const LONGEST_FIRST: readonly RuleName[] = ['lockstep_farm', 'earn_velocity', 'shared_reference', 'redeem_burst', 'new_account_redeem', 'operator_adjustments', 'refused_burst'];

/**
 * The settings of every connection that reads for a scan. The rules read whole windows of the
 * ledger through ordered index scans and stream their groups: a statement's own parallel workers
 * (gather, merge, finalize) cost more than they save there, and the lanes already use the cores.
 */
async function prepare(trx: Knex.Transaction): Promise<void> {
  if (!isPostgres(trx)) return;
  await trx.raw('set local max_parallel_workers_per_gather = 0');
  // Each rule is one statement over many rows: compiling it costs more than it saves.
  await trx.raw('set local jit = off');
}

/**
 * Findings of the given rules (all by default), highest score first, then by rule and user. The
 * rules read one snapshot of the database (a read-only repeatable-read transaction), on several
 * connections at once on PostgreSQL.
 */
export async function runRules(db: Knex, window: ScanWindow, params: RuleParams, rules: readonly RuleName[] = RULE_NAMES): Promise<Finding[]> {
  const rank = (r: RuleName) => (LONGEST_FIRST.includes(r) ? LONGEST_FIRST.indexOf(r) : LONGEST_FIRST.length);
  const ordered = [...rules].sort((a, b) => rank(a) - rank(b));
  const lanes = parallelism(db, SCAN_LANES);
  const found = await db.transaction(
    async (trx) => {
      await prepare(trx);
      return inLanes(db, trx, lanes, prepare, ordered.map((rule) => (q: Knex) => runRule(q, rule, window, params[rule])));
    },
    { isolationLevel: 'repeatable read', readOnly: true },
  );
  return found.flat().sort(byScore);
}

export function byScore(a: Finding, b: Finding): number {
  return b.score - a.score || RULE_NAMES.indexOf(a.rule) - RULE_NAMES.indexOf(b.rule) || (a.user_id < b.user_id ? -1 : a.user_id > b.user_id ? 1 : 0);
}
