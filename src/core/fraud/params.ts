import type { Knex } from 'knex';
import { RayonError } from '../errors.js';

/**
 * The fraud rules' names and integer parameters (SPEC "Fraud and suspensions"). Values live in
 * `fraud_settings`; the defaults below are the ones migration 20261203000100 seeded, used only
 * when a row is missing.
 */

export const RULE_NAMES = [
  'earn_velocity',
  'refused_burst',
  'shared_reference',
  'redeem_burst',
  'new_account_redeem',
  'lockstep_farm',
  'operator_adjustments',
] as const;

export type RuleName = (typeof RULE_NAMES)[number];

export interface ParamDef {
  name: string;
  default: number;
  /** Smallest accepted value (0 unless a smaller one would make the rule meaningless). */
  min: number;
  meaning: string;
}

export interface RuleInfo {
  finds: string;
  params: ParamDef[];
}

export const RULES: Record<RuleName, RuleInfo> = {
  earn_velocity: {
    finds: 'more than N earn credits for one user within any 60 minutes',
    params: [{ name: 'max_per_hour', default: 20, min: 0, meaning: 'N: earn credits allowed in any 60 minutes' }],
  },
  refused_burst: {
    finds: 'more than N refused earns (caps, unknown actions, suspended…) for one user in the window',
    params: [{ name: 'max_refused', default: 10, min: 0, meaning: 'N: refused earns allowed in the window' }],
  },
  shared_reference: {
    finds: 'one reference_id (after NFKC, case folding, zero-width/bidi removal) credited to several users for the same action in the window',
    params: [{ name: 'min_users', default: 3, min: 2, meaning: 'users sharing one reference that make a finding' }],
  },
  redeem_burst: {
    finds: 'more than N redemptions, or more than P points redeemed, by one user in the window',
    params: [
      { name: 'max_count', default: 5, min: 0, meaning: 'N: redemptions allowed in the window' },
      { name: 'max_points', default: 5000, min: 0, meaning: 'P: points allowed to be redeemed in the window' },
    ],
  },
  new_account_redeem: {
    finds: 'an account younger than D days redeeming more than P points (redemptions in the window)',
    params: [
      { name: 'min_age_days', default: 7, min: 1, meaning: 'D: an account younger than this many days is new' },
      { name: 'max_points', default: 2000, min: 0, meaning: 'P: points a new account may redeem' },
    ],
  },
  lockstep_farm: {
    finds: 'at least K accounts created within one hour that collected on the same set of at least M local days',
    params: [
      { name: 'min_accounts', default: 5, min: 2, meaning: 'K: accounts created within one hour' },
      { name: 'min_days', default: 5, min: 1, meaning: 'M: collection days the accounts share, all of them' },
    ],
  },
  operator_adjustments: {
    finds: "one actor's manual credits in one local day above P points or N rows (the case is keyed operator:<actor>)",
    params: [
      { name: 'max_points', default: 20000, min: 0, meaning: 'P: points one actor may credit in one local day' },
      { name: 'max_rows', default: 50, min: 0, meaning: 'N: manual credits one actor may make in one local day' },
    ],
  },
};

export type RuleParams = Record<RuleName, Record<string, number>>;

export interface ParamAssignment {
  rule: RuleName;
  param: string;
  value: number;
}

const MAX_VALUE = 2_147_483_647; // the settings column is a PostgreSQL integer

export function isRuleName(name: string): name is RuleName {
  return (RULE_NAMES as readonly string[]).includes(name);
}

/** A rule name, or VALIDATION_ERROR naming it and the known rules. */
export function parseRuleName(name: string, where = '--rule'): RuleName {
  if (isRuleName(name)) return name;
  throw new RayonError('VALIDATION_ERROR', `${where}: unknown rule ${JSON.stringify(name)} (rules: ${RULE_NAMES.join(', ')})`, {
    details: [{ where, message: `unknown rule ${JSON.stringify(name)}` }],
  });
}

/** Parse `RULE.PARAM=V`: a known rule and parameter, a whole number within the parameter's bounds. */
export function parseAssignment(text: string, where = '--set'): ParamAssignment {
  const m = /^([^.=\s]+)\.([^=\s]+)=(.*)$/.exec(text.trim());
  const fail = (message: string) => new RayonError('VALIDATION_ERROR', `${where} ${JSON.stringify(text)}: ${message}`, { details: [{ where, message }] });
  if (!m) throw fail('expected RULE.PARAM=VALUE, e.g. earn_velocity.max_per_hour=30');
  const rule = parseRuleName(m[1], where);
  const def = RULES[rule].params.find((p) => p.name === m[2]);
  if (!def) throw fail(`unknown parameter ${JSON.stringify(`${rule}.${m[2]}`)} (${rule} has: ${RULES[rule].params.map((p) => p.name).join(', ')})`);
  const raw = m[3].trim();
  if (!/^\d+$/.test(raw)) throw fail(`${rule}.${def.name} must be a whole number ≥ ${def.min}, got ${JSON.stringify(raw)}`);
  const value = Number(raw);
  if (value < def.min || value > MAX_VALUE) throw fail(`${rule}.${def.name} must be between ${def.min} and ${MAX_VALUE}, got ${raw}`);
  return { rule, param: def.name, value };
}

export function defaultParams(): RuleParams {
  const out = {} as RuleParams;
  for (const rule of RULE_NAMES) out[rule] = Object.fromEntries(RULES[rule].params.map((p) => [p.name, p.default]));
  return out;
}

/** Today's parameters: the settings table over the defaults (rows of unknown rules or parameters are ignored). */
export async function loadParams(db: Knex): Promise<RuleParams> {
  const params = defaultParams();
  const rows: Array<{ rule: string; param: string; value: number }> = await db('fraud_settings').select('rule', 'param', 'value');
  for (const r of rows) {
    if (isRuleName(r.rule) && r.param in params[r.rule]) params[r.rule][r.param] = r.value;
  }
  return params;
}

/** The parameters with the assignments applied; a parameter assigned twice is refused. */
export function withAssignments(params: RuleParams, assignments: ParamAssignment[], where = '--set'): RuleParams {
  const out = Object.fromEntries(RULE_NAMES.map((r) => [r, { ...params[r] }])) as RuleParams;
  const seen = new Set<string>();
  for (const a of assignments) {
    const key = `${a.rule}.${a.param}`;
    if (seen.has(key)) throw new RayonError('VALIDATION_ERROR', `${where}: ${key} is given twice`, { details: [{ where, message: `${key} given twice` }] });
    seen.add(key);
    out[a.rule][a.param] = a.value;
  }
  return out;
}
