/**
 * "Available now" for a reward (SPEC "Catalog, partners, redemptions"): active, offered in the
 * territory (all territories, or listed), today's local date of that territory inside its window
 * (both ends included), and a unit left (no stock limit, or fewer units taken than the stock).
 *
 * One rule with three faces: `unavailability` (TypeScript, used by redemption to refuse with the
 * reason), `availableNowSql` (the same over a `rewards` row, for the ops list) and
 * `offerAvailableSql` (over a `catalog_offers` row, for the app's page: the offers triggers of
 * migrations 20261125000020, 000060 and 20261202000070 keep one offer row per territory and active
 * reward, with its window and `sold_out`). test/integration/rule-twins.test.ts pins the SQL faces,
 * the triggers included, to the TypeScript one.
 */

/** The reward's columns the rule reads. */
export interface OfferFacts {
  active: boolean;
  all_territories: boolean;
  territories: readonly string[];
  /** YYYY-MM-DD */
  available_from: string;
  /** YYYY-MM-DD */
  available_to: string;
  stock: number | null;
  units_taken: number;
}

/** Why a reward is not available now, in the order redemption checks them. */
export type Unavailability = 'inactive' | 'not_offered' | 'outside_window' | 'sold_out';

/** No unit left: a stock limit reached. */
export function soldOut(r: Pick<OfferFacts, 'stock' | 'units_taken'>): boolean {
  return r.stock !== null && r.units_taken >= r.stock;
}

/** Why the reward is not available in `territory` on its local date `day`, or null when it is. */
export function unavailability(r: OfferFacts, territory: string, day: string): Unavailability | null {
  if (!r.active) return 'inactive';
  if (!(r.all_territories || r.territories.includes(territory))) return 'not_offered';
  if (day < r.available_from || day > r.available_to) return 'outside_window';
  if (soldOut(r)) return 'sold_out';
  return null;
}

export function availableNow(r: OfferFacts, territory: string, day: string): boolean {
  return unavailability(r, territory, day) === null;
}

/** `not soldOut` over a `rewards` row `r` (an alias): the guard of the update that takes a unit. */
export function unitLeftSql(r: string): string {
  return `(${r}.stock is null or ${r}.units_taken < ${r}.stock)`;
}

/**
 * The rule over a `rewards` row `r` (an alias) for the territory code and local date given as
 * trusted SQL expressions (columns, placeholders; never user input).
 */
export function availableNowSql(r: string, territory: string, day: string): string {
  return `(${r}.active and (${r}.all_territories or ${territory} = any(${r}.territories))
     and ${day} between ${r}.available_from and ${r}.available_to
     and ${unitLeftSql(r)})`;
}

/**
 * The rule over a `catalog_offers` row `o`: the triggers write an offer row exactly for each
 * territory where an active reward is offered, so the row's existence is the first two checks.
 */
export function offerAvailableSql(o: string, territory: string, day: string): string {
  return `(${o}.territory_code = ${territory} and ${day} between ${o}.available_from and ${o}.available_to and not ${o}.sold_out)`;
}
