import { parse } from 'csv-parse/sync';
import { RayonError, type FieldError } from '../errors.js';

/**
 * Reading CSV files people really send: UTF-8 with or without BOM, `,` or `;`, quoted fields
 * with line breaks, CRLF. A file that is not UTF-8 is refused naming its first bad line.
 */
export function decodeUtf8Strict(buf: Buffer): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(buf).replace(/^\uFEFF/, '');
  } catch {
    const decoder = new TextDecoder('utf-8', { fatal: true });
    let line = 1;
    let start = 0;
    for (let i = 0; i <= buf.length; i++) {
      if (i === buf.length || buf[i] === 0x0a) {
        try {
          decoder.decode(buf.subarray(start, i));
        } catch {
          throw new RayonError('VALIDATION_ERROR', `line ${line}: the file is not UTF-8 (save it as "CSV UTF-8" and try again)`, {
            details: [{ where: `line ${line}`, message: 'not valid UTF-8' }],
          });
        }
        line++;
        start = i + 1;
      }
    }
    throw new RayonError('VALIDATION_ERROR', 'the file is not UTF-8');
  }
}

/** `;` when the header line has more semicolons than commas (French spreadsheet exports). */
export function detectDelimiter(text: string): ',' | ';' {
  const header = text.slice(0, text.search(/\r?\n|$/));
  const count = (ch: string) => header.split(ch).length - 1;
  return count(';') > count(',') ? ';' : ',';
}

export interface CsvRow {
  line: number;
  values: Record<string, string>;
}

/**
 * Parse a small CSV file fully (corrections, users, partners) with header checks: every
 * required column present, no unknown column. Rows carry their first physical line number.
 */
export function readCsvTable(buf: Buffer, columns: { required: string[]; optional: string[] }): { header: string[]; rows: CsvRow[] } {
  const text = decodeUtf8Strict(buf);
  if (text.trim() === '') throw new RayonError('VALIDATION_ERROR', 'the file is empty: a header row is required');
  const records = parse(text, {
    delimiter: detectDelimiter(text),
    relax_column_count: true,
    skip_empty_lines: false,
    info: true,
    raw: true,
    trim: false,
  }) as unknown as Array<{ record: string[]; raw: string }>;
  const header = records[0].record.map((h) => h.trim());
  const errors: FieldError[] = [];
  const known = new Set([...columns.required, ...columns.optional]);
  for (const h of header) if (!known.has(h)) errors.push({ where: `line 1, column ${h || '(empty)'}`, message: `unknown column (expected ${[...known].join(', ')})` });
  for (const r of columns.required) if (!header.includes(r)) errors.push({ where: 'line 1', message: `missing required column ${r}` });
  const dup = header.filter((h, i) => header.indexOf(h) !== i);
  for (const d of new Set(dup)) errors.push({ where: `line 1, column ${d}`, message: 'column appears twice' });
  if (errors.length) throw new RayonError('VALIDATION_ERROR', 'the header row is not valid', { details: errors });
  const rows: CsvRow[] = [];
  // Physical line numbers from each record's raw text (csv-parse's own counter drifts on CRLF
  // inside quoted fields): a record starts on the line after the previous one ends.
  let next = 1 + physicalLines(records[0].raw);
  for (const rec of records.slice(1)) {
    const line = next;
    next += physicalLines(rec.raw);
    if (rec.record.every((v) => v.trim() === '')) continue;
    const values: Record<string, string> = {};
    header.forEach((h, i) => (values[h] = (rec.record[i] ?? '').trim()));
    if (rec.record.length !== header.length) {
      errors.push({ where: `line ${line}`, message: `has ${rec.record.length} fields, the header has ${header.length}` });
    }
    rows.push({ line, values });
  }
  if (errors.length) throw new RayonError('VALIDATION_ERROR', `${errors.length} row(s) are not valid; nothing was written`, { details: errors });
  return { header, rows };
}

/** How many physical lines a record's raw text spans (its own record delimiter excluded). */
export function physicalLines(raw: string): number {
  const inner = raw.replace(/(\r\n|\n|\r)$/, '');
  return 1 + (inner.match(/\r\n|\r|\n/g)?.length ?? 0);
}
