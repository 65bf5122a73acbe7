import type { FieldError } from '../errors.js';
import { isIsoDate } from '../time.js';

/**
 * The catalog CSV format (SPEC "Catalog CSV"): header checks, per-cell validation and the
 * formula-cell neutralisation shared by import and export. Pure, so every rule is unit-tested
 * without a database.
 */

export const CATALOG_REQUIRED = ['sku', 'name', 'cost', 'category', 'partner', 'territories', 'available_from', 'available_to', 'stock'] as const;
export const CATALOG_OPTIONAL = ['description', 'fulfilment', 'active'] as const;
/** Column order of an export. */
export const CATALOG_COLUMNS = ['sku', 'name', 'description', 'cost', 'category', 'partner', 'territories', 'available_from', 'available_to', 'stock', 'fulfilment', 'active'] as const;
export type CatalogColumn = (typeof CATALOG_COLUMNS)[number];

export const MAX_NAME = 200;
export const MAX_DESCRIPTION = 4000;
export const MAX_COST = 2_147_483_647;

/** What a reward is, whether read from a partner's file or from the catalog. */
export interface RewardFields {
  sku: string;
  name: string;
  description: string;
  cost: number;
  category: string;
  partner: string;
  /** Territory codes (the catalog shows ['*'] for all). */
  territories: string[];
  available_from: string;
  available_to: string;
  /** Units (still) available; null = unlimited. */
  stock: number | null;
  fulfilment: 'instant' | 'manual';
}

/** The counts every partner-file import reports (catalog and partners alike). */
export interface ImportCounts {
  file: string;
  sha256: string;
  rows: number;
  new: number;
  updated: number;
  unchanged: number;
  dryRun: boolean;
}

export interface RewardInput extends RewardFields {
  line: number;
  partner_id: number;
  all_territories: boolean;
  /** Sorted, unique; empty when `all_territories`. */
  territories: string[];
  active: boolean;
}

