/**
 * Files the tool writes (SPEC "Security and safety"): every output file through a temporary file
 * renamed into place, never over an input, an existing one replaced only when the caller says so.
 *
 * The room's door: everything outside src/core/files/ imports it through this file; the room's own
 * files import each other directly.
 */
export { checkOutputFile, OutputFile, writeOutputFile, type OutputFileOptions } from './output.js';
