import { once } from 'node:events';
import { pipeline } from 'node:stream/promises';
import type { Knex } from 'knex';
import { preparedQuery } from '../../db/fast-tx.js';
import { stringify } from 'csv-stringify';
import { RayonError } from '../errors.js';
import { assertPageDepth } from '../bounds.js';
import { localDate } from '../time.js';
import { availableNowSql, offerAvailableSql } from './available.js';
import { CATALOG_COLUMNS, exportCells, type RewardFields } from './csv.js';
import { writeOutputFile } from '../files/index.js';
import { getUser } from '../users/index.js';

/**
 * Reading the catalog: the app's page of rewards available now in a territory, the ops list
 * with filters, and the CSV export that re-imports unchanged.
 */

export interface CatalogItem extends RewardFields {
  id: number;
}

export interface Page<T> {
  items: T[];
  page: number;
  limit: number;
  total: number;
}

/** Territory time zones are seeded with the territory and never change: remembered per process. */
const zones = new Map<string, string>();

export async function territoryZone(db: Knex, code: string): Promise<string> {
  const known = zones.get(code);
  if (known) return known;
  const row = await db('territories').select('timezone').where({ code }).first();
  if (!row) throw new RayonError('VALIDATION_ERROR', `unknown territory ${JSON.stringify(code)}`, { details: [{ where: 'territory', message: 'unknown territory code' }] });
  zones.set(code, row.timezone as string);
  return row.timezone as string;
}

/** The item columns; `id` is how the id comes out (a number for the ops list, text for the app). */
const itemColumns = (id = 'r.id') => `${id}, r.sku, r.name, r.description, r.cost, r.category_code as category, p.code as partner,
  case when r.all_territories then array['*'] else r.territories end as territories,
  r.available_from, r.available_to,
  case when r.stock is null then null else r.stock - r.units_taken end as stock, r.fulfilment`;

/**
 * Totals of the catalog page, remembered for a short time per (territory, category, local date):
 * counting every match is most of a page's database work on a large catalog, while the items
 * themselves come from an index scan that stops after the page. A total may lag that long behind
 * an import or a reward selling out; the items never do. Used by the HTTP mode
 * (`RAYON_CATALOG_TOTAL_TTL_S`); without it every page counts.
 */
export class CatalogTotals {
  private readonly totals = new Map<string, { total: number; until: number }>();
  /**
   * Each total lives between half the time to live and all of it, at random: totals counted
   * together (a server's first pages) would otherwise all expire together and be recounted in
   * one burst, which showed as a stall of the pages in flight (bench:catalog-browse).
   */
  constructor(
    readonly ttlMs: number,
    private readonly clock: () => number = Date.now,
    private readonly random: () => number = Math.random,
  ) {}
  get(key: string): number | undefined {
    const hit = this.totals.get(key);
    if (!hit) return undefined;
    if (hit.until <= this.clock()) {
      this.totals.delete(key);
      return undefined;
    }
    return hit.total;
  }
  set(key: string, total: number): void {
    if (this.ttlMs <= 0) return;
    if (this.totals.size >= 10_000) this.totals.clear();
    this.totals.set(key, { total, until: this.clock() + this.ttlMs * (0.5 + this.random() / 2) });
  }
}

// catalog_offers (migrations 20261125000020 and 000060) holds one row per territory and active
// reward with its window and whether it is sold out, all in its indexes: matching is an
// index-only range scan in reward order, so a page stops after offset + limit matches.
// Prepared statements: this page is browsed a lot, and planning cost about as much as running.
// The limit and offset are sub-selects, not bare parameters: with a bare `limit $n` the generic
// plan has to guess the row count (10% of the matches) and looks dearer than a plan made for
// `limit 20`, so PostgreSQL went on planning every execution afresh; as sub-selects neither plan
// knows the value, the generic plan wins after the first five executions and is kept (the same
// ordered index-only scan). Measured in bench:catalog-browse: PostgreSQL CPU per page ~950 ->
// 390-420 µs.
// Bindings: the territory, the local date, then the category if any.
function offersWhere(category: boolean): string {
  return `${offerAvailableSql('o', '?', '?::date')} ${category ? 'and o.category_code = ?' : ''}`;
}

