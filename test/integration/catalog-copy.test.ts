import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Knex } from 'knex';
import { createTestDb, describePostgresOnly, type TestDb } from '../helpers/db.js';
import {
  importPartners,
  importCatalog,
  CATALOG_COLUMNS,
  validateRewardRow,
  type CatalogColumn,
  type RewardInput,
  rawColumns,
  rawTableDdl,
  stageWithCopy,
  validateAndStageSql,
  STAGE_COLUMNS,
} from '../../src/core/catalog/index.js';
import { openCsvStream } from '../../src/core/csv/index.js';
import { canCopy } from '../../src/db/copy.js';

/**
 * The fast path (COPY + SQL validation) must never stage a row the JS validator refuses, and must
 * stage exactly what the JS path would (same values, same line numbers). Random and malformed
 * rows and files are fed to both.
 */
const FIX = path.join(import.meta.dirname, '..', 'fixtures');
const NOW = new Date('2026-11-25T08:00:00Z');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rayon-catalog-copy-'));
let n = 0;
let t: TestDb;
let partners: Map<string, number>;
let territories: Set<string>;

const pgOnly = (name: string, fn: () => void) => describePostgresOnly(name, 'the fast path uses COPY, which the embedded database lacks', fn);

beforeAll(async () => {
  t = await createTestDb(2);
  await importPartners(t.db.knex, path.join(FIX, 'partners.csv'), { actor: 'test', now: NOW });
  partners = new Map((await t.db.knex('partners').select('id', 'code')).map((r: { id: number; code: string }) => [r.code, Number(r.id)]));
  territories = new Set(await t.db.knex('territories').pluck('code'));
});
afterAll(async () => {
  await t?.destroy();
  fs.rmSync(dir, { recursive: true, force: true });
});

// ---- cell generators: valid values, near misses, white space, neutralising quotes, odd Unicode ----
const ws = fc.constantFrom(' ', '\t', '\u00a0', '\u3000', '\ufeff', '\u2028', '\n', '\r\n', '\u200b');
const noNul = (s: string) => s.replace(/\0/g, '');
const text = fc.string({ unit: 'binary', maxLength: 12 }).map(noNul);
const vary = (arb: fc.Arbitrary<string>) =>
  fc.oneof(
    { weight: 6, arbitrary: arb },
    { weight: 1, arbitrary: fc.tuple(ws, arb).map(([a, b]) => a + b) },
    { weight: 1, arbitrary: fc.tuple(arb, ws).map(([a, b]) => a + b) },
    { weight: 1, arbitrary: arb.map((v) => `'${v}`) },
    { weight: 1, arbitrary: text },
  );
