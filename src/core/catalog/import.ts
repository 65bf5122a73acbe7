import fs from 'node:fs';
import path from 'node:path';
import type { Knex } from 'knex';
import { pipeline } from 'node:stream/promises';
import { stringify } from 'csv-stringify';
import { RayonError, type FieldError } from '../errors.js';
import { OutputFile, type OutputFileOptions } from '../files/index.js';
import { audit } from '../audit/index.js';
import { openCsvStream, type CsvStream } from '../csv/index.js';
import { stageWithCopy } from './copy.js';
import { CATALOG_COLUMNS, CATALOG_OPTIONAL, CATALOG_REQUIRED, checkHeader, validateRewardRow, type CatalogColumn, type ImportCounts, type RewardInput, type RowContext } from './csv.js';
import { territoryCodes } from '../users/index.js';
import { canCopy } from '../../db/copy.js';
import { isTransaction } from '../../db/handle.js';
import { STAGE_COLUMNS, applyPlan, belowUnitsTaken, buildPlan, duplicateSkus, newCategories, refreshStatistics, stage, stagedCells, summarise, vacuumAfterBulkChange } from './stage.js';

/**
 * Catalog import: read and validate the whole file, stage the valid rows in a temporary table,
 * then compute the plan and apply it with a few set-based statements — all in one transaction,
 * so one bad row means nothing is written. On PostgreSQL the file goes as is through COPY and is
 * validated in SQL (copy.ts); on the embedded database, or as soon as that fast path has
 * any doubt, the JS path reads it (csv-parse, validateRewardRow) and names every problem.
 * Rows that do not change are not touched, so re-importing an unchanged file writes nothing.
 */

export interface CatalogImportOptions {
  actor: string;
  now: Date;
  dryRun?: boolean;
  /** Deactivate active rewards absent from the file. */
  replace?: boolean;
  /** Write the refused rows there, with an `error` column (never over `file`; see src/core/files/output.ts). */
  rejectFile?: string;
  /** An existing reject file may be replaced (--force, or a confirmation). */
  replaceRejectFile?: boolean;
  /** How many changed rows to list per kind in the result. */
  detailLimit?: number;
  onProgress?: (bytesRead: number, totalBytes: number) => void;
  /** Called at the end of each phase with its duration (benchmarks). */
  onPhase?: (phase: 'read+validate+stage' | 'plan' | 'apply', ms: number) => void;
}

export interface CatalogImportResult extends ImportCounts {
  deactivated: number;
  categoriesCreated: string[];
  details: {
    new: Array<{ line: number; sku: string }>;
    updated: Array<{ line: number; sku: string; fields: string[] }>;
    deactivated: string[];
  };
}

/** Error details kept in memory (all of them go to --reject-file). */
const MAX_DETAILS = 1000;
const BATCH = 5000;


