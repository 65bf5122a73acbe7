/**
 * CSV input: strict UTF-8, `,` or `;`, BOM, quoted line breaks. A small file read whole (users,
 * corrections), a large one streamed (catalogs), and the checked byte feed for COPY.
 *
 * The room's door: everything outside src/core/csv/ imports it through this file; the room's own
 * files import each other directly.
 */
export { copyFeed, NotForCopy } from './copy-feed.js';
export { decodeUtf8Strict, detectDelimiter, physicalLines, readCsvTable } from './input.js';
export { openCsvStream, type CsvStream } from './stream.js';
export { completeUpTo, firstInvalidUtf8 } from './utf8.js';