const date = fc.oneof(
  fc.date({ min: new Date('1990-01-01'), max: new Date('2035-12-31'), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10)),
  fc.stringMatching(/^[0-9]{4}-[0-9]{2}-[0-9]{2}$/),
  fc.constantFrom('2026-02-29', '2024-02-29', '1900-02-29', '2000-02-29', '0099-12-31', '0100-01-01', '2026-13-01', '2026-00-10',
    '2026-04-31', '2026-1-1', '26-01-01', '2026/01/01', '２０２６-01-01', '9999-12-31', '2026-12-31T00:00'),
);
const cells: Record<CatalogColumn, fc.Arbitrary<string>> = {
  sku: vary(fc.oneof(fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._\-/]{0,70}$/), fc.constantFrom('-A', 'é1', 'A B', 'A|B', "A'B", '=1'))),
  name: vary(fc.oneof(text, fc.constantFrom('=1+1', "'=1+1", "''=x", '😀'.repeat(100), '😀'.repeat(101), 'é'.repeat(200), 'é'.repeat(201), 'x'.repeat(200), 'x'.repeat(201), ''))),
  description: vary(fc.oneof(text, fc.constantFrom('', '@cmd', 'x'.repeat(4000), 'x'.repeat(4001), '😀'.repeat(2000), '😀a'.repeat(1334), 'a\nb', 'a\r\nb'))),
  cost: vary(fc.oneof(fc.integer({ min: -5, max: 2 ** 31 + 5 }).map(String), fc.stringMatching(/^[0-9]{1,22}$/),
    fc.constantFrom('0', '00012', '2147483647', '2147483648', '1.5', '1,5', '１２', '1e3', '+5', '٣', '0x10'))),
  category: vary(fc.oneof(fc.stringMatching(/^[a-z0-9_-]{0,40}$/), fc.constantFrom('food', 'culture', 'new-cat', 'Food', 'a'.repeat(32), 'a'.repeat(33), '_x', '-x', 'é'))),
  partner: vary(fc.constantFrom('FENUA', 'BOUTIK', 'KARUVOY', 'NOPE', 'fenua', '')),
  territories: vary(fc.oneof(
    fc.constantFrom('*', 'RE', 'RE|MQ', 'MQ|RE', 'RE|RE', 'RE||MQ', 'RE|', '|RE', 'RE | MQ', 're', 'XX', 'RE|MQ|GP', 'GP|RE|MQ', 'RE|MQ|RE', '**', ''),
    fc.uniqueArray(fc.constantFrom('RE', 'GP', 'MQ', 'GF', 'YT', 'PF', 'NC', 'WF'), { minLength: 1, maxLength: 5 }).map((a) => a.join('|')),
  )),
  available_from: vary(date),
  available_to: vary(date),
  stock: vary(fc.oneof(fc.constantFrom('', '0', '-1', '2147483647', '2147483648', '007', '1.0', '1 000'), fc.nat().map(String))),
  fulfilment: vary(fc.constantFrom('', 'instant', 'manual', 'MANUAL', 'Instant', 'manuel', 'ınstant', 'İNSTANT', 'instant.')),
  active: vary(fc.constantFrom('', 'true', 'FALSE', 'Oui', 'non', 'VRAI', 'faux', '1', '0', 'yes', 'no', 'maybe', 'ｔrue', 'tRuE', '2', 'K')),
};
type Row = Record<CatalogColumn, string>;
/** Valid cells, in the spellings people use. */
const valid: Record<CatalogColumn, fc.Arbitrary<string>> = {
  sku: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._\-/]{0,63}$/),
  name: fc.oneof(fc.constantFrom('Bon', "Bon d'achat 10 €", '=1+1', "'=1+1", 'deux\nlignes', '😀'.repeat(100)), text.filter((x) => x.trim() !== '')),
  description: fc.oneof(fc.constantFrom('', "'@cmd", 'a\r\nb', '😀'.repeat(2000)), text),
  cost: fc.oneof(fc.integer({ min: 1, max: 2 ** 31 - 1 }).map(String), fc.constantFrom('00012', '2147483647')),
  category: fc.constantFrom('food', 'culture', 'new-cat', 'a'.repeat(32), '0_x'),
  partner: fc.constantFrom('FENUA', 'BOUTIK', 'KARUVOY'),
  territories: fc.oneof(fc.constantFrom('*', 'RE', 'MQ|RE', 'GP|PF|NC'), fc.uniqueArray(fc.constantFrom('RE', 'GP', 'MQ', 'GF', 'YT', 'PF', 'NC', 'WF'), { minLength: 1, maxLength: 5 }).map((a) => a.join('|'))),
  available_from: fc.constantFrom('2026-01-01', '2024-02-29', '0100-01-01', '2026-04-30'),
  available_to: fc.constantFrom('2026-12-31', '2027-02-28', '9999-12-31', '2026-04-30'),
  stock: fc.constantFrom('', '0', '007', '2147483647', '12'),
  fulfilment: fc.constantFrom('', 'instant', 'manual', 'MANUAL', 'Instant'),
  active: fc.constantFrom('', 'true', 'FALSE', 'Oui', 'non', 'VRAI', 'faux', '1', '0', 'yes', 'no', 'tRuE'),
};
/** Mostly valid rows with a few cells from the wide generators: near misses, one cell at a time. */
const row: fc.Arbitrary<Row> = fc.oneof(
  fc.record(Object.fromEntries(CATALOG_COLUMNS.map((c) => [c, fc.oneof({ weight: 8, arbitrary: valid[c] }, { weight: 1, arbitrary: cells[c] })])) as Record<CatalogColumn, fc.Arbitrary<string>>),
  fc.record(cells),
);

