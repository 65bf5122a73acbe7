import crypto from 'node:crypto';
import fs from 'node:fs';
import { isUtf8 } from 'node:buffer';
import { MAX_RECORD_BYTES } from './stream.js';
import { completeUpTo } from './utf8.js';

/** A CSV file as PostgreSQL's COPY will read it (the catalog's fast path): its bytes, checked on the way. */

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
