import type { Knex } from 'knex';
import { VERSION } from '../../version.js';
import type { Periods } from './period.js';

/**
 * What makes a report reproducible: its parameters, the as-of instant, the ledger's high-water
 * mark (last transaction id and time, row count and sum up to it) and the software version.
 * No "generated at": two runs with the same parameters and as-of give the same manifest.
 */
export interface Manifest {
  parameters: { from: string; to: string; territory: string | null; as_of_given: boolean };
  as_of: string;
  baseline: { from: string; to: string };
  high_water_mark: { last_transaction_id: number | null; last_transaction_at: string | null; rows: number; sum: number };
  point_value_eur: string | null;
  scale_version: number | null;
  software_version: string;
}

export async function highWaterMark(db: Knex, asOf: Date): Promise<Manifest['high_water_mark']> {
  const { rows } = await db.raw(
    `with t as (select count(*)::bigint as n, coalesce(sum(amount), 0)::bigint as s, max(id) as last_id
                  from points_transactions where created_at <= ?)
     select t.n, t.s, t.last_id, (select max(p.created_at) from points_transactions p where p.id = t.last_id) as last_at from t`,
    [asOf],
  );
  const r = rows[0];
  return {
    last_transaction_id: r.last_id === null ? null : Number(r.last_id),
    last_transaction_at: r.last_at ? new Date(r.last_at).toISOString() : null,
    rows: Number(r.n),
    sum: Number(r.s),
  };
}

export function buildManifest(p: {
  periods: Periods;
  territory: string | null;
  asOf: Date;
  asOfGiven: boolean;
  hwm: Manifest['high_water_mark'];
  pointValue: { version: number; value: string } | null;
}): Manifest {
  return {
    parameters: { from: p.periods.current.from, to: p.periods.current.to, territory: p.territory, as_of_given: p.asOfGiven },
    as_of: p.asOf.toISOString(),
    baseline: { from: p.periods.baseline.from, to: p.periods.baseline.to },
    high_water_mark: p.hwm,
    point_value_eur: p.pointValue?.value ?? null,
    scale_version: p.pointValue?.version ?? null,
    software_version: VERSION,
  };
}