export async function importCatalog(db: Knex, file: string, opts: CatalogImportOptions): Promise<CatalogImportResult> {
  const csv = await openCsvStream(file);
  const { index, errors: headerErrors } = checkHeader(csv.header, CATALOG_REQUIRED, CATALOG_OPTIONAL);
  if (headerErrors.length) {
    throw new RayonError('VALIDATION_ERROR', `${path.basename(file)}: the header row is not valid; nothing was written`, { details: headerErrors });
  }
  const [partners, territories] = await Promise.all([partnerIds(db), territoryCodes(db)]);
  let rejects: RejectWriter | null = null;
  try {
    if (opts.rejectFile) rejects = new RejectWriter({ file: opts.rejectFile, option: '--reject-file', inputs: [file], replace: opts.replaceRejectFile }, csv.header, csv.delimiter);
  } catch (err) {
    csv.close();
    throw err;
  }
  const errors = new ErrorList();
  const limit = opts.detailLimit ?? 100;
  /** Inside the caller's transaction: no vacuum after the commit (there is none yet), so analyse in it. */
  const composed = isTransaction(db);

  try {
    const result = await db.transaction(async (trx) => {
      let mark = performance.now();
      const phase = (name: 'read+validate+stage' | 'plan' | 'apply') => {
        const now = performance.now();
        opts.onPhase?.(name, now - mark);
        mark = now;
      };
      // Sorts and hashes over a whole catalog stay in memory (the default 4 MB spills to disk).
      await trx.raw(`set local work_mem = '64MB'`);
      await trx.raw(`create temp table catalog_stage (${STAGE_COLUMNS}) on commit drop`);
      const useCopy = await canCopy(trx);
      const progress = (bytes: number) => opts.onProgress?.(bytes, csv.totalBytes);
      // PostgreSQL parses and validates the file when it can; the JS reader otherwise, or when it
      // finds anything to refuse (it names every problem).
      const fast = useCopy && (await headerIsFirstLine(file, csv)) ? await stageWithCopy(trx, file, { header: csv.header, index, delimiter: csv.delimiter }, [...territories], progress) : null;
      let rows: number;
      let sha256: () => string;
      if (fast) {
        csv.close();
        rows = fast.rows;
        sha256 = () => fast.sha256;
      } else {
        rows = await stageWithJs(trx, csv, index, { partners, territories }, useCopy, errors, rejects, progress);
        sha256 = csv.sha256;
      }
      if (rows === 0) errors.add([{ where: 'line 2', message: 'the file has a header but no data rows: nothing to import' }]);
      const dups = await duplicateSkus(trx);
      if (dups.length) {
        errors.add(dups);
        await rejects?.writeStaged(trx, 'catalog_stage', dups);
      }
      if (errors.count) return null;

      phase('read+validate+stage');
      await buildPlan(trx);
      const stockErrors = await belowUnitsTaken(trx);
      if (stockErrors.length) {
        errors.add(stockErrors);
        await rejects?.writeStaged(trx, 'catalog_plan', stockErrors);
        return null;
      }
      const planned = await summarise(trx, Boolean(opts.replace), limit);
      phase('plan');
      const base = { file: path.basename(file), sha256: sha256(), rows, dryRun: Boolean(opts.dryRun) };
      if (opts.dryRun) {
        // The transaction is rolled back: a dry run cannot leave anything behind.
        throw new DryRun({ ...base, ...planned, categoriesCreated: await newCategories(trx) });
      }
      const categoriesCreated = await applyPlan(trx, Boolean(opts.replace), opts.now);
      if (composed) await refreshStatistics(trx, planned.new + planned.updated + planned.deactivated);
      phase('apply');
      const res: CatalogImportResult = { ...base, ...planned, categoriesCreated };
      await audit(trx, {
        actor: opts.actor,
        action: 'catalog.import',
        target: res.file,
        at: opts.now,
        details: {
          file: res.file, sha256: res.sha256, rows, new: res.new, updated: res.updated, unchanged: res.unchanged,
          deactivated: res.deactivated, replace: Boolean(opts.replace), categories_created: categoriesCreated,
        },
      });
      return res;
    });
    if (result) {
      await vacuumAfterBulkChange(db, result.new + result.updated + result.deactivated);
      return result;
    }
  } catch (err) {
    if (err instanceof DryRun) return err.result;
    throw err;
  } finally {
    await rejects?.close();
  }
  throw new RayonError(
    'VALIDATION_ERROR',
    `${path.basename(file)}: ${errors.count} error(s); nothing was written${opts.rejectFile ? ` (refused rows written to ${opts.rejectFile})` : ''}`,
    { details: errors.details(), data: { errorCount: errors.count } },
  );
}

/** The JS path: csv-parse, validateRewardRow on every row, valid rows staged in batches. Returns the data rows read. */
async function stageWithJs(
  trx: Knex.Transaction,
  csv: CsvStream,
  index: Map<string, number>,
  ctx: RowContext,
  useCopy: boolean,
  errors: ErrorList,
  rejects: RejectWriter | null,
  progress: (bytes: number) => void,
): Promise<number> {
  let batch: RewardInput[] = [];
  let rows = 0;
  for await (const { line, fields } of csv.rows) {
    rows++;
    progress(csv.bytesRead());
    const rowErrors: FieldError[] = [];
    if (fields.length !== csv.header.length) {
      rowErrors.push({ where: `line ${line}`, message: `has ${fields.length} fields, the header has ${csv.header.length} (a stray delimiter or quote?)` });
    } else {
      const cell = (c: CatalogColumn) => {
        const i = index.get(c);
        return i === undefined ? '' : fields[i];
      };
      const { row, errors: cellErrors } = validateRewardRow(line, cell, ctx);
      rowErrors.push(...cellErrors);
      // Valid rows are staged even in a file already refused: duplicate skus are found there.
      if (row) batch.push(row);
    }
    if (rowErrors.length) {
      errors.add(rowErrors);
      rejects?.write(line, fields, rowErrors);
    }
    if (batch.length >= BATCH) {
      await stage(trx, batch, useCopy);
      batch = [];
    }
  }
  if (batch.length) await stage(trx, batch, useCopy);
  return rows;
}

