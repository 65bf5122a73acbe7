import crypto from 'node:crypto';
import fs from 'node:fs';
import { isUtf8 } from 'node:buffer';
import { Transform, type TransformCallback } from 'node:stream';
import { parse, CsvError } from 'csv-parse';
import { RayonError } from '../errors.js';
import { detectDelimiter, physicalLines } from './input.js';

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

/** Length of the prefix that does not end inside a multi-byte sequence. */
export function completeUpTo(b: Buffer): number {
  const len = b.length;
  let k = len - 1;
  while (k >= 0 && k >= len - 4 && (b[k] & 0xc0) === 0x80) k--;
  if (k < 0 || b[k] < 0xc0) return len;
  const need = b[k] >= 0xf0 ? 4 : b[k] >= 0xe0 ? 3 : 2;
  return len - k < need ? k : len;
}

/** Offset of the first byte that does not start a valid UTF-8 sequence (-1 when valid). */
export function firstInvalidUtf8(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i];
    if (c < 0x80) {
      i++;
      continue;
    }
    let n: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) n = 1;
    else if (c >= 0xe0 && c <= 0xef) {
      n = 2;
      if (c === 0xe0) lo = 0xa0;
      if (c === 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      n = 3;
      if (c === 0xf0) lo = 0x90;
      if (c === 0xf4) hi = 0x8f;
    } else return i;
    if (i + n >= b.length) return i; // truncated sequence at the end of the file
    if (b[i + 1] < lo || b[i + 1] > hi) return i;
    for (let k = 2; k <= n; k++) if ((b[i + k] & 0xc0) !== 0x80) return i;
    i += n + 1;
  }
  return -1;
}

/** The fast path cannot take this file as is: the JS reader takes over (and names any problem). */
export class NotForCopy extends Error {}

export interface CopyFeed {
  /** The file's bytes for `COPY … (format csv, header true)`: BOM and trailing blank lines removed. */
  chunks: AsyncIterable<Buffer>;
  /** SHA-256 (hex) of the whole file, once `chunks` is exhausted. */
  sha256(): string;
  /** A quoted field held a line break: line numbers are no longer record numbers + 1. */
  multiLine(): boolean;
}

const isBlankByte = (c: number) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;

/**
 * The raw bytes of a CSV file for PostgreSQL's own CSV parser, checked on the way so that
 * PostgreSQL never reads a record differently from the JS reader (csv-parse): UTF-8 only, a `"`
 * only at the start of a field, a closing `"` followed by a delimiter or a line end, no `\.` at
 * a line start (COPY's end-of-data marker). Anything else throws NotForCopy.
 * Field counts, line ends and blank lines inside the file are left to COPY, which refuses them.
 */
export function copyFeed(file: string, delimiter: ',' | ';', onBytes?: (bytes: number) => void): CopyFeed {
  const hash = crypto.createHash('sha256');
  const delim = delimiter.charCodeAt(0);
  let hex: string | undefined;
  let multi = false;
  let inQuote = false;
  let quoteAtEnd = false; // inside quotes, the previous chunk ended on a `"`
  let prev = 0x0a; // the byte before the current chunk (a line start at first)

  const scan = (b: Buffer): void => {
    for (let k = b.indexOf(0x5c); k !== -1; k = b.indexOf(0x5c, k + 1)) {
      const before = k === 0 ? prev : b[k - 1];
      if ((before === 0x0a || before === 0x0d) && (k + 1 >= b.length || b[k + 1] === 0x2e)) throw new NotForCopy('\\. at a line start');
    }
    let i = 0;
    const n = b.length;
    if (quoteAtEnd && n) {
      quoteAtEnd = false;
      if (b[0] === 0x22) i = 1;
      else if (b[0] === delim || b[0] === 0x0a || b[0] === 0x0d) inQuote = false;
      else throw new NotForCopy('invalid closing quote');
    }
    while (i < n) {
      const q = b.indexOf(0x22, i);
      if (inQuote) {
        const end = q === -1 ? n : q;
        if (!multi) for (let k = i; k < end; k++) if (b[k] === 0x0a || b[k] === 0x0d) { multi = true; break; }
        if (q === -1) break;
        if (q + 1 >= n) { quoteAtEnd = true; break; }
        const c = b[q + 1];
        if (c === 0x22) i = q + 2;
        else if (c === delim || c === 0x0a || c === 0x0d) { inQuote = false; i = q + 1; }
        else throw new NotForCopy('invalid closing quote');
      } else {
        if (q === -1) break;
        const before = q === 0 ? prev : b[q - 1];
        if (before !== delim && before !== 0x0a && before !== 0x0d) throw new NotForCopy('quote inside an unquoted field');
        inQuote = true;
        i = q + 1;
      }
    }
    if (n) prev = b[n - 1];
  };

  async function* chunks(): AsyncIterable<Buffer> {
    const source = fs.createReadStream(file, { highWaterMark: 1 << 20 });
    let carry: Buffer = Buffer.alloc(0);
    let bytes = 0;
    let first = true;
    let held: Buffer[] = [];
    let heldBytes = 0;
    try {
      for await (const raw of source as AsyncIterable<Buffer>) {
        hash.update(raw);
        bytes += raw.length;
        onBytes?.(bytes);
        const data = carry.length ? Buffer.concat([carry, raw]) : raw;
        const cut = completeUpTo(data);
        let b = data.subarray(0, cut);
        carry = Buffer.from(data.subarray(cut));
        if (!isUtf8(b)) throw new NotForCopy('not UTF-8');
        if (first && b.length) {
          first = false;
          if (b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) b = b.subarray(3);
        }
        scan(b);
        // Trailing blank lines are held back until something follows them: COPY refuses them.
        let end = b.length;
        while (end > 0 && isBlankByte(b[end - 1])) end--;
        if (end > 0) {
          for (const h of held) yield h;
          held = [];
          heldBytes = 0;
          yield b.subarray(0, end);
        }
        if (end < b.length) {
          held.push(Buffer.from(b.subarray(end)));
          heldBytes += b.length - end;
          if (heldBytes > MAX_RECORD_BYTES) throw new NotForCopy('too many blank bytes');
        }
      }
      if (carry.length || (inQuote && !quoteAtEnd)) throw new NotForCopy(carry.length ? 'not UTF-8' : 'a quote is never closed');
      hex = hash.digest('hex');
    } finally {
      source.destroy();
    }
  }
  return {
    chunks: chunks(),
    sha256: () => {
      if (!hex) throw new Error('the file was not read to its end');
      return hex;
    },
    multiLine: () => multi,
  };
}
