import { normaliseReference, normaliseReferenceSql } from '../earning/index.js';

/**
 * The key under which the `shared_reference` rule compares `reference_id`s (SPEC "Fraud and
 * suspensions": NFKC, case folding, zero-width and bidi characters removed). The rule computes it
 * in SQL over a whole window of earns; `referenceKey` is its TypeScript twin, and a differential
 * test pins one to the other.
 *
 * Steps, in this order:
 * 1. the earning normaliser (src/core/earning/reference.ts: the zero-width and bidi characters
 *    removed, NFKC, removed again), the rule that keys an earn, in TypeScript and in SQL
 *    (`normaliseReferenceSql`): the fraud key never normalises its own way;
 * 2. lower case, one code point at a time, by a fixed table: A–Z through `lower(x collate "C")`
 *    and the letters of the Latin, Greek and Cyrillic blocks through `translate`. Plain `lower()`
 *    follows the database's LC_CTYPE — ASCII only on a database created with the C locale, the C
 *    library's tables elsewhere — so the key would depend on how the database was created.
 */

/** Blocks whose capitals the key folds: Latin-1, Latin Extended-A/B, Greek, Cyrillic (+ Supplement), Latin Extended Additional. */
const FOLDED_BLOCKS: Array<[number, number]> = [
  [0x00c0, 0x024f],
  [0x0370, 0x03ff],
  [0x0400, 0x052f],
  [0x1e00, 0x1eff],
];

function buildFoldTable(): { from: string; to: string; map: Map<string, string> } {
  const map = new Map<string, string>();
  for (const [lo, hi] of FOLDED_BLOCKS) {
    for (let cp = lo; cp <= hi; cp++) {
      const ch = String.fromCodePoint(cp);
      const lower = ch.toLowerCase();
      // One code point to one (translate maps characters one to one); İ's full mapping is two
      // code points, its simple mapping is i.
      if (lower !== ch && [...lower].length === 1) map.set(ch, lower);
    }
  }
  map.set('\u0130', 'i');
  return { from: [...map.keys()].join(''), to: [...map.values()].join(''), map };
}

const FOLD = buildFoldTable();

/** The TypeScript twin of `referenceKeySql`. */
export function referenceKey(reference: string): string {
  const nfkc = normaliseReference(reference);
  let out = '';
  for (const ch of nfkc) {
    const c = ch.charCodeAt(0);
    if (c >= 0x41 && c <= 0x5a) out += String.fromCharCode(c + 32);
    else out += FOLD.map.get(ch) ?? ch;
  }
  return out;
}

/**
 * The SQL expression of the key of `column` (a trusted column reference, never user input).
 * Only strings holding a non-ASCII character go through the whole chain (`translate` costs in
 * proportion to its table): an ASCII reference is its own NFKC and has nothing to remove.
 */
export function referenceKeySql(column: string): string {
  const nfkc = normaliseReferenceSql(column);
  const lowered = `lower(${nfkc} collate "C")`;
  // The table holds letters only: no quote or backslash to escape in the literals.
  return `(case when octet_length(${column}) <> char_length(${column}) then translate(${lowered}, '${FOLD.from}', '${FOLD.to}') else lower(${column} collate "C") end)`;
}