/**
 * COPY skips exactly one line as the header: the fast path needs the header to be the file's
 * first line, unquoted (no blank lines before it, no line break inside it).
 */
async function headerIsFirstLine(file: string, csv: CsvStream): Promise<boolean> {
  const fh = await fs.promises.open(file, 'r');
  try {
    const buf = Buffer.alloc(64 * 1024);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    const text = buf.subarray(0, bytesRead).toString('utf8').replace(/^\uFEFF/, '');
    const end = text.indexOf('\n');
    if (end === -1) return false;
    const first = text.slice(0, end);
    if (first.includes('"')) return false;
    const cells = first.split(csv.delimiter).map((h) => h.trim());
    return cells.length === csv.header.length && cells.every((h, i) => h === csv.header[i]);
  } finally {
    await fh.close();
  }
}

class DryRun extends Error {
  constructor(readonly result: CatalogImportResult) {
    super('dry run');
  }
}

class ErrorList {
  count = 0;
  private kept: FieldError[] = [];
  add(errs: FieldError[]): void {
    this.count += errs.length;
    for (const e of errs) if (this.kept.length < MAX_DETAILS) this.kept.push(e);
  }
  details(): FieldError[] {
    const lineOf = (e: FieldError) => Number(/^line (\d+)/.exec(e.where)?.[1] ?? 0);
    const kept = this.kept.map(({ where, message }) => ({ where, message })).sort((a, b) => lineOf(a) - lineOf(b));
    const more = this.count - kept.length;
    return more > 0 ? [...kept, { where: '…', message: `${more} more error(s) not shown (use --reject-file to get every refused row)` }] : kept;
  }
}

/** Refused rows as CSV: the line, the original cells, and every error of the row. */
class RejectWriter {
  private readonly out: ReturnType<typeof stringify>;
  private readonly done: Promise<void>;
  private wrote = false;
  private readonly target: OutputFile;
  constructor(
    target: OutputFileOptions & { file: string },
    private readonly header: string[],
    delimiter: string,
  ) {
    this.target = new OutputFile(target.file, target);
    this.out = stringify({ delimiter, header: true, columns: ['line', ...header, 'error'] });
    this.done = pipeline(this.out, this.target.stream);
    this.done.catch(() => undefined); // awaited in close()
  }
  write(line: number, fields: string[], errs: FieldError[]): void {
    this.wrote = true;
    this.out.write([String(line), ...fields, errs.map((e) => `${e.where.replace(/^line \d+, /, '')}: ${e.message}`).join('; ')]);
  }
  /**
   * Errors found after reading (duplicate sku, stock below units taken): the row is rebuilt from
   * its staged values, as an export writes them, in the file's column order.
   */
  async writeStaged(trx: Knex.Transaction, table: 'catalog_stage' | 'catalog_plan', errs: Array<FieldError & { line: number }>): Promise<void> {
    const byLine = new Map(errs.map((e) => [e.line, e]));
    const at = this.header.map((h) => CATALOG_COLUMNS.indexOf(h.trim().toLowerCase() as CatalogColumn));
    for await (const [line, cells] of stagedCells(trx, table, [...byLine.keys()])) {
      this.write(line, at.map((i) => cells[i]), [byLine.get(line) as FieldError]);
    }
  }
  /** Put the file in place when rows were refused; otherwise leave whatever was there untouched. */
  async close(): Promise<void> {
    try {
      this.out.end();
      await this.done;
      if (this.wrote) await this.target.commit();
    } finally {
      await this.target.abort();
    }
  }
}

async function partnerIds(db: Knex): Promise<Map<string, number>> {
  const rows: Array<{ id: number; code: string }> = await db('partners').select('id', 'code');
  return new Map(rows.map((r) => [r.code, Number(r.id)]));
}
