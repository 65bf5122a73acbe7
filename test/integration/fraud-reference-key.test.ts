import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import type { Knex } from 'knex';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTestDb, onPostgres, type TestDb } from '../helpers/db.js';
import { openDb, type Db } from '../../src/db/connect.js';
import { referenceKey, referenceKeySql } from '../../src/core/fraud/index.js';
import { normaliseReference, normaliseReferenceSql } from '../../src/core/earning/index.js';

/**
 * The shared_reference rule computes its key in SQL; `referenceKey` is the TypeScript twin. Both
 * must agree on PostgreSQL and on the embedded database (CLI users run `fraud scan` there too).
 */
vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

let t: TestDb;
let embedded: Db;
let embeddedDir: string;
beforeAll(async () => {
  t = await createTestDb();
  embeddedDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rayon-refkey-'));
  embedded = await openDb({ dataDir: embeddedDir });
});
afterAll(async () => {
  await embedded?.close();
  if (embeddedDir) fs.rmSync(embeddedDir, { recursive: true, force: true });
  await t?.destroy();
});

async function sqlKeys(k: Knex, refs: string[], sql: (column: string) => string = referenceKeySql): Promise<string[]> {
  const { rows } = await k.raw(
    `select ${sql('x.ref')} as key from jsonb_array_elements_text(?::jsonb) with ordinality as x(ref, n) order by x.n`,
    [JSON.stringify(refs)],
  );
  return (rows as Array<{ key: string }>).map((r) => r.key);
}

/**
 * Code points whose NFKC and case mappings are the same in every Unicode version the supported
 * databases and Node.js carry (blocks complete for decades), weighted towards what references hold.
 */
const RANGES: Array<[number, number, number]> = [
  [0x20, 0x7e, 12], // ASCII
  [0xa0, 0x24f, 6], // Latin-1, Latin Extended-A and -B
  [0x300, 0x36f, 3], // combining diacritics
  [0x370, 0x3ff, 2], // Greek
  [0x400, 0x52f, 2], // Cyrillic
  [0x1e00, 0x1eff, 2], // Latin Extended Additional
  [0x1f00, 0x1ffe, 1], // Greek Extended (outside the folded blocks)
  [0x2070, 0x209c, 1], // superscripts and subscripts
  [0x2100, 0x218b, 1], // letterlike symbols, number forms
  [0x2460, 0x24ff, 1], // enclosed alphanumerics
  [0xfb00, 0xfb06, 1], // Latin ligatures
  [0xff01, 0xff5e, 3], // fullwidth ASCII
  [0x1100, 0x1175, 1], // Hangul jamo (compose under NFKC)
  [0x1f600, 0x1f64f, 1], // emoji (outside the BMP)
];
const INVISIBLES = [0xad, 0x200b, 0x200c, 0x200d, 0x2060, 0xfeff, 0x200e, 0x200f, 0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069, 0x061c];

const codePoint = fc.oneof(
  ...RANGES.map(([lo, hi, weight]) => ({ arbitrary: fc.integer({ min: lo, max: hi }), weight })),
  { arbitrary: fc.constantFrom(...INVISIBLES), weight: 4 },
);
const reference = fc.array(codePoint, { minLength: 1, maxLength: 24 }).map((cps) => String.fromCodePoint(...cps));

const EXAMPLES: Array<[string, string]> = [
  ['Café-42', 'café-42'],
  ['Cafe\u0301-42', 'café-42'], // decomposed accent
  ['Caf\u200Bé-42', 'café-42'], // zero-width space
  ['Cafe\u200B\u0301-42', 'café-42'], // zero-width space between the letter and its accent
  ['CAFÉ-42', 'café-42'], // case, beyond ASCII
  ['Ｃａｆé\u2060-42', 'café-42'], // fullwidth letters, word joiner
  ['\u202Eabc\u202C\u061C', 'abc'], // bidi override, pop, Arabic letter mark
  ['İSTANBUL', 'istanbul'],
  ['ΣΟΦΙΑ', 'σοφια'], // one code point at a time: no final sigma
  ['ﬁＸ①', 'fix1'],
  ['TX-9001', 'tx-9001'],
  ['Ca\u00ADfé-42', 'café-42'], // soft hyphen, removed by the earning normaliser
];

describe('reference key: SQL and TypeScript agree', () => {
  it('on the examples, in TypeScript', () => {
    for (const [input, key] of EXAMPLES) expect([input, referenceKey(input)]).toEqual([input, key]);
  });

  for (const where of ['test database', 'embedded database'] as const) {
    it(`on the examples and on generated references, on the ${where}${where === 'test database' ? ` (${onPostgres() ? 'PostgreSQL' : 'embedded'})` : ''}`, async () => {
      const k = where === 'test database' ? t.db.knex : embedded.knex;
      expect(await sqlKeys(k, EXAMPLES.map((e) => e[0]))).toEqual(EXAMPLES.map((e) => e[1]));
      await fc.assert(
        fc.asyncProperty(fc.array(reference, { minLength: 1, maxLength: 40 }), async (refs) => {
          expect(await sqlKeys(k, refs)).toEqual(refs.map(referenceKey));
          // The key is built on the earning normaliser, in both languages.
          expect(await sqlKeys(k, refs, normaliseReferenceSql)).toEqual(refs.map(normaliseReference));
          expect(refs.map((r) => referenceKey(normaliseReference(r)))).toEqual(refs.map(referenceKey));
        }),
        { numRuns: 150 },
      );
    });
  }
});
