import type { Knex } from 'knex';
import { RayonError } from '../errors.js';
import { audit } from '../audit/index.js';
import { RULES, RULE_NAMES, loadParams, type ParamAssignment, type RuleName } from './params.js';

/** `rayon fraud rules show | set`: the parameters of the rules, in `fraud_settings`. */

export interface RuleSetting {
  rule: RuleName;
  param: string;
  value: number;
  default: number;
  meaning: string;
  finds: string;
  updated_at: Date | null;
  updated_by: string | null;
}

export async function showRules(db: Knex): Promise<RuleSetting[]> {
  const params = await loadParams(db);
  const rows: Array<{ rule: string; param: string; updated_at: Date; updated_by: string }> = await db('fraud_settings').select('rule', 'param', 'updated_at', 'updated_by');
  const meta = new Map(rows.map((r) => [`${r.rule}.${r.param}`, r]));
  return RULE_NAMES.flatMap((rule) =>
    RULES[rule].params.map((p) => {
      const m = meta.get(`${rule}.${p.name}`);
      return { rule, param: p.name, value: params[rule][p.name], default: p.default, meaning: p.meaning, finds: RULES[rule].finds, updated_at: m?.updated_at ?? null, updated_by: m?.updated_by ?? null };
    }),
  );
}

export interface SetRuleResult extends ParamAssignment {
  previous: number;
  changed: boolean;
}

/** Change one parameter (audited `fraud.rules`, old and new values); setting the value it has writes nothing. */
export async function setRuleParam(db: Knex, a: ParamAssignment, opts: { reason: string; actor: string; now: Date }): Promise<SetRuleResult> {
  if (!opts.reason?.trim()) throw new RayonError('VALIDATION_ERROR', '--reason is required', { details: [{ where: '--reason', message: 'required' }] });
  const def = RULES[a.rule].params.find((p) => p.name === a.param);
  if (!def) throw new RayonError('VALIDATION_ERROR', `unknown parameter ${a.rule}.${a.param}`);
  return db.transaction(async (trx) => {
    // Insert the default when the row is missing, then lock it: two operators changing the same
    // parameter at once are serialised, and each audit row names the value it replaced.
    await trx('fraud_settings').insert({ rule: a.rule, param: a.param, value: def.default, updated_by: 'system', updated_at: opts.now }).onConflict(['rule', 'param']).ignore();
    const row = await trx('fraud_settings').where({ rule: a.rule, param: a.param }).forUpdate().first('value');
    const previous = Number(row.value);
    if (previous === a.value) return { ...a, previous, changed: false };
    await trx('fraud_settings').where({ rule: a.rule, param: a.param }).update({ value: a.value, updated_at: opts.now, updated_by: opts.actor });
    await audit(trx, {
      actor: opts.actor, action: 'fraud.rules', target: `${a.rule}.${a.param}`, at: opts.now,
      details: { rule: a.rule, param: a.param, old: previous, new: a.value, reason: opts.reason },
    });
    return { ...a, previous, changed: true };
  });
}
