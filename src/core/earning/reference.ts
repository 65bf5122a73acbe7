import { validationError } from '../errors.js';

/**
 * Text that keys something (SPEC "Earning for actions", "Input bounds"): a `reference_id` is
 * compared after NFKC normalisation with zero-width and bidi characters removed, so `r1`,
 * `r1\u200b` and `cafe\u0301` / `café` are one reference each, not a way to earn twice. Pure.
 */

/**
 * Characters that change nothing a person sees but make two strings differ: zero-width space,
 * non-joiner and joiner (U+200B–U+200D), word joiner (U+2060), byte order mark (U+FEFF), soft
 * hyphen (U+00AD, invisible unless a line breaks there), and the bidi controls (U+200E, U+200F,
 * U+202A–U+202E, U+2066–U+2069, U+061C).
 */
const INVISIBLE_CLASS = '\\u00AD\\u200B-\\u200D\\u2060\\uFEFF\\u200E\\u200F\\u202A-\\u202E\\u2066-\\u2069\\u061C';
export const INVISIBLE_CHARS = new RegExp(`[${INVISIBLE_CLASS}]`, 'g');

/** C0 controls, DEL and C1 controls. */
// eslint-disable-next-line no-control-regex
export const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/;

/** A reference_id holds at most this many characters once normalised (the ledger column's CHECK). */
export const REFERENCE_ID_MAX = 128;
/** The raw text may carry invisible characters beyond that; past this it is refused unread. */
export const REFERENCE_ID_RAW_MAX = 1024;

export function stripInvisible(text: string): string {
  return text.replace(INVISIBLE_CHARS, '');
}

/**
 * NFKC with the invisible characters removed. They are removed before normalising too, so one
 * between a letter and its combining accent does not keep the two from composing.
 */
export function normaliseReference(text: string): string {
  return stripInvisible(stripInvisible(text).normalize('NFKC'));
}

/**
 * `normaliseReference` in SQL, over a trusted column expression (never user input): the same
 * steps, the character class written once for both (PostgreSQL's regular expressions read the
 * same `\uXXXX` escapes). The fraud rules' reference key is built on it
 * (src/core/fraud/reference-key.ts); test/integration/fraud-reference-key.test.ts pins the two.
 */
export function normaliseReferenceSql(column: string): string {
  const strip = (x: string) => `regexp_replace(${x}, '[${INVISIBLE_CLASS}]', '', 'g')`;
  return strip(`normalize(${strip(column)}, NFKC)`);
}

/**
 * normaliseReference with case folded as well (upper then lower case, so `ß`, `SS` and `ss`
 * meet), for rules that compare references loosely; never for the idempotency key.
 */
export function foldReference(text: string): string {
  return normaliseReference(text).toUpperCase().toLowerCase().normalize('NFKC');
}

/** Why `raw` cannot be a reference_id (checked on the raw text, then on its normalised form), or null. */
export function referenceIdProblem(raw: unknown): string | null {
  if (typeof raw !== 'string') return 'must be a string';
  if (CONTROL_CHARS.test(raw)) return 'must contain printable characters only (no control characters)';
  const rawLength = [...raw].length;
  const range = `1-${REFERENCE_ID_MAX} characters`;
  if (rawLength === 0 || rawLength > REFERENCE_ID_RAW_MAX) return `must be ${range}, got ${rawLength}`;
  const length = [...normaliseReference(raw)].length;
  if (length === 0) return `must be ${range} once zero-width and bidi characters are removed, got 0`;
  if (length > REFERENCE_ID_MAX) return `must be ${range} once normalised (NFKC), got ${length}`;
  return null;
}

/** The normalised reference_id, or VALIDATION_ERROR naming `reference_id`. */
export function parseReferenceId(raw: unknown): string {
  const problem = referenceIdProblem(raw);
  if (problem) throw validationError(`reference_id ${problem}`, [{ where: 'reference_id', message: problem }]);
  return normaliseReference(raw as string);
}
