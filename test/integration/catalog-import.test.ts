import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, type TestDb } from '../helpers/db.js';
import { rejection } from '../helpers/ledger-setup.js';
import { importCatalog, importPartners, listPartners, catalogPage, exportCatalog, listCatalog } from '../../src/core/catalog/index.js';

const FIX = path.join(import.meta.dirname, '..', 'fixtures');
const NOW = new Date('2026-11-25T08:00:00Z');
const opts = { actor: 'pm:alice', now: NOW };
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rayon-catalog-'));
let n = 0;
const write = (content: string | Buffer) => {
  const f = path.join(dir, `c${n++}.csv`);
  fs.writeFileSync(f, content);
  return f;
};
const HEADER = 'sku,name,description,cost,category,partner,territories,available_from,available_to,stock,fulfilment,active';
const line = (sku: string, over: Record<string, string> = {}) => {
  const v = { sku, name: `Reward ${sku}`, description: '', cost: '100', category: 'culture', partner: 'FENUA', territories: 'WF', available_from: '2026-01-01', available_to: '2026-12-31', stock: '10', fulfilment: 'instant', active: 'true', ...over };
  return [v.sku, v.name, v.description, v.cost, v.category, v.partner, v.territories, v.available_from, v.available_to, v.stock, v.fulfilment, v.active].join(',');
};
const csv = (...lines: string[]) => write(`${[HEADER, ...lines].join('\n')}\n`);
/** The file's SHA-256, computed apart from the importer's streaming hash. */
const fileSha256 = (file: string) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');

let t: TestDb;
/** Every catalog row version: equal before and after means nothing was written. */
const signature = async () =>
  (await t.db.knex.raw(`select (select coalesce(string_agg(xmin::text || ctid::text, ',' order by id), '') from rewards)
     || '/' || (select coalesce(string_agg(xmin::text || ctid::text, ',' order by reward_id, territory_code), '') from catalog_offers)
     || '/' || (select count(*) from categories) as s`)).rows[0].s as string;