/** Expected of the JS path for a list of rows read back from the database. */
function jsStage(rows: Row[]): Array<RewardInput | null> {
  let line = 2;
  return rows.map((r) => {
    const { row: ok } = validateRewardRow(line, (c) => r[c], { partners, territories });
    // Line breaks inside (quoted) cells move the next record down, as physicalLines() counts them.
    line += CATALOG_COLUMNS.reduce((acc, c) => acc + (r[c].match(/\r\n|\r|\n/g)?.length ?? 0), 1);
    return ok ?? null;
  });
}

/** Where the SQL rules are knowingly stricter than the JS ones (those rows take the JS path). */
const STRICT: CatalogColumn[] = ['sku', 'cost', 'category', 'partner', 'territories', 'available_from', 'available_to', 'stock', 'fulfilment', 'active'];
const sqlStricter = (r: Row) => STRICT.some((c) => r[c] !== r[c].trim() || r[c].startsWith("'")) || /\s/.test(r.territories);

const staged = (k: Knex.Transaction) =>
  k('catalog_stage').orderBy('line').select<Array<RewardInput & { line: number }>>(
    'line', 'sku', 'name', 'description', 'cost', 'category', 'partner_id', 'all_territories', 'territories', 'available_from', 'available_to', 'stock', 'fulfilment', 'active',
  );
const comparable = (r: RewardInput) => ({
  line: r.line, sku: r.sku, name: r.name, description: r.description, cost: r.cost, category: r.category, partner_id: r.partner_id,
  all_territories: r.all_territories, territories: r.territories, available_from: r.available_from, available_to: r.available_to,
  stock: r.stock, fulfilment: r.fulfilment, active: r.active,
});

pgOnly('catalog fast path: SQL validation against the JS validator', () => {
  it('stages only rows the JS validator accepts, with the same values; refuses more only where documented', async () => {
    const seen = { both: 0, neither: 0, stricter: 0 };
    await fc.assert(
      fc.asyncProperty(fc.array(row, { minLength: 1, maxLength: 30 }), async (rows) => {
        await t.db.knex.transaction(async (trx) => {
          await trx.raw(rawTableDdl(CATALOG_COLUMNS.length));
          await trx.raw(`create temp table catalog_stage (${STAGE_COLUMNS}) on commit drop`);
          const cols = rawColumns(new Map(CATALOG_COLUMNS.map((c, i) => [c, i])), CATALOG_COLUMNS.length);
          for (const r of rows) await trx('catalog_raw').insert(Object.fromEntries(CATALOG_COLUMNS.map((c, i) => [`c${i + 1}`, r[c]])));
          // The JS validator reads the cells as the database holds them (an encoder may have replaced a lone surrogate).
          const back: Row[] = (await trx('catalog_raw').orderBy('ord').select(cols.all)).map((x: Record<string, string>) =>
            Object.fromEntries(CATALOG_COLUMNS.map((c, i) => [c, x[`c${i + 1}`]])) as Row);
          await trx.raw(validateAndStageSql(cols, true, [...territories]));
          const sql = await staged(trx);
          const js = jsStage(back);
          const bySqlLine = new Map(sql.map((s) => [s.line, s]));
          let matched = 0;
          back.forEach((r, i) => {
            const s = bySqlLine.get(js[i]?.line ?? -1);
            if (js[i] && s) {
              expect(comparable(s)).toEqual(comparable(js[i] as RewardInput));
              matched++;
              seen.both++;
            } else if (js[i]) {
              // JS accepts, SQL does not: only in the documented stricter zone.
              expect(sqlStricter(r), `row ${JSON.stringify(r)}`).toBe(true);
              seen.stricter++;
            } else seen.neither++;
          });
          // Every staged row is one the JS validator accepted: nothing else was staged.
          expect(sql.length).toBe(matched);
          throw new Rollback();
        }).catch((e) => {
          if (!(e instanceof Rollback)) throw e;
        });
      }),
      {
        numRuns: 60,
        // Found by this property: an empty territories cell (string_to_array('', '|') is '{}',
        // contained in every set of codes) was staged by the SQL rules, refused by the JS ones.
        examples: [
          [[
            { sku: '0', name: 'Bon', description: '', cost: '00012', category: 'food', partner: 'FENUA', territories: '', available_from: '2026-01-01', available_to: '2026-12-31', stock: '', fulfilment: '', active: '' },
            { sku: '0', name: '\u0001', description: '', cost: '1', category: 'food', partner: 'FENUA', territories: 'RE', available_from: '2026-01-01', available_to: '2026-12-31', stock: '', fulfilment: '', active: '' },
          ]],
        ],
      },
    );
    // The property is not vacuous: rows of each kind were seen.
    expect(seen.both).toBeGreaterThan(20);
    expect(seen.neither).toBeGreaterThan(20);
  });
});