function pageSql(category: boolean, withTotal: boolean): string {
  // Ids as text, dates as YYYY-MM-DD: the items come out in the HTTP answer's shape, as text
  // that is sent as is (no parse and re-serialisation of every page in the server).
  const items = `coalesce((select json_agg(x order by x.id::bigint desc) from (
       select ${itemColumns('r.id::text as id')}
         from (select o.reward_id as id from catalog_offers o where ${offersWhere(category)}
                order by o.reward_id desc limit (select ?::int) offset (select ?::int)) pg
         join rewards r on r.id = pg.id join partners p on p.id = r.partner_id) x), '[]')::text as items`;
  if (!withTotal) return `select ${items}`;
  return `select ${items}, (select count(*)::int from catalog_offers o where ${offersWhere(category)}) as total`;
}

/**
 * The territory of the app's catalog page: the one asked for (`territory_id`), else the viewer's
 * own when the viewer is a user; a system (a service or admin token) must say which one.
 */
export async function catalogTerritory(db: Knex, requested: string | undefined, viewer: { role: string; userId: string }): Promise<string> {
  if (requested) return requested;
  if (viewer.role !== 'user') {
    throw new RayonError('VALIDATION_ERROR', `territory_id is required with a ${viewer.role} token`, { details: [{ where: 'territory_id', message: 'required' }] });
  }
  return (await getUser(db, viewer.userId)).territory as string;
}

/** The app's catalog page with its items as JSON text in the API's shape (ids as strings). */
export async function catalogPageJson(
  db: Knex,
  q: { territory: string; category?: string; page: number; limit: number; now: Date },
  opts: { totals?: CatalogTotals } = {},
): Promise<{ itemsJson: string; page: number; limit: number; total: number }> {
  checkPaging(q.page, q.limit);
  const day = localDate(q.now, await territoryZone(db, q.territory));
  const filter = [q.territory, day, ...(q.category ? [q.category] : [])];
  const key = `${q.territory}|${q.category ?? ''}|${day}`;
  const known = opts.totals?.get(key);
  const bindings = [...filter, q.limit, (q.page - 1) * q.limit, ...(known === undefined ? filter : [])];
  const { rows } = await preparedQuery(db, pageSql(Boolean(q.category), known === undefined), bindings);
  const total = known ?? (rows[0].total as number);
  if (known === undefined) opts.totals?.set(key, total);
  return { itemsJson: String(rows[0].items), page: q.page, limit: q.limit, total };
}

/** The same page with its items parsed (ids as numbers), for the core's other callers. */
export async function catalogPage(
  db: Knex,
  q: { territory: string; category?: string; page: number; limit: number; now: Date },
  opts: { totals?: CatalogTotals } = {},
): Promise<Page<CatalogItem>> {
  const p = await catalogPageJson(db, q, opts);
  const items = JSON.parse(p.itemsJson) as Array<CatalogItem & { id: string }>;
  return { items: items.map((i) => ({ ...i, id: Number(i.id) })), page: p.page, limit: p.limit, total: p.total };
}

function checkPaging(page: number, limit: number): void {
  if (!Number.isInteger(page) || page < 1) throw new RayonError('VALIDATION_ERROR', 'page must be a whole number ≥ 1', { details: [{ where: 'page', message: 'must be ≥ 1' }] });
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new RayonError('VALIDATION_ERROR', 'limit must be between 1 and 1000', { details: [{ where: 'limit', message: 'must be 1-1000' }] });
  assertPageDepth(page, limit);
}

export interface CatalogFilter {
  territory?: string;
  category?: string;
  partner?: string;
  /** Only rewards available now (in `territory`, or in at least one of their territories). */
  available?: boolean;
  /** Case-insensitive text in sku, name or description. */
  search?: string;
  now: Date;
  page: number;
  limit: number;
}

