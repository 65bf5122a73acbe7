import type { Knex } from 'knex';
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

/** Findings of the given rules (all by default), highest score first, then by rule and user. */
export async function runRules(db: Knex, window: ScanWindow, params: RuleParams, rules: readonly RuleName[] = RULE_NAMES): Promise<Finding[]> {
  const findings: Finding[] = [];
  for (const rule of rules) findings.push(...(await runRule(db, rule, window, params[rule])));
  return findings.sort(byScore);
}

export function byScore(a: Finding, b: Finding): number {
  return b.score - a.score || RULE_NAMES.indexOf(a.rule) - RULE_NAMES.indexOf(b.rule) || (a.user_id < b.user_id ? -1 : a.user_id > b.user_id ? 1 : 0);
}
