import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CATALOG_OPTIONAL, CATALOG_REQUIRED, checkHeader, exportCells, neutralise, unneutralise, validateRewardRow, type CatalogColumn, validatePartnerRow } from '../../src/core/catalog/index.js';

const ctx = { partners: new Map([['BOUTIK', 1]]), territories: new Set(['RE', 'GP', 'MQ', 'YT']) };
const good: Record<CatalogColumn, string> = {
  sku: 'BOUTIK-BA10', name: "Bon d'achat 10 €", description: 'Valable partout', cost: '1000', category: 'food', partner: 'BOUTIK',
  territories: 'RE|YT', available_from: '2026-01-01', available_to: '2026-12-31', stock: '500', fulfilment: 'instant', active: 'true',
};
const check = (over: Partial<Record<CatalogColumn, string>>) => validateRewardRow(7, (c) => ({ ...good, ...over })[c] ?? '', ctx);
const messages = (over: Partial<Record<CatalogColumn, string>>) => check(over).errors.map((e) => `${e.where}: ${e.message}`);

describe('catalog header', () => {
  it('names a missing required column and an unknown column, on line 1', () => {
    const { errors } = checkHeader(['sku', 'name', 'price', 'category', 'partner', 'territories', 'available_from', 'available_to', 'stock'], CATALOG_REQUIRED, CATALOG_OPTIONAL);
    expect(errors.map((e) => e.where)).toEqual(['line 1, column price', 'line 1, column cost']);
    expect(errors[0].message).toMatch(/unknown column/);
    expect(errors[1].message).toMatch(/required column is missing/);
  });
  it('accepts columns in any order and case, and refuses a duplicate', () => {
    const h = [...CATALOG_REQUIRED].reverse().map((c) => c.toUpperCase());
    expect(checkHeader(h, CATALOG_REQUIRED, CATALOG_OPTIONAL).errors).toEqual([]);
    expect(checkHeader([...h, 'sku'], CATALOG_REQUIRED, CATALOG_OPTIONAL).errors[0]).toMatchObject({ where: 'line 1, column sku', message: 'column appears twice' });
  });
});

describe('catalog row validation', () => {
  it('turns a good row into a reward', () => {
    const { row, errors } = check({});
    expect(errors).toEqual([]);
    expect(row).toMatchObject({ line: 7, cost: 1000, partner_id: 1, territories: ['RE', 'YT'], all_territories: false, stock: 500, fulfilment: 'instant', active: true });
  });
  it('reads * as every territory, empty stock as unlimited and empty optional cells as defaults', () => {
    expect(check({ territories: '*', stock: '', fulfilment: '', active: '', description: '' }).row).toMatchObject({ all_territories: true, territories: [], stock: null, fulfilment: 'manual', active: true });
  });
  it('refuses a day-first date, naming the expected format', () => {
    expect(messages({ available_to: '31/12/2026' })).toEqual(['line 7, column available_to: must be a date as YYYY-MM-DD (e.g. 2026-12-31), got "31/12/2026"']);
    expect(messages({ available_from: '2026-02-30' })[0]).toMatch(/^line 7, column available_from: must be a date/);
  });
  it('refuses an end before the start', () => {
    expect(messages({ available_from: '2026-06-01', available_to: '2026-05-31' })).toEqual(['line 7, column available_to: 2026-05-31 is before available_from 2026-06-01']);
  });
  it('refuses negative stock, a decimal cost with a comma, zero cost', () => {
    expect(messages({ stock: '-5' })[0]).toMatch(/^line 7, column stock: must be a whole number of units ≥ 0/);
    expect(messages({ cost: '1,5' })[0]).toMatch(/^line 7, column cost: must be a whole number of points greater than 0.*"1,5"/);
    expect(messages({ cost: '0' })[0]).toMatch(/column cost/);
  });
  it('refuses an unknown partner and unknown territory codes', () => {
    expect(messages({ partner: 'NOPE' })[0]).toMatch(/^line 7, column partner: unknown partner "NOPE"/);
    expect(messages({ territories: 'RE|XX|ZZ' })[0]).toMatch(/^line 7, column territories: unknown territory code\(s\) "XX", "ZZ"/);
    expect(messages({ territories: 'RE|RE' })[0]).toMatch(/listed twice/);
  });
  it('reports every bad cell of a row, not only the first', () => {
    const m = messages({ cost: 'abc', stock: '-1', available_from: '01/01/2026', fulfilment: 'express', active: 'maybe', category: 'Food!' });
    expect(m.map((x) => x.split(':')[0])).toEqual([
      'line 7, column cost', 'line 7, column category', 'line 7, column available_from', 'line 7, column stock', 'line 7, column fulfilment', 'line 7, column active',
    ]);
  });
  it('refuses a huge cell without echoing it', () => {
    const m = messages({ description: 'x'.repeat(10 * 1024 * 1024) });
    expect(m).toHaveLength(1);
    expect(m[0]).toMatch(/column description: longer than 4000 characters/);
    expect(m[0].length).toBeLessThan(200);
  });
  it("strips the one ' an export put before a formula-like cell", () => {
    expect(check({ name: "'-15 % sur un vol", description: "'=HYPERLINK(1)" }).row).toMatchObject({ name: '-15 % sur un vol', description: '=HYPERLINK(1)' });
  });
});

describe('formula neutralisation', () => {
  it('prefixes cells starting with = + - @ tab CR, and nothing else', () => {
    expect(['=1+1', '+33', '-15 %', '@SUM', '\tx', '\rx', 'plain', "l'île", ''].map(neutralise)).toEqual(["'=1+1", "'+33", "'-15 %", "'@SUM", "'\tx", "'\rx", 'plain', "l'île", '']);
  });
  it('round-trips any string through export then import', () => {
    fc.assert(fc.property(fc.string(), (s) => unneutralise(neutralise(s)) === s));
    fc.assert(fc.property(fc.constantFrom("'", "''", "'''"), fc.constantFrom('=', '+', '-', '@', 'a'), fc.string(), (q, c, rest) => unneutralise(neutralise(q + c + rest)) === q + c + rest));
  });
  it('writes an export line with * or sorted codes', () => {
    const cells = exportCells({ sku: 'A', name: '=x', description: '', cost: 5, category: 'food', partner: 'P', all_territories: false, territories: ['YT', 'RE'], available_from: '2026-01-01', available_to: '2026-01-02', stock: null, fulfilment: 'manual', active: false });
    expect(cells).toEqual(['A', "'=x", '', '5', 'food', 'P', 'RE|YT', '2026-01-01', '2026-01-02', '', 'manual', 'false']);
  });
});

describe('partner row validation', () => {
  const territories = new Set(['RE', 'GP']);
  const row = (o: Record<string, string>) => validatePartnerRow(3, (c) => ({ code: 'BOUTIK', name: 'Boutik', territory: 'RE', commission_rate: '0.05', contract_details: '', ...o })[c] ?? '', territories);
  it('accepts a decimal comma and keeps the rate exact', () => {
    expect(row({ commission_rate: '0,125' }).row?.commission_rate).toBe('0.125');
    expect(row({}).row).toMatchObject({ code: 'BOUTIK', contract_details: null });
  });
  it('refuses a rate of 1 or more, a percentage, a bad code and an unknown territory', () => {
    for (const r of ['1', '5%', '1.5', '-0.1', '0.123456']) expect(row({ commission_rate: r }).errors[0].where).toBe('line 3, column commission_rate');
    expect(row({ code: 'bad code', territory: 'XX' }).errors.map((e) => e.where)).toEqual(['line 3, column code', 'line 3, column territory']);
  });
});