export interface CatalogListItem extends CatalogItem {
  active: boolean;
  total_stock: number | null;
  units_taken: number;
}

/** The ops view: every reward (active or not) matching the filters, by sku. */
export async function listCatalog(db: Knex, f: CatalogFilter): Promise<Page<CatalogListItem>> {
  checkPaging(f.page, f.limit);
  const conds: string[] = ['true'];
  const params: Record<string, unknown> = { now: f.now, limit: f.limit, offset: (f.page - 1) * f.limit };
  if (f.territory) {
    await territoryZone(db, f.territory);
    conds.push('(r.all_territories or :territory = any(r.territories))');
    params.territory = f.territory;
  }
  if (f.category) {
    conds.push('r.category_code = :category');
    params.category = f.category;
  }
  if (f.partner) {
    conds.push('p.code = :partner');
    params.partner = f.partner;
  }
  if (f.search) {
    conds.push("(r.sku ilike :search or r.name ilike :search or r.description ilike :search)");
    params.search = `%${f.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  }
  if (f.available) {
    // Available now in a territory where it is offered, on that territory's local date.
    conds.push(`exists (
      select 1 from territories t
       where ${availableNowSql('r', 't.code', '(cast(:now as timestamptz) at time zone t.timezone)::date')}
         ${f.territory ? 'and t.code = :territory' : ''})`);
  }
  const where = conds.join(' and ');
  const { rows } = await db.raw(
    `select ${itemColumns()}, r.active, r.stock as total_stock, r.units_taken, count(*) over () ::int as total_count
       from rewards r join partners p on p.id = r.partner_id
      where ${where}
      order by r.sku
      limit :limit offset :offset`,
    params,
  );
  let total = rows[0]?.total_count ?? 0;
  if (rows.length === 0 && f.page > 1) {
    const c = await db.raw(`select count(*)::int as n from rewards r join partners p on p.id = r.partner_id where ${where}`, params);
    total = c.rows[0].n;
  }
  return {
    items: rows.map(({ total_count: _t, ...r }: Record<string, unknown>) => ({ ...r, id: Number(r.id) }) as unknown as CatalogListItem),
    page: f.page,
    limit: f.limit,
    total,
  };
}

/**
 * Write the whole catalog (active and inactive, by sku) as CSV that `catalog import` takes back
 * unchanged. Read in keyset batches so a large catalog never sits in memory; the file appears only
 * once complete (src/core/files/output.ts), and replaces an existing one only with `replace`.
 */
export async function exportCatalog(
  db: Knex,
  file: string,
  opts: { delimiter?: ',' | ';'; bom?: boolean; replace?: boolean; option?: string } = {},
): Promise<{ file: string; rows: number }> {
  let rows = 0;
  await writeOutputFile(file, { option: opts.option ?? 'FILE', replace: opts.replace }, async (sink) => {
    const csv = stringify({ delimiter: opts.delimiter ?? ',', bom: Boolean(opts.bom), header: true, columns: [...CATALOG_COLUMNS], record_delimiter: 'unix' });
    const done = pipeline(csv, sink);
    done.catch(() => undefined); // awaited below; a write error also stops the loop through `csv`
    try {
      let after = '';
      for (;;) {
        const { rows: batch } = await db.raw(
          `select r.sku, r.name, r.description, r.cost, r.category_code as category, p.code as partner, r.all_territories,
                  r.territories,
                  r.available_from, r.available_to, r.stock, r.fulfilment, r.active
             from rewards r join partners p on p.id = r.partner_id
            where r.sku > ? order by r.sku limit 5000`,
          [after],
        );
        if (batch.length === 0) break;
        for (const r of batch) {
          if (!csv.write(exportCells(r))) await once(csv, 'drain');
          rows++;
        }
        after = batch[batch.length - 1].sku;
      }
      csv.end();
    } catch (err) {
      csv.destroy();
      throw err;
    }
    await done;
  });
  return { file, rows };
}
