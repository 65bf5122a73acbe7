import type { Knex } from 'knex';
import type { Periods } from './period.js';

/**
 * What every KPI query starts from: the parameters and the users in scope (`scope_users`) with
 * their local registration date in their territory's zone. Every ledger read is bounded by
 * `created_at <= as_of`, so a report rebuilds the ledger as it stood then.
 *
 * The parameters are written into the SQL as typed literals (`params.p_from` becomes
 * `'2026-11-10'::date`), not bound: the planner then sees real values and estimates the date
 * ranges, which decides between a sequential scan and an index for a full-ledger read. Only
 * values this code produced and checked get there (ISO dates, an instant from Date, a territory
 * code of two capitals); anything else throws.
 */
export interface Scope {
  asOf: Date;
  territory: string | null;
  periods: Periods;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

function literals(s: Scope): Record<string, string> {
  const { current: c, baseline: b1, baseline2: b2 } = s.periods;
  const date = (v: string) => {
    if (!DATE.test(v)) throw new Error(`not a date: ${v}`);
    return `'${v}'::date`;
  };
  const asOf = s.asOf.toISOString();
  if (!INSTANT.test(asOf)) throw new Error(`not an instant: ${asOf}`);
  if (s.territory !== null && !/^[A-Z]{2}$/.test(s.territory)) throw new Error(`not a territory code: ${s.territory}`);
  return {
    as_of: `'${asOf}'::timestamptz`,
    territory: s.territory === null ? 'null::text' : `'${s.territory}'::text`,
    p_from: date(c.from),
    p_to: date(c.to),
    b1_from: date(b1.from),
    b1_to: date(b1.to),
    b2_from: date(b2.from),
    b2_to: date(b2.to),
  };
}

/**
 * `sql` with every `params.<name>` replaced by its literal, and every `in_scope(x.user_id)` by the
 * territory filter: `true` for the whole programme (a ledger read is then a plain scan, with no
 * join), else a semi-join on the territory's users, which the planner hashes.
 */
export function withParams(s: Scope, sql: string): string {
  const lit = literals(s);
  const scoped = sql.replace(/\bin_scope\((\w+\.user_id)\)/g, (_w, col: string) =>
    s.territory === null ? 'true' : `${col} in (select u.id from users u where u.territory_code = params.territory)`,
  );
  return scoped.replace(/\bparams\.(\w+)\b/g, (whole, name: string) => {
    const v = lit[name];
    if (v === undefined) throw new Error(`unknown report parameter ${whole}`);
    return v;
  });
}

const SCOPE_USERS = `with scope_users as materialized (
    select u.id, (u.created_at at time zone t.timezone)::date as reg_date
      from users u join territories t on t.code = u.territory_code
     where u.created_at <= params.as_of and (params.territory is null or u.territory_code = params.territory)
  )`;

/** Run `with scope_users, <rest>`; `rest` starts with `,` (more CTEs) or `select`. */
export async function scoped<T>(db: Knex, s: Scope, rest: string, bindings: Knex.RawBinding[] = []): Promise<T[]> {
  const joiner = /^\s*,/.test(rest) ? '' : ' ';
  const { rows } = await db.raw(withParams(s, `${SCOPE_USERS}${joiner}${rest}`), bindings);
  return rows as T[];
}