beforeAll(async () => {
  t = await createTestDb();
  await importPartners(t.db.knex, path.join(FIX, 'partners.csv'), opts);
});
afterAll(async () => {
  await t?.destroy();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('partners', () => {
  it('imports the partner file once; re-importing changes nothing', async () => {
    const list = await listPartners(t.db.knex);
    expect(list).toHaveLength(10);
    expect(list.find((p) => p.code === 'KARUVOY')).toMatchObject({ territory: 'GP', commission_rate: '0.10000', contract_details: 'Contrat cadre 2026-2027' });
    const again = await importPartners(t.db.knex, path.join(FIX, 'partners.csv'), opts);
    expect(again).toMatchObject({ new: 0, updated: 0, unchanged: 10 });
  });

  const PHEAD = 'code,name,territory,commission_rate,contract_details';
  const partnerCount = async () => Number((await t.db.knex('partners').count({ n: '*' }))[0].n);

  it('dry-runs, then inserts and updates by code, audited with the file hash', async () => {
    const k = t.db.knex;
    const first = write(`${PHEAD}\nPT-NEW,Nouveau partenaire,YT,"0,12",\n`);
    const before = await partnerCount();
    expect(await importPartners(k, first, { ...opts, dryRun: true })).toMatchObject({ dryRun: true, new: 1, updated: 0, unchanged: 0 });
    expect(await partnerCount()).toBe(before);
    expect(await importPartners(k, first, opts)).toMatchObject({ dryRun: false, new: 1 });
    expect((await listPartners(k)).find((p) => p.code === 'PT-NEW')).toMatchObject({ name: 'Nouveau partenaire', territory: 'YT', commission_rate: '0.12000', contract_details: null });

    const second = write(`${PHEAD}\nPT-NEW,Nouveau partenaire,YT,0.15,Avenant n°2\nBOUTIK,Boutik Lontan,RE,0.05,"Contrat annuel, facturation mensuelle"\n`);
    const res = await importPartners(k, second, opts);
    expect(res).toMatchObject({ rows: 2, new: 0, updated: 1, unchanged: 1 });
    expect((await listPartners(k)).find((p) => p.code === 'PT-NEW')).toMatchObject({ commission_rate: '0.15000', contract_details: 'Avenant n°2' });
    expect(await partnerCount()).toBe(before + 1);
    const auditRow = await k('audit_log').where({ action: 'partner.import' }).orderBy('id', 'desc').first();
    expect(auditRow).toMatchObject({ actor: 'pm:alice', target: path.basename(second) });
    expect(auditRow.details).toMatchObject({ sha256: fileSha256(second), rows: 2, new: 0, updated: 1, unchanged: 1 });
  });

  it('refuses a bad partner file naming every line and column, writing nothing', async () => {
    const k = t.db.knex;
    const before = await k('partners').orderBy('code').select();
    const bad = write(
      `${PHEAD}\nPT-OK,Bon,RE,0.05,\nPT BAD,Espace,RE,0.05,\nPT-TERR,Inconnu,XX,0.05,\nPT-RATE,Taux,RE,5%,\nPT-EMPTY,,RE,0.05,\nPT-OK,Double,RE,0.05,\nPT-SHORT,Court\n`,
    );
    const e = await rejection(importPartners(k, bad, opts));
    expect(e).toMatchObject({ code: 'VALIDATION_ERROR' });
    expect(e.message).toMatch(/6 error\(s\); nothing was written/);
    expect((e.details ?? []).map((d) => d.where)).toEqual([
      'line 3, column code', 'line 4, column territory', 'line 5, column commission_rate', 'line 6, column name', 'line 7, column code', 'line 8',
    ]);
    expect(e.details?.[4].message).toBe('duplicate code "PT-OK" (first on line 2)');
    expect(e.details?.[2].message).toMatch(/0\.05 for 5%/);
    expect(await k('partners').orderBy('code').select()).toEqual(before);
    expect(await k('partners').where({ code: 'PT-OK' }).first()).toBeUndefined();

    const headerOnly = await rejection(importPartners(k, write(`${PHEAD}\n`), opts));
    expect(headerOnly.details).toEqual([{ where: 'line 2', message: 'the file has a header but no data rows: nothing to import' }]);
    const wrongHeader = await rejection(importPartners(k, write('code,name,commission,territory\nX,Y,0.1,RE\n'), opts));
    expect((wrongHeader.details ?? []).map((d) => d.where)).toEqual(['line 1, column commission', 'line 1, column commission_rate']);
  });
});

describe('catalog import of the French spreadsheet export', () => {
  it('dry-runs without writing, then imports every row as is', async () => {
    const file = path.join(FIX, 'catalog-fr-spreadsheet.csv');
    const before = await signature();
    const dry = await importCatalog(t.db.knex, file, { ...opts, dryRun: true });
    expect(dry).toMatchObject({ dryRun: true, rows: 16, new: 16, updated: 0, unchanged: 0, categoriesCreated: ['leisure'] });
    expect(await signature()).toBe(before);

    const res = await importCatalog(t.db.knex, file, opts);
    expect(res).toMatchObject({ dryRun: false, rows: 16, new: 16, categoriesCreated: ['leisure'] });
    const k = t.db.knex;
    const panier = await k('rewards').where({ sku: 'TIMARCHE-PANIER' }).first();
    expect(panier.description).toBe('Ananas Victoria, letchis, mangues José\n(selon saison)');
    expect((await k('rewards').where({ sku: 'KARU-VOL15' }).first()).name).toBe('-15 % sur un vol inter-îles');
    expect((await k('rewards').where({ sku: 'BOUTIK-BA20' }).first()).description).toBe("Valable dès 40 € d'achat ; hors alcool");
    const tel = await k('rewards').where({ sku: 'TEL-RECH5' }).first();
    expect(tel).toMatchObject({ all_territories: true, stock: null, fulfilment: 'instant', active: true });
    expect((await k('rewards').where({ sku: 'OLD-NOEL2025' }).first()).active).toBe(false);
    expect((await k('rewards').where({ sku: 'FERRY-NAVETTE' }).first()).territories).toEqual(['BL', 'MF']);
    const auditRow = await k('audit_log').where({ action: 'catalog.import' }).orderBy('id', 'desc').first();
    expect(auditRow.actor).toBe('pm:alice');
    const sha256 = fileSha256(file);
    expect(res.sha256).toBe(sha256);
    expect(auditRow.details).toMatchObject({ file: 'catalog-fr-spreadsheet.csv', sha256, rows: 16, new: 16 });
  });

  it('re-imports the unchanged file writing nothing to the catalog', async () => {
    const before = await signature();
    const res = await importCatalog(t.db.knex, path.join(FIX, 'catalog-fr-spreadsheet.csv'), opts);
    expect(res).toMatchObject({ new: 0, updated: 0, unchanged: 16 });
    expect(await signature()).toBe(before);
  });

  it('exports a file that re-imports unchanged, with formula cells neutralised', async () => {
    const out = path.join(dir, 'export.csv');
    const r = await exportCatalog(t.db.knex, out);
    expect(r.rows).toBe(16);
    const text = fs.readFileSync(out, 'utf8');
    expect(text).toContain("KARU-VOL15,'-15 % sur un vol inter-îles,");
    expect(text).toContain('"Ananas Victoria, letchis, mangues José\n(selon saison)"');
    const before = await signature();
    expect(await importCatalog(t.db.knex, out, opts)).toMatchObject({ new: 0, updated: 0, unchanged: 16 });
    const semi = path.join(dir, 'export-semi.csv');
    await exportCatalog(t.db.knex, semi, { delimiter: ';', bom: true });
    expect(await importCatalog(t.db.knex, semi, opts)).toMatchObject({ new: 0, updated: 0, unchanged: 16 });
    expect(await signature()).toBe(before);
  });

  it('refuses the Windows-1252 copy naming the first bad line, writing nothing', async () => {
    const before = await signature();
    const e = await rejection(importCatalog(t.db.knex, path.join(FIX, 'catalog-windows-1252.csv'), opts));
    expect(e).toMatchObject({ code: 'VALIDATION_ERROR' });
    expect(e.message).toMatch(/^line 2: the file is not UTF-8/);
    expect(await signature()).toBe(before);
  });
});

describe('catalog import: updates, replace, stock', () => {
  it('lists the fields that change, and --replace deactivates (never deletes) what the file omits', async () => {
    const k = t.db.knex;
    await importCatalog(k, csv(line('U-1'), line('U-2'), line('U-3')), opts);
    const plan = await importCatalog(k, csv(line('U-1', { cost: '150', territories: 'PF|WF' }), line('U-2')), { ...opts, dryRun: true, replace: true });
    expect(plan.details.updated).toEqual([{ line: 2, sku: 'U-1', fields: ['cost', 'territories'] }]);
    expect(plan).toMatchObject({ new: 0, updated: 1, unchanged: 1 });
    expect(plan.deactivated).toBe(16); // U-3 and the 15 active French rewards (OLD-NOEL2025 is already inactive)
    expect(plan.details.deactivated).toContain('U-3');
    const count = Number((await k('rewards').count({ n: '*' }))[0].n);
    const res = await importCatalog(k, csv(line('U-1', { cost: '150', territories: 'PF|WF' }), line('U-2')), { ...opts, replace: true });
    expect(res.deactivated).toBe(16);
    expect(Number((await k('rewards').count({ n: '*' }))[0].n)).toBe(count);
    expect((await k('rewards').where({ sku: 'U-3' }).first()).active).toBe(false);
    const u1 = await k('rewards').where({ sku: 'U-1' }).first();
    expect(u1.cost).toBe(150);
    expect(u1.territories).toEqual(['PF', 'WF']);
    expect(await k('catalog_offers').where({ reward_id: u1.id }).orderBy('territory_code').pluck('territory_code')).toEqual(['PF', 'WF']);
    // Back to the full French catalog for the next tests.
    await importCatalog(k, path.join(FIX, 'catalog-fr-spreadsheet.csv'), opts);
  });

  it('refuses a stock below the units already redeemed, naming the line', async () => {
    const k = t.db.knex;
    await importCatalog(k, csv(line('S-1', { stock: '5' })), opts);
    await k('rewards').where({ sku: 'S-1' }).update({ units_taken: 3 });
    const rejectFile = path.join(dir, 'stock-rejects.csv');
    const e = await rejection(importCatalog(k, csv(line('S-0'), line('S-1', { stock: '2', name: "'=S1" })), { ...opts, rejectFile }));
    expect(e.details).toEqual([expect.objectContaining({ where: 'line 3, column stock', message: expect.stringMatching(/3 unit\(s\) are already redeemed/) })]);
    expect(fs.readFileSync(rejectFile, 'utf8').trim().split('\n')).toEqual([
      `line,${HEADER},error`,
      "3,S-1,'=S1,,100,culture,FENUA,WF,2026-01-01,2026-12-31,2,instant,true,column stock: 3 unit(s) are already redeemed; the total supplied cannot be below that (got 2)",
    ]);
    expect(await k('rewards').where({ sku: 'S-0' }).first()).toBeUndefined();
    expect((await k('rewards').where({ sku: 'S-1' }).first()).stock).toBe(5);
  });
});

describe('catalog import: bad input', () => {
  const refuse = async (file: string) => {
    const before = await signature();
    const e = await rejection(importCatalog(t.db.knex, file, opts));
    expect(e).toMatchObject({ code: 'VALIDATION_ERROR' });
    expect(await signature()).toBe(before);
    return (e.details ?? []).map((d) => `${d.where}: ${d.message}`);
  };

  it('wrong header: missing required column, unknown column', async () => {
    const d = await refuse(write('sku,name,cost,category,partner,territories,available_from,available_to,colour\nA,B,1,food,BOUTIK,RE,2026-01-01,2026-02-01,red\n'));
    expect(d).toEqual([expect.stringMatching(/^line 1, column colour: unknown column/), 'line 1, column stock: required column is missing']);
  });
  it('empty file and header only', async () => {
    expect((await refuse(write('')))[0]).toMatch(/empty/);
    expect(await refuse(csv())).toEqual(['line 2: the file has a header but no data rows: nothing to import']);
  });
  it('a 10 MB single field', async () => {
    const d = await refuse(csv(line('BIG', { description: `"${'x'.repeat(10 * 1024 * 1024)}"` })));
    expect(d).toEqual(['line 2, column description: longer than 4000 characters (10485760)']);
  });
  it('every bad row and cell reported at once, with a reject file; one good row among them is not written', async () => {
    const rejectFile = path.join(dir, 'rejects.csv');
    const file = csv(
      line('OK-1'),
      line('BAD-DATE', { available_to: '31/12/2026' }),
      line('BAD-STOCK', { stock: '-3' }),
      line('BAD-COST', { cost: '"1,5"' }),
      line('BAD-PARTNER', { partner: 'NOPE' }),
      line('BAD-TERR', { territories: 'RE|XX' }),
      line('OK-1', { name: 'dup' }),
      'SHORT,row',
    );
    const before = await signature();
    const e = await rejection(importCatalog(t.db.knex, file, { ...opts, rejectFile }));
    expect(await signature()).toBe(before);
    expect(e.message).toMatch(/7 error\(s\); nothing was written \(refused rows written to .*rejects\.csv\)/);
    expect((e.details ?? []).map((x) => x.where)).toEqual([
      'line 3, column available_to', 'line 4, column stock', 'line 5, column cost', 'line 6, column partner', 'line 7, column territories', 'line 8, column sku', 'line 9',
    ]);
    expect(e.details?.[0].message).toMatch(/YYYY-MM-DD/);
    expect(e.details?.[5].message).toBe('duplicate sku "OK-1" (first on line 2)');
    const rejects = fs.readFileSync(rejectFile, 'utf8').trim().split('\n');
    expect(rejects[0]).toBe(`line,${HEADER},error`);
    expect(rejects).toHaveLength(8);
    expect(rejects[1]).toMatch(/^3,BAD-DATE,.*,"column available_to: must be a date as YYYY-MM-DD/);
    // A duplicate is found after reading: its row is written back whole, as an export writes it.
    expect(rejects).toContain('8,OK-1,dup,,100,culture,FENUA,WF,2026-01-01,2026-12-31,10,instant,true,"column sku: duplicate sku ""OK-1"" (first on line 2)"');
    expect(await t.db.knex('rewards').where({ sku: 'OK-1' }).first()).toBeUndefined();
  });
  it('doubled quotes inside a quoted cell are one quote, through COPY and through the JS reader', async () => {
    const k = t.db.knex;
    // The second file has a cost with a space around it: the COPY path leaves such rows to the JS reader.
    await importCatalog(k, csv(line('Q-1', { name: '"Le ""Pass"" musée"', description: '"a ""b"", c\r\nd"' })), opts);
    await importCatalog(k, csv(line('Q-2', { name: '"Le ""Pass"" musée"', description: '"a ""b"", c\r\nd"', cost: ' 100 ' })), opts);
    for (const sku of ['Q-1', 'Q-2']) {
      expect(await k('rewards').where({ sku }).first()).toMatchObject({ name: 'Le "Pass" musée', description: 'a "b", c\r\nd', cost: 100 });
    }
  });
  it('shows the first 1,000 problems and counts the rest; the reject file has every bad row', async () => {
    const rejectFile = path.join(dir, 'many-rejects.csv');
    const rows = Array.from({ length: 1005 }, (_, i) => line(`MANY-${i}`, { cost: 'abc' }));
    const e = await rejection(importCatalog(t.db.knex, csv(...rows), { ...opts, rejectFile }));
    expect(e.message).toMatch(/^c\d+\.csv: 1005 error\(s\); nothing was written/);
    expect(e.details).toHaveLength(1001);
    expect(e.details?.[999].where).toBe('line 1001, column cost');
    expect(e.details?.[1000]).toEqual({ where: '…', message: '5 more error(s) not shown (use --reject-file to get every refused row)' });
    const rejected = fs.readFileSync(rejectFile, 'utf8').trim().split('\n');
    expect(rejected).toHaveLength(1006);
    expect(rejected[1005]).toMatch(/^1006,MANY-1004,/);
  });
  it('formula cells are stored without their neutralising quote', async () => {
    await importCatalog(t.db.knex, csv(line('F-1', { name: "'=1+1", description: "'@cmd" })), opts);
    expect(await t.db.knex('rewards').where({ sku: 'F-1' }).first()).toMatchObject({ name: '=1+1', description: '@cmd' });
  });
});

describe('catalog views', () => {
  it('the app page lists what is available now in the territory, with units still available', async () => {
    const k = t.db.knex;
    await k('rewards').where({ sku: 'BOUTIK-BA10' }).update({ units_taken: 499 });
    const re = await catalogPage(k, { territory: 'RE', page: 1, limit: 100, now: NOW });
    const skus = re.items.map((i) => i.sku);
    expect(skus).toEqual(expect.arrayContaining(['BOUTIK-BA10', 'BOUTIK-BA20', 'TEL-RECH5', 'TEL-RECH10', 'CINE-PLACE', 'DON-CROIXROUGE']));
    expect(skus).not.toContain('TIMARCHE-PANIER'); // window ended 2026-09-30
    expect(skus).not.toContain('OLD-NOEL2025'); // inactive
    expect(skus).not.toContain('MUSEE-PASS'); // NC only
    expect(re.total).toBe(re.items.length);
    expect(re.items.find((i) => i.sku === 'BOUTIK-BA10')).toMatchObject({ stock: 1, territories: ['RE'], partner: 'BOUTIK', category: 'food' });
    expect(re.items.find((i) => i.sku === 'TEL-RECH5')).toMatchObject({ stock: null, territories: ['*'] });
    const ids = re.items.map((i) => i.id);
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
    await k('rewards').where({ sku: 'BOUTIK-BA10' }).update({ units_taken: 500 });
    const food = await catalogPage(k, { territory: 'RE', category: 'food', page: 1, limit: 1, now: NOW });
    expect(food).toMatchObject({ page: 1, limit: 1, total: 1 });
    expect(food.items.map((i) => i.sku)).toEqual(['BOUTIK-BA20']); // BA10 sold out
    await k('rewards').where({ sku: 'BOUTIK-BA10' }).update({ units_taken: 0 });
  });
  it('uses the territory local date: GUYANE-PIROGUE ends 2026-11-30 in Cayenne', async () => {
    const k = t.db.knex;
    const at = (iso: string) => catalogPage(k, { territory: 'GF', page: 1, limit: 100, now: new Date(iso) });
    expect((await at('2026-12-01T02:59:00Z')).items.map((i) => i.sku)).toContain('GUYANE-PIROGUE'); // 23:59 on the 30th in GF
    expect((await at('2026-12-01T03:00:00Z')).items.map((i) => i.sku)).not.toContain('GUYANE-PIROGUE');
  });
  it('the ops list filters by territory, category, partner, availability and text', async () => {
    const k = t.db.knex;
    const l = (f: Record<string, unknown>) => listCatalog(k, { now: NOW, page: 1, limit: 100, ...f }).then((r) => r.items.map((i) => i.sku));
    expect(await l({ partner: 'KARUVOY' })).toEqual(['KARU-BAGAGE', 'KARU-VOL15']);
    expect(await l({ search: 'pirogue' })).toEqual(['GUYANE-PIROGUE']);
    expect(await l({ territory: 'YT', category: 'charity' })).toEqual(['DON-CROIXROUGE', 'DON-TORTUES']);
    expect(await l({ partner: 'BOUTIK', available: true })).toEqual(['BOUTIK-BA10', 'BOUTIK-BA20']);
    expect(await l({ search: '100%_' })).toEqual([]);
    await expect(listCatalog(k, { now: NOW, page: 1, limit: 10, territory: 'XX' })).rejects.toMatchObject({ code: 'VALIDATION_ERROR' });
  });
  it('catalog_offers (the page index) stays equal to what rewards say, through every kind of change', async () => {
    const k = t.db.knex;
    await importCatalog(k, csv(line('FLIP-1', { territories: '*' }), line('FLIP-2', { territories: 'RE|YT' }), line('FLIP-3', { active: 'false' })), opts);
    await importCatalog(k, csv(line('FLIP-1', { territories: 'RE|GP' }), line('FLIP-2', { territories: '*', category: 'food' }), line('FLIP-3', { available_to: '2026-06-30' })), opts);
    await importCatalog(k, csv(line('FLIP-1', { territories: 'GP', active: 'false' }), line('FLIP-2', { territories: 'YT' }), line('FLIP-3', { active: 'true', territories: 'NC|PF' })), opts);
    await k('rewards').where({ sku: 'FLIP-1' }).update({ active: true });
    const truth = `select t.code, r.id, r.category_code, r.available_from, r.available_to
                     from rewards r join territories t
                       on r.all_territories or t.code = any(r.territories)
                    where r.active`;
    const offers = 'select territory_code, reward_id, category_code, available_from, available_to from catalog_offers';
    const { rows } = await k.raw(`(${truth} except ${offers}) union all (${offers} except ${truth})`);
    expect(rows).toEqual([]);
    const flip2 = await k('rewards').where({ sku: 'FLIP-2' }).first('id');
    expect(await k('catalog_offers').where({ reward_id: flip2.id }).pluck('territory_code')).toEqual(['YT']);
    expect(Number((await k('catalog_offers').count({ n: '*' }))[0].n)).toBeGreaterThan(40);
  });
});
