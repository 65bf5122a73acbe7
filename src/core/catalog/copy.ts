import type { Knex } from 'knex';
import { copyIn } from '../../db/copy.js';
import { copyFeed, NotForCopy } from '../csv/index.js';
import { MAX_COST, MAX_DESCRIPTION, MAX_NAME, type CatalogColumn } from './csv.js';

/**
 * The catalog import's fast path on PostgreSQL: the file goes as is to `COPY … (format csv)` into
 * a temporary table of text cells (catalog_raw), and one set-based statement validates the cells
 * and stages the rows, replacing csv-parse and the per-cell JavaScript checks (~10x slower).
 *
 * It only ever says yes: its rules are the rules of validateRewardRow (csv.ts) or
 * stricter, so it never stages a row the JavaScript validator refuses (a differential test feeds
 * both random rows). On any doubt — a COPY error, one row it does not accept, a file shape COPY
 * would read differently — it rolls back to its savepoint and returns null: the caller then runs
 * the JavaScript path, which writes the exact `line N, column C: reason` messages.
 */

/** What String.prototype.trim removes: trimming in SQL must give the same values as in JS. */
export const JS_WHITESPACE = '\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff';

/** A literal no CSV cell can end a dollar quote with. */
const lit = (s: string) => `$rayon$${s}$rayon$`;

export interface RawColumns {
  /** The raw table's column holding each catalog column (absent optional columns: none). */
  cell(col: CatalogColumn): string | null;
  /** Every raw column, for the blank-row test and line counting. */
  all: string[];
}

export function rawColumns(index: Map<string, number>, width: number): RawColumns {
  return {
    cell: (col) => {
      const i = index.get(col);
      return i === undefined ? null : `c${i + 1}`;
    },
    all: Array.from({ length: width }, (_, i) => `c${i + 1}`),
  };
}

export function rawTableDdl(width: number): string {
  return `create temp table catalog_raw (ord int generated always as identity, ${Array.from({ length: width }, (_, i) => `c${i + 1} text`).join(', ')}) on commit drop`;
}

const WS = lit(JS_WHITESPACE);
/** The cell as validateRewardRow's `t()` sees it: one neutralising `'` stripped, then trimmed. */
const trimmed = (c: string) => `btrim(case when ${c} ~ ${lit("^'+[-=+@\t\r]")} then substr(${c}, 2) else ${c} end, ${WS})`;
/** The same, answering at once for the usual cell (no `'` first, no white space at either end). */
const clean = (c: string | null) =>
  c === null ? `''` : `(case when strpos(${lit(`${JS_WHITESPACE}'`)}, left(${c}, 1)) = 0 and strpos(${WS}, right(${c}, 1)) = 0 then ${c} else ${trimmed(`coalesce(${c}, '')`)} end)`;
/** JavaScript's `length` counts UTF-16 units: characters beyond U+FFFF count twice. */
const u16max = (x: string, n: number) =>
  `(octet_length(${x}) <= ${n} or (char_length(${x}) <= ${n} and char_length(${x}) + char_length(regexp_replace(${x}, ${lit('[^\\U00010000-\\U0010FFFF]')}, '', 'g')) <= ${n}))`;
/** An unsigned integer text (already matched by [0-9]+) between min and MAX_COST. */
const intIn = (x: string, min: number) => `(case when octet_length(${x}) <= 9 then ${x}::int >= ${min} else ${x}::numeric between ${min} and ${MAX_COST} end)`;
/** A YYYY-MM-DD the shape regex accepted (year >= 100, month 01-12, day 01-31): a real calendar day. */
const dayExists = (x: string) => `(substr(${x}, 9, 2) <= '28' or substr(${x}, 9, 2)::int <=
    case substr(${x}, 6, 2)::int when 2 then case when (substr(${x}, 1, 4)::int % 4 = 0 and substr(${x}, 1, 4)::int % 100 <> 0) or substr(${x}, 1, 4)::int % 400 = 0 then 29 else 28 end
      when 4 then 30 when 6 then 30 when 9 then 30 when 11 then 30 else 31 end)`;
/** Line breaks in a cell, counted as physicalLines() counts them (\r\n, \r or \n). */
const breaks = (c: string) => `coalesce(char_length(replace(${c}, E'\\r\\n', E'\\n')) - char_length(translate(replace(${c}, E'\\r\\n', E'\\n'), E'\\r\\n', '')), 0)`;

/** The words validateRewardRow takes in any letter case; the usual spellings skip the lower() and the regex. */
const word = (x: string, words: string[]) =>
  `(${x} in ('', ${words.map((w) => `'${w}'`).join(', ')}) or (${x} ~ '^[A-Za-z01]+$' and lower(${x}) in (${words.map((w) => `'${w}'`).join(', ')})))`;
const ACTIVE_TRUE = ['true', '1', 'yes', 'oui', 'vrai'];
const ACTIVE_FALSE = ['false', '0', 'no', 'non', 'faux'];

/**
 * The statement that validates catalog_raw and stages the rows it accepts (the row count is the
 * result's rowCount). Blank rows are not staged: the caller counts them apart.
 * The strict cells must appear raw — no neutralising `'`, no white space to trim (such rows go
 * to the JS path) — and are tested with one short regular expression each: PostgreSQL's regex
 * engine is slow on long alternations and bounded repeats, so lengths and ranges are tested apart.
 */