/** Map header cells to column positions, with every problem named (line 1, column …). */
export function checkHeader(
  header: string[],
  required: readonly string[],
  optional: readonly string[],
): { index: Map<string, number>; errors: FieldError[] } {
  const known = new Set([...required, ...optional]);
  const index = new Map<string, number>();
  const errors: FieldError[] = [];
  header.forEach((raw, i) => {
    const h = raw.trim().toLowerCase();
    if (!known.has(h)) {
      errors.push({ where: `line 1, column ${raw.trim() || `#${i + 1} (empty)`}`, message: `unknown column (expected: ${[...known].join(', ')})` });
    } else if (index.has(h)) {
      errors.push({ where: `line 1, column ${h}`, message: 'column appears twice' });
    } else index.set(h, i);
  });
  for (const r of required) if (!index.has(r)) errors.push({ where: `line 1, column ${r}`, message: 'required column is missing' });
  return { index, errors };
}

const FORMULA_START = /^'*[=+\-@\t\r]/;
const NEUTRALISED = /^'+[=+\-@\t\r]/;

/**
 * Export: a cell a spreadsheet would run as a formula gets one leading `'`. A cell that is
 * already `'` + formula gets one more, so stripping exactly one on import gives back the value.
 */
export function neutralise(v: string): string {
  return FORMULA_START.test(v) ? `'${v}` : v;
}

/** Import: strip the one `'` an export (or a cautious person) put before a formula-like cell. */
export function unneutralise(v: string): string {
  return NEUTRALISED.test(v) ? v.slice(1) : v;
}

/** A value quoted for an error message, cut short so a 10 MB cell never floods the terminal. */
export function show(v: string): string {
  return JSON.stringify(v.length > 40 ? `${v.slice(0, 37)}...` : v);
}

// Catalogs repeat a handful of dates over many rows: remember the verdicts (bounded).
const dateVerdicts = new Map<string, boolean>();
function validDate(d: string): boolean {
  let ok = dateVerdicts.get(d);
  if (ok === undefined) {
    ok = isIsoDate(d);
    if (dateVerdicts.size < 10_000) dateVerdicts.set(d, ok);
  }
  return ok;
}

const SKU_RE = /^[A-Za-z0-9][A-Za-z0-9._\-/]{0,63}$/;
const CATEGORY_RE = /^[a-z0-9][a-z0-9_-]{0,31}$/;
const INT_RE = /^\d+$/;

export interface RowContext {
  partners: Map<string, number>;
  territories: Set<string>;
}

/**
 * Validate one data row: every problem of every cell, as `line N, column C: reason`.
 * `cell(col)` returns the raw cell ('' when the optional column is absent).
 */
export function validateRewardRow(line: number, cell: (col: CatalogColumn) => string, ctx: RowContext): { row?: RewardInput; errors: FieldError[] } {
  const errors: FieldError[] = [];
  const err = (col: string, message: string) => errors.push({ where: `line ${line}, column ${col}`, message });
  const v = (col: CatalogColumn) => unneutralise(cell(col));
  const t = (col: CatalogColumn) => v(col).trim();

  const sku = t('sku');
  if (!sku) err('sku', 'required');
  else if (!SKU_RE.test(sku)) err('sku', `must be 1-64 characters of letters, digits and . _ - / (starting with a letter or digit), got ${show(sku)}`);

  const name = t('name');
  if (!name) err('name', 'required');
  else if (name.length > MAX_NAME) err('name', `longer than ${MAX_NAME} characters (${name.length})`);

  const description = v('description').trim();
  if (description.length > MAX_DESCRIPTION) err('description', `longer than ${MAX_DESCRIPTION} characters (${description.length})`);

  const costText = t('cost');
  let cost = 0;
  if (!costText) err('cost', 'required');
  else if (!INT_RE.test(costText) || Number(costText) <= 0 || Number(costText) > MAX_COST) {
    err('cost', `must be a whole number of points greater than 0 (no decimals, no separators), got ${show(costText)}`);
  } else cost = Number(costText);

  const category = t('category');
  if (!category) err('category', 'required');
  else if (!CATEGORY_RE.test(category)) err('category', `must be a lower-case code (a-z, 0-9, _ -, at most 32), got ${show(category)}`);

  const partner = t('partner');
  const partnerId = ctx.partners.get(partner);
  if (!partner) err('partner', 'required');
  else if (partnerId === undefined) err('partner', `unknown partner ${show(partner)} (import it first with \`rayon partner import\`)`);

  const terrText = t('territories');
  let territories: string[] = [];
  let all = false;
  if (!terrText) err('territories', 'required (codes separated by |, or * for all)');
  else if (terrText === '*') all = true;
  else {
    const parts = terrText.split('|').map((s) => s.trim());
    const unknown = parts.filter((p) => !ctx.territories.has(p));
    if (unknown.length) err('territories', `unknown territory code(s) ${unknown.map(show).join(', ')} (known: ${[...ctx.territories].sort().join(', ')}, or * for all)`);
    else if (new Set(parts).size !== parts.length) err('territories', `a territory is listed twice in ${show(terrText)}`);
    territories = [...new Set(parts)].sort();
  }

  const from = t('available_from');
  const to = t('available_to');
  const dateOk = (col: CatalogColumn, d: string) => {
    if (!d) err(col, 'required (YYYY-MM-DD)');
    else if (!validDate(d)) err(col, `must be a date as YYYY-MM-DD (e.g. 2026-12-31), got ${show(d)}`);
    else return true;
    return false;
  };
  if (dateOk('available_from', from) && dateOk('available_to', to) && to < from) err('available_to', `${to} is before available_from ${from}`);

  const stockText = t('stock');
  let stock: number | null = null;
  if (stockText) {
    if (!INT_RE.test(stockText) || Number(stockText) > MAX_COST) err('stock', `must be a whole number of units ≥ 0, or empty for unlimited, got ${show(stockText)}`);
    else stock = Number(stockText);
  }

  const fulText = t('fulfilment').toLowerCase();
  if (fulText && fulText !== 'instant' && fulText !== 'manual') err('fulfilment', `must be instant or manual (empty = manual), got ${show(fulText)}`);
  const fulfilment = fulText === 'instant' ? 'instant' : 'manual';

  const activeText = t('active').toLowerCase();
  let active = true;
  if (activeText) {
    if (['true', '1', 'yes', 'oui', 'vrai'].includes(activeText)) active = true;
    else if (['false', '0', 'no', 'non', 'faux'].includes(activeText)) active = false;
    else err('active', `must be true or false (empty = true), got ${show(activeText)}`);
  }

  if (errors.length) return { errors };
  return {
    errors,
    row: {
      line, sku, name, description, cost, category, partner, partner_id: partnerId as number,
      all_territories: all, territories, available_from: from, available_to: to, stock, fulfilment, active,
    },
  };
}

/** One reward as an export line (values neutralised, territories as `*` or `A|B`). */
export function exportCells(r: {
  sku: string; name: string; description: string; cost: number; category: string; partner: string;
  all_territories: boolean; territories: string[] | null; available_from: string; available_to: string;
  stock: number | null; fulfilment: string; active: boolean;
}): string[] {
  return [
    r.sku, r.name, r.description, String(r.cost), r.category, r.partner,
    r.all_territories ? '*' : [...(r.territories ?? [])].sort().join('|'),
    r.available_from, r.available_to, r.stock === null ? '' : String(r.stock), r.fulfilment, r.active ? 'true' : 'false',
  ].map(neutralise);
}
