import crypto from 'node:crypto';
import fs from 'node:fs';
import { isUtf8 } from 'node:buffer';
import { Transform, type TransformCallback } from 'node:stream';
import { parse, CsvError } from 'csv-parse';
import { RayonError } from '../errors.js';
import { detectDelimiter, physicalLines } from './input.js';
import { completeUpTo, firstInvalidUtf8 } from './utf8.js';

/**
 * Streaming CSV reader for files too large to hold in memory (catalogs of a million rows):
 * the same tolerance as `readCsvTable` (BOM, `,` or `;`, quoted line breaks, CRLF, blank
 * trailing lines) with a strict UTF-8 check done on the bytes as they pass, so a Windows-1252
 * file is refused naming its first bad line before anything is written.
 */

export interface StreamRow {
  /** Physical line where the record starts (1 = header). */
  line: number;
  fields: string[];
}

export interface CsvStream {
  header: string[];
  delimiter: ',' | ';';
  rows: AsyncIterable<StreamRow>;
  /** SHA-256 (hex) of the whole file, complete once `rows` is exhausted. */
  sha256(): string;
  bytesRead(): number;
  totalBytes: number;
  /** Stop reading (when the rows are not wanted after all). */
  close(): void;
}

/** Records larger than this are refused (a runaway quote would otherwise swallow the file). */
export const MAX_RECORD_BYTES = 32 * 1024 * 1024;

export async function openCsvStream(file: string): Promise<CsvStream> {
  let stat: fs.Stats;
  try {
    stat = await fs.promises.stat(file);
  } catch (err) {
    throw new RayonError('VALIDATION_ERROR', `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  if (!stat.isFile()) throw new RayonError('VALIDATION_ERROR', `${file} is not a file`);
  const head = await readHead(file, 64 * 1024);
  const headText = head.toString('utf8').replace(/^\uFEFF/, '');
  if (headText.trim() === '') throw new RayonError('VALIDATION_ERROR', 'the file is empty: a header row is required', { details: [{ where: 'line 1', message: 'empty file' }] });
  const delimiter = detectDelimiter(headText);

  const hash = crypto.createHash('sha256');
  const check = new Utf8LineCheck(hash);
  const parser = parse({
    delimiter,
    bom: true,
    raw: true,
    relax_column_count: true,
    skip_empty_lines: false,
    max_record_size: MAX_RECORD_BYTES,
  });
  const source = fs.createReadStream(file, { highWaterMark: 1024 * 1024 });
  source.on('error', (e) => check.destroy(e));
  check.on('error', (e) => parser.destroy(e));
  source.pipe(check).pipe(parser);

  const it = parser[Symbol.asyncIterator]() as AsyncIterator<{ record: string[]; raw: string }>;
  let next = 1;
  const pull = async (): Promise<StreamRow | null> => {
    try {
      const r = await it.next();
      if (r.done) return null;
      const line = next;
      next += physicalLines(r.value.raw);
      return { line, fields: r.value.record };
    } catch (err) {
      throw mapParseError(err, next);
    }
  };

  let first = await pull();
  // Blank lines before the header carry nothing: skip them but keep counting lines.
  while (first && isBlank(first.fields)) first = await pull();
  if (!first) {
    source.destroy();
    throw new RayonError('VALIDATION_ERROR', 'the file is empty: a header row is required', { details: [{ where: 'line 1', message: 'empty file' }] });
  }
  const header = first.fields.map((h) => h.trim());
  async function* rows(): AsyncIterable<StreamRow> {
    try {
      for (let r = await pull(); r; r = await pull()) {
        // Spreadsheets pad exports with rows of bare delimiters: they are blank lines.
        if (!isBlank(r.fields)) yield r;
      }
    } finally {
      source.destroy();
    }
  }
  return {
    header,
    delimiter,
    rows: rows(),
    sha256: () => check.digest(),
    bytesRead: () => check.bytes,
    totalBytes: stat.size,
    close: () => source.destroy(),
  };
}

function isBlank(fields: string[]): boolean {
  return fields.every((f) => f.trim() === '');
}

async function readHead(file: string, size: number): Promise<Buffer> {
  const fh = await fs.promises.open(file, 'r');
  try {
    const buf = Buffer.alloc(size);
    const { bytesRead } = await fh.read(buf, 0, size, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

function mapParseError(err: unknown, line: number): unknown {
  if (err instanceof RayonError) return err;
  if (err instanceof CsvError) {
    const where = `line ${line}`;
    const msg =
      err.code === 'CSV_QUOTE_NOT_CLOSED'
        ? 'a quoted field is never closed (a missing `"`)'
        : err.code === 'CSV_MAX_RECORD_SIZE'
          ? `a record is larger than ${MAX_RECORD_BYTES / 1024 / 1024} MB (a missing \`"\`?)`
          : err.message.replace(/^Invalid Record Length: |^/, '');
    return new RayonError('VALIDATION_ERROR', `${where}: the file is not valid CSV: ${msg}`, { details: [{ where, message: msg }] });
  }
  return err;
}

/**
 * Pass-through that hashes the bytes, counts lines and refuses the first byte sequence that is
 * not UTF-8. Chunks are cut at a character boundary (an incomplete trailing sequence waits for
 * the next chunk) so the fast native check can run on whole chunks.
 */
class Utf8LineCheck extends Transform {
  bytes = 0;
  private lines = 0;
  private carry: Buffer = Buffer.alloc(0);
  private hex?: string;
  constructor(private readonly hash: crypto.Hash) {
    super();
  }

  digest(): string {
    this.hex ??= this.hash.digest('hex');
    return this.hex;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    const data = this.carry.length ? Buffer.concat([this.carry, chunk]) : chunk;
    const cut = completeUpTo(data);
    const whole = data.subarray(0, cut);
    this.carry = Buffer.from(data.subarray(cut));
    const err = this.check(whole);
    if (err) return cb(err);
    cb(null, whole);
  }

  override _flush(cb: TransformCallback): void {
    const err = this.carry.length ? this.check(this.carry) : null;
    cb(err ?? null);
  }

  private check(buf: Buffer): RayonError | null {
    if (isUtf8(buf)) {
      this.lines += countNewlines(buf, buf.length);
      return null;
    }
    const bad = firstInvalidUtf8(buf);
    const line = this.lines + countNewlines(buf, bad) + 1;
    const where = `line ${line}`;
    return new RayonError(
      'VALIDATION_ERROR',
      `${where}: the file is not UTF-8 (byte 0x${buf[bad].toString(16).toUpperCase()}); save it as "CSV UTF-8" and import it again — nothing was written`,
      { details: [{ where, message: 'not valid UTF-8' }] },
    );
  }
}

function countNewlines(buf: Buffer, end: number): number {
  let n = 0;
  for (let i = buf.indexOf(10); i !== -1 && i < end; i = buf.indexOf(10, i + 1)) n++;
  return n;
}
