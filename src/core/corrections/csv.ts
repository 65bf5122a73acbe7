import crypto from 'node:crypto';
import path from 'node:path';
import { RayonError, type FieldError } from '../errors.js';
import { readCsvTable } from '../csv/index.js';
import { pointsAmountProblem } from '../bounds.js';
import type { CorrectionFile, CorrectionLine } from './batch.js';
import { USER_ID_RE } from '../users/index.js';

/**
 * A bulk corrections file: `user_id,amount,reason,ticket,ref`. Every bad row is reported with
 * its line and column; `ref` is unique in the file and keys the row.
 */
export function parseCorrectionsCsv(buf: Buffer, fileName: string): CorrectionFile {
  const { rows } = readCsvTable(buf, { required: ['user_id', 'amount', 'reason', 'ref'], optional: ['ticket'] });
  const errors: FieldError[] = [];
  const lines: CorrectionLine[] = [];
  const refs = new Map<string, number>();
  for (const { line, values } of rows) {
    const at = (col: string) => `line ${line}, column ${col}`;
    const before = errors.length;
    if (!USER_ID_RE.test(values.user_id)) errors.push({ where: at('user_id'), message: 'must be a user id (1-64 of A-Z a-z 0-9 _ . -)' });
    const amount = /^[+-]?\d+$/.test(values.amount) ? Number(values.amount) : NaN;
    const amountProblem = Number.isInteger(amount) ? pointsAmountProblem(amount) : `must be a whole number of points, got ${JSON.stringify(values.amount)}`;
    if (amountProblem) errors.push({ where: at('amount'), message: amountProblem });
    if (!values.reason) errors.push({ where: at('reason'), message: 'is required' });
    if (!/^[A-Za-z0-9_.:-]{1,100}$/.test(values.ref)) errors.push({ where: at('ref'), message: 'is required: 1-100 of A-Z a-z 0-9 _ . : -' });
    else if (refs.has(values.ref)) errors.push({ where: at('ref'), message: `duplicate ref, already on line ${refs.get(values.ref)}` });
    else refs.set(values.ref, line);
    if (errors.length === before) {
      lines.push({ userId: values.user_id, amount, reason: values.reason, ticket: values.ticket || null, ref: values.ref, where: `line ${line}` });
    }
  }
  if (errors.length) throw new RayonError('VALIDATION_ERROR', `${errors.length} problem(s) in ${path.basename(fileName)}; nothing was written`, { details: errors });
  if (lines.length === 0) throw new RayonError('VALIDATION_ERROR', `${path.basename(fileName)} has a header but no rows`);
  return { fileName: path.basename(fileName), sha256: crypto.createHash('sha256').update(buf).digest('hex'), lines };
}
