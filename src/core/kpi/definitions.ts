/**
 * The dashboard's KPIs as SPEC "KPIs" defines them: the definition text is the spec's, word for
 * word, and the target is read by a comparator (report.ts marks each figure met / not met / n/a).
 */

export type KpiId =
  | 'activation_rate'
  | 'daily_collection_rate'
  | 'average_streak_length'
  | 'points_usage_rate'
  | 'average_redemption_delay'
  | 'retention'
  | 'frequency'
  | 'conversion'
  | 'response_time'
  | 'availability'
  | 'error_rate'
  | 'cost_per_user'
  | 'roi_revenue_share';

export type Unit = 'percent' | 'days' | 'ms' | 'eur' | 'ratio' | 'none';

/**
 * How a value is held against its target:
 * - at_least / below / at_most: the value itself (fractions for percents, days, ms, €);
 * - change_pts_at_least: the change vs the baseline in percentage points;
 * - change_rel_at_least: the relative change vs the baseline;
 * - external: the figure needs data this system does not hold.
 */
export type Comparator = 'at_least' | 'at_most' | 'below' | 'change_pts_at_least' | 'change_rel_at_least' | 'external';

export interface KpiDefinition {
  id: KpiId;
  name: string;
  definition: string;
  unit: Unit;
  /** The target as the spec words it. */
  target_text: string;
  /** The target as a number in the unit's base (a fraction for percents, pts as a fraction too). */
  target: number | null;
  comparator: Comparator;
}

export const KPI_DEFINITIONS: readonly KpiDefinition[] = [
  {
    id: 'activation_rate',
    name: 'activation rate',
    definition: 'users registered by period end with at least one daily/earn/redeem row by period end / users registered by period end',
    unit: 'percent',
    target_text: '70%',
    target: 0.7,
    comparator: 'at_least',
  },
  {
    id: 'daily_collection_rate',
    name: 'daily collection rate',
    definition: "mean over the period's days of (users with a `daily` row that day / users registered by that day)",
    unit: 'percent',
    target_text: '25%',
    target: 0.25,
    comparator: 'at_least',
  },
  {
    id: 'average_streak_length',
    name: 'average streak length',
    definition: 'mean length (last `streak_day`) of the runs with at least one `daily` row in the period',
    unit: 'days',
    target_text: '3 days',
    target: 3,
    comparator: 'at_least',
  },
  {
    id: 'points_usage_rate',
    name: 'points usage rate',
    definition: '(points debited by redemptions in the period − points refunded for them in the period) / points credited by `daily` and `earn` rows in the period',
    unit: 'percent',
    target_text: '60%',
    target: 0.6,
    comparator: 'at_least',
  },
  {
    id: 'average_redemption_delay',
    name: 'average redemption delay',
    definition: "from the allocations of the period's redemptions: Σ(points × (redemption time − lot credit time)) / Σ points, in days",
    unit: 'days',
    target_text: '30 days',
    target: 30,
    comparator: 'at_most',
  },
  {
    id: 'retention',
    name: 'retention',
    definition: 'users active in the previous period who are active in this one / users active in the previous period; shown with its change',
    unit: 'percent',
    target_text: '+10 pts vs baseline',
    target: 0.1,
    comparator: 'change_pts_at_least',
  },
  {
    id: 'frequency',
    name: 'frequency',
    definition: 'mean number of active days per active user; shown with its change',
    unit: 'days',
    target_text: '+25% vs baseline',
    target: 0.25,
    comparator: 'change_rel_at_least',
  },
  {
    id: 'conversion',
    name: 'conversion',
    definition: 'needs marketplace data this system does not hold: shown as "n/a (external data)"',
    unit: 'percent',
    target_text: '+20%',
    target: 0.2,
    comparator: 'external',
  },
  {
    id: 'response_time',
    name: 'response time',
    definition: 'p95 of HTTP-mode requests in the period, from stored histogram buckets',
    unit: 'ms',
    target_text: '< 200 ms',
    target: 200,
    comparator: 'below',
  },
  {
    id: 'availability',
    name: 'availability',
    definition: 'needs an outside probe: "n/a (external data)"',
    unit: 'percent',
    target_text: '99.9%',
    target: 0.999,
    comparator: 'external',
  },
  {
    id: 'error_rate',
    name: 'error rate',
    definition: '5xx answers / all HTTP-mode answers',
    unit: 'percent',
    target_text: '< 0.1%',
    target: 0.001,
    comparator: 'below',
  },
  {
    id: 'cost_per_user',
    name: 'cost per user',
    definition: '(points redeemed net of refunds) × `point_value_eur` / active users, € computed exactly and rounded half-up to the cent',
    unit: 'eur',
    target_text: '< 0.5 €',
    target: 0.5,
    comparator: 'below',
  },
  {
    id: 'roi_revenue_share',
    name: 'ROI, share of revenue',
    definition: 'need revenue data: "n/a (external data)"',
    unit: 'none',
    target_text: '1.5 / 5%',
    target: null,
    comparator: 'external',
  },
];

export function definitionOf(id: KpiId): KpiDefinition {
  const d = KPI_DEFINITIONS.find((k) => k.id === id);
  if (!d) throw new Error(`unknown KPI ${id}`);
  return d;
}