class Rollback extends Error {}

// ---- whole files: COPY's CSV reading against csv-parse's ----
const goodCells = fc.record({
  ...cells,
  sku: fc.stringMatching(/^[A-Z][A-Z0-9-]{0,10}$/),
  cost: fc.integer({ min: 1, max: 5000 }).map(String),
  category: fc.constantFrom('food', 'culture'),
  partner: fc.constantFrom('FENUA', 'BOUTIK'),
  territories: fc.constantFrom('*', 'RE', 'MQ|RE', 'GP|PF|NC'),
  available_from: fc.constantFrom('2026-01-01', '2026-02-28'),
  available_to: fc.constantFrom('2026-12-31', '2027-02-28'),
  stock: fc.constantFrom('', '0', '12'),
  fulfilment: fc.constantFrom('', 'instant', 'Manual'),
  active: fc.constantFrom('', 'true', 'non'),
  name: fc.oneof(fc.constantFrom('Bon', 'Bon, "grand"', 'a;b', 'deux\nlignes', 'trois\r\nlignes\r\nici', ' espace '), text.filter((s) => s.trim() !== '')),
  description: fc.oneof(fc.constantFrom('', 'x', 'a "b" c', 'fin\n', '\\.', 'ligne\n\\.\nsuite'), text),
});
/** A record as a spreadsheet would write it, quoting when needed (or always), sometimes malformed. */
const quoteCell = (v: string, d: string, always: boolean) => (always || /["\r\n]/.test(v) || v.includes(d) ? `"${v.replace(/"/g, '""')}"` : v);
const junk = fc.constantFrom('', ' ', ';;', ',,,,,,,,,,,', ';;;;;;;;;;;', 'a"b', '"open', '"x"y', '\\.', 'SHORT,row', '"a" ,b', '\r');
const fileArb = fc.record({
  delimiter: fc.constantFrom(',', ';'),
  eol: fc.constantFrom('\n', '\r\n'),
  bom: fc.boolean(),
  always: fc.boolean(),
  rows: fc.array(fc.oneof({ weight: 8, arbitrary: goodCells.map((r) => ({ r })) }, { weight: 1, arbitrary: junk.map((j) => ({ j })) }), { minLength: 1, maxLength: 12 }),
  trailing: fc.constantFrom('', '\n', '\n\n', ' \n', ';;;;;;;;;;;\n', ',,,,,,,,,,,\n'),
});

pgOnly('catalog fast path: whole files, COPY against csv-parse', () => {
  it('when COPY takes a file, it stages exactly the rows and line numbers the JS reader would', async () => {
    let fast = 0;
    await fc.assert(
      fc.asyncProperty(fileArb, async (f) => {
        const lines = [CATALOG_COLUMNS.join(f.delimiter), ...f.rows.map((x) => ('j' in x ? x.j.replace(/,/g, f.delimiter) : CATALOG_COLUMNS.map((c) => quoteCell(x.r[c], f.delimiter, f.always)).join(f.delimiter)))];
        const file = path.join(dir, `f${n++}.csv`);
        fs.writeFileSync(file, (f.bom ? '\ufeff' : '') + lines.join(f.eol) + f.eol + f.trailing.replace(/\n/g, f.eol).replace(/,/g, f.delimiter));
        // The JS reference: csv-parse and validateRewardRow, as the JS path reads the file.
        let expected: { rows: number; staged: RewardInput[] } | null = { rows: 0, staged: [] };
        try {
          const csv = await openCsvStream(file);
          const index = new Map(csv.header.map((h, i) => [h.toLowerCase(), i]));
          for await (const r of csv.rows) {
            expected.rows++;
            const { row: ok } = r.fields.length === csv.header.length ? validateRewardRow(r.line, (c) => r.fields[index.get(c) as number] ?? '', { partners, territories }) : { row: undefined };
            if (!ok) expected = null;
            if (!expected) break;
            expected.staged.push(ok as RewardInput);
          }
        } catch {
          expected = null;
        }
        // The import reads the header with csv-parse first; a file it refuses there never reaches COPY.
        const csv = await openCsvStream(file).catch(() => null);
        if (!csv) return;
        csv.close();
        const index = new Map(csv.header.map((h, i) => [h.toLowerCase(), i]));
        await t.db.knex.transaction(async (trx) => {
          await trx.raw(`create temp table catalog_stage (${STAGE_COLUMNS}) on commit drop`);
          const got = await stageWithCopy(trx, file, { header: csv.header, index, delimiter: csv.delimiter }, [...territories]);
          if (got) {
            fast++;
            expect(expected, `COPY took a file the JS reader refuses: ${JSON.stringify(fs.readFileSync(file, 'utf8'))}`).not.toBeNull();
            expect(got.rows).toBe(expected?.rows);
            expect((await staged(trx)).map(comparable)).toEqual(expected?.staged.map(comparable));
          } else {
            expect(Number((await trx('catalog_stage').count({ n: '*' }))[0].n)).toBe(0);
          }
          throw new Rollback();
        }).catch((e) => {
          if (!(e instanceof Rollback)) throw e;
        });
      }),
      { numRuns: 80 },
    );
    expect(fast).toBeGreaterThan(10);
  });

  it('imports the French spreadsheet export through COPY, and the embedded database keeps the JS path', async () => {
    const k = t.db.knex;
    expect(await k.transaction((trx) => canCopy(trx))).toBe(true);
    const csv = await openCsvStream(path.join(FIX, 'catalog-fr-spreadsheet.csv'));
    csv.close();
    const index = new Map(csv.header.map((h, i) => [h.toLowerCase(), i]));
    await k.transaction(async (trx) => {
      await trx.raw(`create temp table catalog_stage (${STAGE_COLUMNS}) on commit drop`);
      const got = await stageWithCopy(trx, path.join(FIX, 'catalog-fr-spreadsheet.csv'), { header: csv.header, index, delimiter: ';' }, [...territories]);
      expect(got?.rows).toBe(16);
      const panier = await trx('catalog_stage').where({ sku: 'TIMARCHE-PANIER' }).first();
      expect(panier.description).toBe('Ananas Victoria, letchis, mangues José\n(selon saison)');
    });
    const res = await importCatalog(k, path.join(FIX, 'catalog-fr-spreadsheet.csv'), { actor: 'test', now: NOW, dryRun: true });
    expect(res).toMatchObject({ rows: 16, new: 16 });
  });
});