export function validateAndStageSql(cols: RawColumns, multiLine: boolean, knownTerritories: string[]): string {
  const line = multiLine
    ? `1 + ord + coalesce(sum(${cols.all.map(breaks).join(' + ')}) over (order by ord rows between unbounded preceding and 1 preceding), 0)`
    : '1 + ord';
  const known = `array[${knownTerritories.map((k) => lit(k)).join(', ')}]::text[]`;
  const raw = (c: CatalogColumn) => {
    const x = cols.cell(c);
    return x === null ? `''` : `coalesce(${x}, '')`;
  };
  const date = (x: string) => `(${x} ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' and ${x} >= '0100' and substr(${x}, 6, 2) between '01' and '12' and substr(${x}, 9, 2) between '01' and '31')`;
  return `
    with s as (
      select (${line})::int as line, ${raw('sku')} as sku, ${clean(cols.cell('name'))} as name, ${clean(cols.cell('description'))} as description,
             ${raw('cost')} as cost, ${raw('category')} as category, ${raw('partner')} as partner, ${raw('territories')} as terr,
             ${raw('available_from')} collate "C" as available_from, ${raw('available_to')} collate "C" as available_to, ${raw('stock')} as stock,
             ${raw('fulfilment')} as fulfilment, ${raw('active')} as active
        from catalog_raw
    ), v as (
      select s.*, p.id as partner_id, strpos(terr, '|') > 0 as several,
             split_part(terr, '|', 1) collate "C" as t1, split_part(terr, '|', 2) collate "C" as t2, split_part(terr, '|', 3) <> '' as more
        from s left join partners p on p.code = s.partner
    )
    insert into catalog_stage (line, sku, name, description, cost, category, partner_id, all_territories, territories,
                               available_from, available_to, stock, fulfilment, active)
    select line, sku, name, description, cost::int, category, partner_id, terr = '*',
           case when terr = '*' then '{}'::text[] when not several then array[terr]
                when not more then array[least(t1, t2), greatest(t1, t2)]
                else (select array_agg(x order by x collate "C") from unnest(string_to_array(terr, '|')) x) end,
           available_from::date, available_to::date, case when stock = '' then null else stock::int end,
           case when lower(fulfilment) = 'instant' then 'instant' else 'manual' end,
           active = '' or lower(active) in (${ACTIVE_TRUE.map((w) => `'${w}'`).join(', ')})
      from v
     where case when sku ~ '^[A-Za-z0-9][A-Za-z0-9._/-]*$' and octet_length(sku) <= 64
                 and cost ~ '^[0-9]+$' and (stock = '' or stock ~ '^[0-9]+$')
                 and category ~ '^[a-z0-9][a-z0-9_-]*$' and octet_length(category) <= 32
                 and ${date('available_from')} and ${date('available_to')}
           then ${intIn('cost', 1)} and (stock = '' or ${intIn('stock', 0)})
                and ${dayExists('available_from')} and ${dayExists('available_to')} and available_to >= available_from
                and partner_id is not null
                and ${word('fulfilment', ['instant', 'manual'])} and ${word('active', [...ACTIVE_TRUE, ...ACTIVE_FALSE])}
                and name <> '' and ${u16max('name', MAX_NAME)} and ${u16max('description', MAX_DESCRIPTION)}
                and (terr = '*' or (terr <> '' and string_to_array(terr, '|') <@ ${known}
                     and (not several or case when not more then t1 <> t2
                          else cardinality(string_to_array(terr, '|')) = (select count(distinct x) from unnest(string_to_array(terr, '|')) x) end)))
           else false end`;
}

export function countBlankSql(cols: RawColumns): string {
  return `select count(*)::int as n from catalog_raw where ${cols.all.map((c) => `btrim(coalesce(${c}, ''), ${WS}) = ''`).join(' and ')}`;
}

export interface CopyStaged {
  /** Data rows (blank rows not counted), as the JS reader counts them. */
  rows: number;
  sha256: string;
}

/** Errors that mean "COPY read something it did not like": the JS path will say what. */
const isDataError = (err: unknown) => err instanceof NotForCopy || /^(22|54)/.test(String((err as { code?: string })?.code ?? ''));

/**
 * Stage the whole file through COPY, or return null (nothing staged) when the JavaScript path
 * must take over. Runs inside the import's transaction, under a savepoint.
 */
export async function stageWithCopy(
  trx: Knex.Transaction,
  file: string,
  shape: { header: string[]; index: Map<string, number>; delimiter: ',' | ';' },
  territories: string[],
  onBytes?: (bytes: number) => void,
): Promise<CopyStaged | null> {
  const cols = rawColumns(shape.index, shape.header.length);
  await trx.raw('savepoint catalog_copy');
  try {
    await trx.raw(rawTableDdl(shape.header.length));
    const feed = copyFeed(file, shape.delimiter, onBytes);
    const copied = await copyIn(trx, 'catalog_raw', cols.all, feed.chunks, `format csv, header true, delimiter '${shape.delimiter}'`);
    const staged = (await trx.raw(validateAndStageSql(cols, feed.multiLine(), territories))).rowCount as number;
    let rows = staged;
    if (staged !== copied) {
      // Rows of bare delimiters (spreadsheet padding) are blank lines; anything else is refused.
      const blank = (await trx.raw(countBlankSql(cols))).rows[0].n as number;
      if (staged + blank !== copied) return await giveUp(trx);
      rows = copied - blank;
    }
    if (rows === 0) return await giveUp(trx);
    await trx.raw('release savepoint catalog_copy');
    return { rows, sha256: feed.sha256() };
  } catch (err) {
    if (!isDataError(err)) throw err;
    return await giveUp(trx);
  }
}

async function giveUp(trx: Knex.Transaction): Promise<null> {
  await trx.raw('rollback to savepoint catalog_copy');
  await trx.raw('release savepoint catalog_copy');
  return null;
}
