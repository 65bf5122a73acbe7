/**
 * CSV input: strict UTF-8, `,` or `;`, BOM, quoted line breaks. A small file read whole (users,
 * corrections), a large one streamed (catalogs), and the checked byte feed for COPY.
 *
 * The room's door: everything outside src/core/csv/ imports it through this file; the room's own
 * files import each other directly.
 */
export { decodeUtf8Strict, detectDelimiter, physicalLines, readCsvTable } from './input.js';
export { completeUpTo, copyFeed, firstInvalidUtf8, NotForCopy, openCsvStream, type CsvStream } from './stream.js';
