import path from 'node:path';
import type { Knex } from 'knex';
import { RayonError, type FieldError } from '../errors.js';
import { audit } from '../audit/index.js';
import { openCsvStream } from '../csv/index.js';
import { checkHeader, show, unneutralise, type ImportCounts } from './csv.js';
import { territoryCodes } from '../users/index.js';

/**
 * Partners (SPEC "Catalog, partners, redemptions"): imported from CSV
 * `code,name,territory,commission_rate,contract_details`, upserted by code, in one transaction.
 */

export const PARTNER_REQUIRED = ['code', 'name', 'territory', 'commission_rate'] as const;
export const PARTNER_OPTIONAL = ['contract_details'] as const;

export interface PartnerInput {
  line: number;
  code: string;
  name: string;
  territory: string;
  /** Decimal fraction as text, exact (numeric(6,5) in the database). */
  commission_rate: string;
  contract_details: string | null;
}

const CODE_RE = /^[A-Za-z0-9_-]{1,32}$/;
// 0 ≤ rate < 1 with at most 5 decimals; a French spreadsheet writes 0,05.
const RATE_RE = /^(0|0?[.,]\d{1,5})$/;

export function validatePartnerRow(line: number, cell: (c: string) => string, territories: Set<string>): { row?: PartnerInput; errors: FieldError[] } {
  const errors: FieldError[] = [];
  const err = (col: string, message: string) => errors.push({ where: `line ${line}, column ${col}`, message });
  const t = (c: string) => unneutralise(cell(c)).trim();
  const code = t('code');
  if (!CODE_RE.test(code)) err('code', `must be 1-32 characters of A-Z a-z 0-9 _ -, got ${show(code)}`);
  const name = t('name');
  if (!name) err('name', 'required');
  else if (name.length > 200) err('name', `longer than 200 characters (${name.length})`);
  const territory = t('territory');
  if (!territories.has(territory)) err('territory', `unknown territory ${show(territory)} (known: ${[...territories].sort().join(', ')})`);
  const rateText = t('commission_rate');
  if (!RATE_RE.test(rateText)) err('commission_rate', `must be a decimal fraction 0 ≤ rate < 1 with at most 5 decimals (0.05 for 5%), got ${show(rateText)}`);
  const details = t('contract_details');
  if (details.length > 4000) err('contract_details', `longer than 4000 characters (${details.length})`);
  if (errors.length) return { errors };
  const rate = rateText.replace(',', '.');
  return { errors, row: { line, code, name, territory, commission_rate: rate.startsWith('.') ? `0${rate}` : rate, contract_details: details || null } };
}

export type PartnerImportResult = ImportCounts;

export async function importPartners(db: Knex, file: string, opts: { actor: string; now: Date; dryRun?: boolean }): Promise<PartnerImportResult> {
  const csv = await openCsvStream(file);
  const { index, errors: headerErrors } = checkHeader(csv.header, PARTNER_REQUIRED, PARTNER_OPTIONAL);
  if (headerErrors.length) throw new RayonError('VALIDATION_ERROR', `${path.basename(file)}: the header row is not valid; nothing was written`, { details: headerErrors });
  const territories = await territoryCodes(db);
  const errors: FieldError[] = [];
  const rows: PartnerInput[] = [];
  const seen = new Map<string, number>();
  // Partner files are small (tens of rows): they are validated in full, then written at once.
  for await (const { line, fields } of csv.rows) {
    if (fields.length !== csv.header.length) {
      errors.push({ where: `line ${line}`, message: `has ${fields.length} fields, the header has ${csv.header.length}` });
      continue;
    }
    const { row, errors: e } = validatePartnerRow(line, (c) => (index.has(c) ? fields[index.get(c) as number] : ''), territories);
    errors.push(...e);
    const code = row?.code;
    if (code && seen.has(code)) errors.push({ where: `line ${line}, column code`, message: `duplicate code ${JSON.stringify(code)} (first on line ${seen.get(code)})` });
    else if (row) {
      seen.set(row.code, line);
      rows.push(row);
    }
  }
  if (rows.length === 0 && errors.length === 0) errors.push({ where: 'line 2', message: 'the file has a header but no data rows: nothing to import' });
  if (errors.length) throw new RayonError('VALIDATION_ERROR', `${path.basename(file)}: ${errors.length} error(s); nothing was written`, { details: errors });

  const base = { file: path.basename(file), sha256: csv.sha256(), rows: rows.length, dryRun: Boolean(opts.dryRun) };
  return db.transaction(async (trx) => {
    const existing: Array<Record<string, unknown>> = await trx('partners')
      .select('code', 'name', 'territory_code', trx.raw('commission_rate::text as rate'), 'contract_details')
      .whereIn('code', rows.map((r) => r.code))
      .forUpdate();
    const byCode = new Map(existing.map((e) => [e.code as string, e]));
    const changed = rows.filter((r) => {
      const e = byCode.get(r.code);
      return e && (e.name !== r.name || e.territory_code !== r.territory || Number(e.rate) !== Number(r.commission_rate) || e.contract_details !== r.contract_details);
    });
    const fresh = rows.filter((r) => !byCode.has(r.code));
    const result = { ...base, new: fresh.length, updated: changed.length, unchanged: rows.length - fresh.length - changed.length };
    if (opts.dryRun) return result;
    const write = [...fresh, ...changed];
    if (write.length) await trx.raw(
      `insert into partners (code, name, territory_code, commission_rate, contract_details, created_at, updated_at)
       select x.code, x.name, x.territory, x.commission_rate::numeric, x.contract_details, ?, ?
         from json_to_recordset(?::json) as x(code text, name text, territory text, commission_rate text, contract_details text)
       on conflict (code) do update set name = excluded.name, territory_code = excluded.territory_code,
          commission_rate = excluded.commission_rate, contract_details = excluded.contract_details, updated_at = excluded.updated_at`,
      [opts.now, opts.now, JSON.stringify(write)],
    );
    await audit(trx, {
      actor: opts.actor, action: 'partner.import', target: base.file, at: opts.now,
      details: { file: base.file, sha256: base.sha256, rows: rows.length, new: result.new, updated: result.updated, unchanged: result.unchanged },
    });
    return result;
  });
}

export async function listPartners(db: Knex) {
  const rows = await db('partners as p')
    .select('p.id', 'p.code', 'p.name', 'p.territory_code as territory', db.raw('p.commission_rate::text as commission_rate'), 'p.contract_details')
    .select(db.raw('(select count(*)::int from rewards r where r.partner_id = p.id and r.active) as active_rewards'))
    .orderBy('p.code');
  return rows as Array<{ id: number; code: string; name: string; territory: string; commission_rate: string; contract_details: string | null; active_rewards: number }>;
}
