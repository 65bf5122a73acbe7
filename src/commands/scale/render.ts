import type { Output } from '../output.js';
import { award, toM100, type ScaleVersion, formatChange, type ScaleChangePlan } from '../../core/scale/index.js';

/** A scale version as a product manager reads it: daily steps, actions, statuses. */
export function renderScale(out: Output, v: ScaleVersion): void {
  const d = v.document;
  out.text(`Scale version ${v.version}, effective from ${v.effective_from} — by ${v.actor}: ${v.reason}`);
  out.text(`Daily collection: ${d.daily.base_points} points × streak multiplier; a joker every ${d.daily.joker_every_days} days, at most ${d.daily.max_jokers} held`);
  out.table(['from streak day', 'multiplier', 'points (bronze)'], d.daily.multipliers.map((m) => [m.from_day, `×${m.multiplier}`, award(d.daily.base_points, toM100(m.multiplier), 0)]));
  out.table(
    ['action', 'points', 'daily cap', 'lifetime cap', 'user may report'],
    Object.entries(d.actions).map(([name, a]) => [name, a.points, a.daily_cap ?? '—', a.lifetime_cap ?? '—', a.user_reportable ? 'yes' : 'no']),
  );
  out.table(['status', 'from lifetime points', 'earning bonus'], d.statuses.map((s) => [s.code, s.min_lifetime_points, `+${s.earn_bonus_pct}%`]));
  out.text(`Points expire ${d.expiry_days} days after the local day they were credited; 1 point = ${d.point_value_eur} €`);
}

/** The change about to be written, before the confirmation. */
export function renderPlan(out: Output, plan: ScaleChangePlan, json: boolean): void {
  if (json) {
    out.data({ base_version: plan.base.version, effective_from: plan.effective, changes: plan.changes, document: plan.document });
    return;
  }
  out.text(`Changes from ${plan.effective} against version ${plan.base.version} (the version otherwise in force that day):`);
  for (const c of plan.changes) out.text(`  ${formatChange(c)}`);
}
